"""FEEL evaluation: the syntax tree compiled into nested Python closures, once per expression."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import date, timedelta
from decimal import Decimal
from typing import Any, Final

from legato.expressions._deadline import tick
from legato.expressions.feel._arithmetic import _ARITHMETIC, _COMPARISONS
from legato.expressions.feel._builtins import _BUILTINS, _whole
from legato.expressions.feel._syntax import (
    _Between,
    _Binary,
    _Call,
    _Context,
    _Filter,
    _For,
    _FunctionDefinition,
    _If,
    _In,
    _InstanceOf,
    _Invoke,
    _List,
    _Literal,
    _Name,
    _Negate,
    _Node,
    _Path,
    _RangeNode,
    _Test,
)
from legato.expressions.feel._values import (
    _Callable,
    _equal,
    _in_range,
    _is_number,
    _kind,
    _order,
    _property,
    _Range,
    _spend,
    _YearsMonths,
)

_NUMBER_TYPES: Final = frozenset({int, Decimal, float})

# --- compiling the tree into closures -----------------------------------------------------


class _Scope:
    """Names visible to an evaluation: local bindings, then the variables; and the work budget."""

    __slots__ = ("parent", "values", "work")

    def __init__(self, values: Mapping[str, Any], parent: _Scope | None, work: list[int]) -> None:
        self.values = values
        self.parent = parent
        self.work = work

    def find(self, name: str) -> tuple[bool, Any]:
        scope: _Scope | None = self
        while scope is not None:
            values = scope.values
            if name in values:
                return True, values[name]
            scope = scope.parent
        return False, None


Run = Callable[[_Scope], Any]


def _compile(node: _Node) -> Run:
    compiler = _COMPILERS[type(node)]
    return compiler(node)


def _compile_literal(node: _Node) -> Run:
    assert isinstance(node, _Literal)
    value = node.value
    return lambda scope: value


def _compile_name(node: _Node) -> Run:
    assert isinstance(node, _Name)
    name = node.name

    def run(scope: _Scope) -> Any:
        current: _Scope | None = scope
        while current is not None:
            values = current.values
            if name in values:
                return values[name]
            current = current.parent
        return None

    return run


def _path_value(value: Any, key: str, work: list[int]) -> Any:
    if isinstance(value, Mapping):
        return value.get(key)
    if isinstance(value, list | tuple):
        _spend(work, len(value), "reading a key of every item")
        return [_path_value(item, key, work) for item in value]
    return _property(value, key)


def _compile_path(node: _Node) -> Run:
    assert isinstance(node, _Path)
    base, key = _compile(node.base), node.key

    def run(scope: _Scope) -> Any:
        value = base(scope)
        if type(value) is dict:
            return value.get(key)
        return _path_value(value, key, scope.work)

    return run


def _compile_filter(node: _Node) -> Run:
    assert isinstance(node, _Filter)
    base, condition = _compile(node.base), _compile(node.condition)

    def run(scope: _Scope) -> Any:
        value = base(scope)
        if value is None:
            return None
        items = list(value) if isinstance(value, list | tuple) else [value]
        _spend(scope.work, len(items), "filtering this list")
        kept = []
        for position, item in enumerate(items):
            tick()
            inner = _Scope({"item": item}, scope, scope.work)
            if isinstance(item, Mapping):
                inner = _Scope(item, inner, scope.work)
            outcome = condition(inner)
            if position == 0 and _is_number(outcome):
                index = int(outcome)
                if index == 0 or abs(index) > len(items):
                    return None
                return items[index - 1 if index > 0 else index]
            if outcome is True:
                kept.append(item)
        return kept

    return run


def _compile_call(node: _Node) -> Run:
    assert isinstance(node, _Call)
    if node.function == "is defined":
        keys: list[str] = []
        target = node.arguments[0]
        while isinstance(target, _Path):
            keys.append(target.key)
            target = target.base
        assert isinstance(target, _Name)
        root, keys = target.name, keys[::-1]

        def defined(scope: _Scope) -> Any:
            found, value = scope.find(root)
            for key in keys:
                if not found or not isinstance(value, Mapping) or key not in value:
                    return False
                value = value[key]
            return found

        return defined
    implementation = _BUILTINS[node.function].implementation
    arguments = tuple(_compile(argument) for argument in node.arguments)

    def run(scope: _Scope) -> Any:
        values = [argument(scope) for argument in arguments]
        try:
            return implementation(scope.work, *values)
        except (ValueError, TypeError, OverflowError, ArithmeticError, KeyError):
            return None  # FEEL: a function that cannot be applied gives null

    return run


def _compile_negate(node: _Node) -> Run:
    assert isinstance(node, _Negate)
    operand = _compile(node.operand)

    def run(scope: _Scope) -> Any:
        value = operand(scope)
        if _is_number(value) or isinstance(value, timedelta):
            return -value
        if isinstance(value, _YearsMonths):
            return _YearsMonths(-value.months)
        return None

    return run


def _compile_binary(node: _Node) -> Run:
    assert isinstance(node, _Binary)
    left, right, operator_text = _compile(node.left), _compile(node.right), node.operator
    if operator_text == "and":

        def conjunction(scope: _Scope) -> Any:
            a = left(scope)
            if a is False:
                return False
            b = right(scope)
            if b is False:
                return False
            return True if a is True and b is True else None

        return conjunction
    if operator_text == "or":

        def disjunction(scope: _Scope) -> Any:
            a = left(scope)
            if a is True:
                return True
            b = right(scope)
            if b is True:
                return True
            return False if a is False and b is False else None

        return disjunction
    if operator_text in ("=", "!="):
        negate = operator_text == "!="

        def equality(scope: _Scope) -> Any:
            a, b = left(scope), right(scope)
            if type(a) is type(b) and (type(a) is str or type(a) is int or type(a) is bool):
                return (a != b) if negate else (a == b)
            same = _equal(a, b, scope.work)
            return same if same is None or not negate else not same

        return equality
    if operator_text in _COMPARISONS:
        compare = _COMPARISONS[operator_text]

        def comparison(scope: _Scope) -> Any:
            a, b = left(scope), right(scope)
            kind_a, kind_b = type(a), type(b)
            if (
                (kind_a is kind_b or kind_a is int or kind_b is int)
                and kind_a in _NUMBER_TYPES
                and kind_b in _NUMBER_TYPES
            ):
                return compare(a, b)  # a float against a Decimal goes through _order, as decimals
            ordering = _order(a, b)
            return None if ordering is None else compare(ordering, 0)

        return comparison
    arithmetic = _ARITHMETIC[operator_text]

    def calculation(scope: _Scope) -> Any:
        return arithmetic(scope.work, left(scope), right(scope))

    return calculation


def _compile_between(node: _Node) -> Run:
    assert isinstance(node, _Between)
    value, low, high = _compile(node.value), _compile(node.low), _compile(node.high)

    def run(scope: _Scope) -> Any:
        candidate, bottom, top = value(scope), low(scope), high(scope)
        if candidate is None or bottom is None or top is None:
            return None
        return _in_range(candidate, _Range(bottom, top, True, True))

    return run


TestRun = Callable[[Any, _Scope], "bool | None"]


def _compile_test(test: _Test) -> TestRun:
    operand = _compile(test.operand)
    if test.operator is not None:
        operator_text = test.operator

        def compare(candidate: Any, scope: _Scope) -> bool | None:
            value = operand(scope)
            if operator_text in ("=", "!="):
                same = _equal(candidate, value, scope.work)
                return same if same is None or operator_text == "=" else not same
            ordering = _order(candidate, value)
            return None if ordering is None else _COMPARISONS[operator_text](ordering, 0)

        return compare
    uses_input = test.uses_input

    def expression(candidate: Any, scope: _Scope) -> bool | None:
        value = operand(_Scope({"?": candidate}, scope, scope.work) if uses_input else scope)
        if uses_input:
            return value if isinstance(value, bool) else None
        if isinstance(value, _Range):
            return _in_range(candidate, value)
        if isinstance(value, list | tuple) and not isinstance(candidate, list | tuple):
            _spend(scope.work, len(value), "looking through this list")
            outcomes = [
                _in_range(candidate, item) if isinstance(item, _Range) else _equal(candidate, item, scope.work)
                for item in value
            ]
            return True if True in outcomes else (False if all(o is False for o in outcomes) else None)
        if isinstance(value, bool) and candidate is not None and not isinstance(candidate, bool):
            return value  # a test of other variables, such as `amount > 10` (Camunda reads it so)
        return _equal(candidate, value, scope.work)

    return expression


def _any_test(tests: tuple[TestRun, ...], candidate: Any, scope: _Scope) -> bool | None:
    """Unary tests separated by commas: true if one is true, null if none is but one is null."""
    outcome: bool | None = False
    for test in tests:
        result = test(candidate, scope)
        if result is True:
            return True
        if result is None:
            outcome = None
    return outcome


def _compile_in(node: _Node) -> Run:
    assert isinstance(node, _In)
    value = _compile(node.value)
    tests = tuple(_compile_test(test) for test in node.tests)
    return lambda scope: _any_test(tests, value(scope), scope)


def _instance_of(value: Any, type_name: Any) -> bool:
    """`value instance of type` (DMN 1.5, 10.3.2.9.4), parameterised types included."""
    if isinstance(type_name, tuple):
        generic = type_name[0]
        if generic == "list":
            return isinstance(value, list | tuple) and all(_instance_of(item, type_name[1]) for item in value)
        if generic == "range":
            ends = () if not isinstance(value, _Range) else (value.low, value.high)
            return isinstance(value, _Range) and all(_instance_of(end, type_name[1]) for end in ends if end is not None)
        if generic == "context":
            return isinstance(value, Mapping) and all(
                key in value and _instance_of(value[key], entry) for key, entry in type_name[1]
            )
        return isinstance(value, _Callable) and len(value.parameters) == len(type_name[1])
    if type_name == "Any":
        return value is not None
    if type_name == "Null":
        return value is None
    return bool(_kind(value) == type_name)


def _compile_instance_of(node: _Node) -> Run:
    assert isinstance(node, _InstanceOf)
    value, type_name = _compile(node.value), node.type_name
    return lambda scope: _instance_of(value(scope), type_name)


def _compile_if(node: _Node) -> Run:
    assert isinstance(node, _If)
    condition, then, otherwise = _compile(node.condition), _compile(node.then), _compile(node.otherwise)
    return lambda scope: then(scope) if condition(scope) is True else otherwise(scope)


def _domain(value: Any, end: Any, work: list[int]) -> Iterable[Any] | None:
    """What `for x in ...` goes through: a list, a range of whole numbers, or `a..b`."""
    low_closed = high_closed = True
    if isinstance(value, _Range):
        value, end, low_closed, high_closed = value.low, value.high, value.low_closed, value.high_closed
    elif end is None:
        if isinstance(value, list | tuple):
            _spend(work, len(value), "going through this list")
            return value
        return None
    if type(value) is date and type(end) is date:  # `for d in @"2024-01-01"..@"2024-01-31"`
        days = (end - value).days
        step_days = 1 if days >= 0 else -1
        first_day = value if low_closed else value + timedelta(days=step_days)
        last_day = end if high_closed else end - timedelta(days=step_days)
        count = (last_day - first_day).days * step_days + 1
        if count <= 0:
            return ()
        _spend(work, count, "going through these days")
        return [first_day + timedelta(days=step_days * offset) for offset in range(count)]
    if not (_whole(value) and _whole(end)):
        return None
    first, last = int(value), int(end)
    step = 1 if last >= first else -1
    first += 0 if low_closed else step
    last -= 0 if high_closed else step
    if (last - first) * step < 0:
        return ()
    _spend(work, abs(last - first) + 1, f"going from {first} to {last}")
    return range(first, last + step, step)


class _NullDomain(Exception):
    """A `for` ranged over something that is not a list: the whole result is null."""


def _compile_for(node: _Node) -> Run:
    assert isinstance(node, _For)
    iterations = [
        (iteration.name, _compile(iteration.domain), None if iteration.end is None else _compile(iteration.end))
        for iteration in node.iterations
    ]
    body, quantifier, last = _compile(node.body), node.quantifier, len(iterations) - 1

    def run(scope: _Scope) -> Any:
        def walk(index: int, bound: dict[str, Any]) -> Iterable[_Scope]:
            name, domain, end = iterations[index]
            inner = _Scope(bound, scope, scope.work)
            items = _domain(domain(inner), None if end is None else end(inner), scope.work)
            if items is None:
                raise _NullDomain
            for item in items:
                tick()
                chosen = {**bound, name: item}
                if index == last:
                    yield _Scope(chosen, scope, scope.work)
                else:
                    yield from walk(index + 1, chosen)

        try:
            if quantifier == "some":
                return any(body(inner) is True for inner in walk(0, {}))
            if quantifier == "every":
                return all(body(inner) is True for inner in walk(0, {}))
            results: list[Any] = []
            for inner in walk(0, {"partial": results}):  # `partial`: the results so far (10.3.2.14)
                results.append(body(inner))
            return results
        except _NullDomain:
            return None

    return run


class _Lambda(_Callable):
    """A user function: its parameters, its compiled body, and the scope it was defined in."""

    __slots__ = ("body", "parameters", "scope")

    def __init__(self, parameters: tuple[str, ...], body: Run, scope: _Scope) -> None:
        self.parameters = parameters
        self.body = body
        self.scope = scope

    def call(self, arguments: list[Any]) -> Any:
        tick()
        return self.body(_Scope(dict(zip(self.parameters, arguments, strict=True)), self.scope, self.scope.work))


def _compile_function_definition(node: _Node) -> Run:
    assert isinstance(node, _FunctionDefinition)
    parameters, body = node.parameters, _compile(node.body)
    return lambda scope: _Lambda(parameters, body, scope)


def _compile_invoke(node: _Node) -> Run:
    """A call of a function value; not a function, or arguments that do not fit, give null (10.3.2.13)."""
    assert isinstance(node, _Invoke)
    callee, names = _compile(node.callee), node.names
    arguments = tuple(_compile(argument) for argument in node.arguments)

    def run(scope: _Scope) -> Any:
        function = callee(scope)
        values = [argument(scope) for argument in arguments]
        if not isinstance(function, _Callable):
            return None
        parameters = function.parameters
        if names is not None:
            if not set(names) <= set(parameters) or len(set(names)) != len(names):
                return None
            by_name = dict(zip(names, values, strict=True))
            values = [by_name.get(parameter) for parameter in parameters]
        if len(values) != len(parameters):
            return None
        return function.call(values)

    return run


def _compile_list(node: _Node) -> Run:
    assert isinstance(node, _List)
    items = tuple(_compile(item) for item in node.items)
    return lambda scope: [item(scope) for item in items]


def _compile_context(node: _Node) -> Run:
    assert isinstance(node, _Context)
    entries = tuple((key, _compile(value)) for key, value in node.entries)

    def run(scope: _Scope) -> Any:
        built: dict[str, Any] = {}
        inner = _Scope(built, scope, scope.work)
        for key, value in entries:
            built[key] = value(inner)
        return built

    return run


def _compile_range(node: _Node) -> Run:
    assert isinstance(node, _RangeNode)
    low, high, low_closed, high_closed = _compile(node.low), _compile(node.high), node.low_closed, node.high_closed
    return lambda scope: _Range(low(scope), high(scope), low_closed, high_closed)


_COMPILERS: Final[dict[type[_Node], Callable[[_Node], Run]]] = {
    _Literal: _compile_literal,
    _Name: _compile_name,
    _Path: _compile_path,
    _Filter: _compile_filter,
    _Call: _compile_call,
    _Negate: _compile_negate,
    _Binary: _compile_binary,
    _Between: _compile_between,
    _In: _compile_in,
    _InstanceOf: _compile_instance_of,
    _If: _compile_if,
    _For: _compile_for,
    _List: _compile_list,
    _Context: _compile_context,
    _RangeNode: _compile_range,
    _FunctionDefinition: _compile_function_definition,
    _Invoke: _compile_invoke,
}
