"""Expressions: one interface, three dialects, and the safe Python-like one that is Legato's own.

`compile_expression` reads what the text says it is (DESIGN.md, "Expressions"): text that
starts with `=` is FEEL, as Camunda 8 models write it (`legato.model.feel`); text that starts
with `${` or `#{`, or holds one outside a quoted string, is JUEL, as Camunda 7 models write it
(`legato.model.juel`); anything else is the Legato dialect below. Each compiles to an
`Expression`, the one interface the engine calls. Scripts are Legato dialect only.

The Legato dialect: Python syntax, a whitelist of it, and no way out.

Conditions, variable mappings, scripts and correlation keys are data in a model, and a
model can come from anyone with deploy rights (DESIGN.md, "Expressions"), so their text is
never run as written. `compile_expression` parses it with `ast`, checks every node against
a whitelist and rewrites what is left into guarded Python: a variable becomes a lookup in
the mapping given at evaluation, `a.b` becomes a dict lookup (never `getattr`), operators
that can blow up (`+ * ** << %`) become calls to guards, and a function call can only reach
the fixed functions below. The result is compiled once into a plain function whose
builtins are empty, so evaluating costs one Python call (about 0.1 µs for
`amount > 1000 and region == "EU"`; docs/expressions.md says how that was measured).

docs/expressions.md is the user reference: operators, functions, what is rejected and why.
"""

from __future__ import annotations

import ast
import math
import re
import reprlib
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Final, Literal, NoReturn

from legato.errors import EvaluationError, ExpressionInvalid

__all__ = [
    "FUNCTIONS",
    "MAX_DEPTH",
    "MAX_INT_BITS",
    "MAX_NODES",
    "MAX_SOURCE_LENGTH",
    "MAX_WORK",
    "Expression",
    "Script",
    "compile_expression",
    "compile_script",
    "dialect_of",
]

MAX_SOURCE_LENGTH: Final = 10_000
"""Longest expression or script accepted, in characters."""
MAX_NODES: Final = 5_000
"""Most syntax nodes (names, constants, operations) in one expression or script."""
MAX_DEPTH: Final = 100
"""Deepest nesting of syntax nodes; Python's own compiler recurses on it."""
MAX_INT_BITS: Final = 10_000
"""Largest integer `*`, `**` and `<<` may produce (about 3,000 decimal digits)."""
MAX_WORK: Final = 2_000_000
"""Items and characters one evaluation (or script run) may build or inspect, in total.

Building a string, list or tuple with `+` or `*` costs its length (nested items count each
time they appear), `str()` costs the size of what it converts, and a script assignment the
size of the value assigned (numbers, booleans and None are free). A hostile expression
cannot eat memory through many small repetitions, or through values that share parts.
"""
_MAX_ROUND_DIGITS: Final = 1_000

Function = Callable[[Mapping[str, Any], list[int]], Any]


class _Fault(Exception):
    """A guard or function refused its operands; the caller names the expression."""


# --- values -------------------------------------------------------------------------------

_SEQUENCES: Final = (str, list, tuple)
_NESTED: Final = (str, list, tuple, set, frozenset, dict)
_SCALARS: Final = frozenset({bool, int, float, type(None)})


def _kind(value: object) -> str:
    return "None" if value is None else type(value).__name__


def _describe(value: object) -> str:
    if value is None:
        return "None"
    try:
        shown = reprlib.repr(value)
    except ValueError:  # an int past Python's conversion limit
        shown = "(too long to show)"
    return f"{type(value).__name__} {shown}"


def _size(value: object, budget: int) -> int:
    """Items and characters in `value`, counting a shared part each time it appears.

    Stops as soon as the count passes `budget`, so it is cheap on anything too large.
    """
    total = 0
    pending: list[object] = [value]
    while pending and total <= budget:
        item = pending.pop()
        if isinstance(item, str):
            total += len(item)
        elif isinstance(item, Mapping):
            total += len(item)
            if total <= budget:
                pending.extend(k for k in item if isinstance(k, _NESTED))
                pending.extend(v for v in item.values() if isinstance(v, _NESTED))
        elif isinstance(item, list | tuple | set | frozenset):
            total += len(item)
            if total <= budget:
                pending.extend(x for x in item if isinstance(x, _NESTED))
    return total


# --- guarded operators --------------------------------------------------------------------


def _spend(work: list[int], amount: int, what: str) -> None:
    """Take `amount` from the evaluation's budget (a one-item list, to be cheap to pass)."""
    work[0] -= amount
    if work[0] < 0:
        raise _Fault(f"{what} goes over the limit of {MAX_WORK:,} items and characters that one evaluation may build")


def _add(work: list[int], left: Any, right: Any) -> Any:
    if isinstance(left, _SEQUENCES) and isinstance(right, _SEQUENCES):
        _spend(work, len(left) + len(right), "joining these")
    try:
        return left + right
    except TypeError:
        raise _Fault(f"cannot add {_kind(left)} and {_kind(right)}") from None


def _repeat(work: list[int], sequence: str | list[Any] | tuple[Any, ...], count: int) -> None:
    if count <= 0:
        return
    each = len(sequence) if isinstance(sequence, str) else _size(sequence, work[0] // count + 1)
    _spend(work, each * count, f"repeating a {type(sequence).__name__} {count:,} times")


def _multiply(work: list[int], left: Any, right: Any) -> Any:
    if isinstance(left, int) and isinstance(right, int):
        if left.bit_length() + right.bit_length() > MAX_INT_BITS:
            raise _Fault(f"the product would have more than {MAX_INT_BITS:,} bits")
    elif isinstance(right, int) and isinstance(left, _SEQUENCES):
        _repeat(work, left, right)
    elif isinstance(left, int) and isinstance(right, _SEQUENCES):
        _repeat(work, right, left)
    return left * right


def _power(base: Any, exponent: Any) -> Any:
    if (
        isinstance(base, int)
        and isinstance(exponent, int)
        and abs(base) > 1
        and exponent > MAX_INT_BITS / math.log2(abs(base))
    ):
        raise _Fault(f"the power would have more than {MAX_INT_BITS:,} bits")
    result = base**exponent
    if isinstance(result, complex):
        raise _Fault("a negative number to a fractional power has no real result")
    return result


def _shift_left(value: Any, count: Any) -> Any:
    if isinstance(value, int) and isinstance(count, int) and value and value.bit_length() + count > MAX_INT_BITS:
        raise _Fault(f"the shift would make more than {MAX_INT_BITS:,} bits")
    return value << count


def _modulo(left: Any, right: Any) -> Any:
    if isinstance(left, str):
        raise _Fault("% does not format text here; join text with + and str()")
    return left % right


# --- lookups ------------------------------------------------------------------------------


def _attribute(value: Any, key: str, base: str) -> Any:
    """`base.key`: a key of a dict, never a Python attribute."""
    if isinstance(value, dict) or isinstance(value, Mapping):  # noqa: SIM101 - dict is the fast path
        try:
            return value[key]
        except KeyError:
            raise _Fault(f"{base} has no key {key!r}") from None
    raise _Fault(f"{base} is {_describe(value)}, not a dict, so it has no key {key!r}")


def _item(value: Any, key: Any, base: str) -> Any:
    """`base[key]` on a dict, a list, a tuple or text."""
    if isinstance(value, dict) or isinstance(value, Mapping):  # noqa: SIM101 - dict is the fast path
        try:
            return value[key]
        except KeyError:
            raise _Fault(f"{base} has no key {key!r}") from None
    if isinstance(value, _SEQUENCES):
        if not isinstance(key, int | slice):
            raise _Fault(f"{base} is a {type(value).__name__}; its index must be a whole number")
        try:
            return value[key]
        except IndexError:
            raise _Fault(f"{base} has no item {key} (it has {len(value)})") from None
    raise _Fault(f"{base} is {_describe(value)}; only dicts, lists and text can be indexed")


def _lookup(scope: Mapping[str, Any], keys: tuple[str, ...]) -> tuple[bool, Any]:
    current: Any = scope
    for key in keys:
        if not isinstance(current, Mapping) or key not in current:
            return False, None
        current = current[key]
    return True, current


# --- functions ----------------------------------------------------------------------------


def _exists(scope: Mapping[str, Any], keys: tuple[str, ...]) -> bool:
    return _lookup(scope, keys)[0]


def _value(scope: Mapping[str, Any], keys: tuple[str, ...], default: Any = None) -> Any:
    found, value = _lookup(scope, keys)
    return value if found else default


def _get(container: Any, key: Any, default: Any = None) -> Any:
    if container is None:
        return default
    if isinstance(container, Mapping):
        try:
            return container.get(key, default)
        except TypeError:
            raise _Fault(f"get(): {_describe(key)} cannot be a dict key") from None
    if isinstance(container, _SEQUENCES) and isinstance(key, int):
        return container[key] if -len(container) <= key < len(container) else default
    raise _Fault(f"get() needs a dict, or a list or text and a whole-number index, not {_kind(container)}")


def _text(name: str, *values: Any) -> None:
    for value in values:
        if not isinstance(value, str):
            raise _Fault(f"{name}() needs text, not {_describe(value)}")


def _lower(value: Any) -> str:
    _text("lower", value)
    return str(value).lower()


def _upper(value: Any) -> str:
    _text("upper", value)
    return str(value).upper()


def _startswith(value: Any, prefix: Any) -> bool:
    _text("startswith", value, prefix)
    return str(value).startswith(prefix)


def _endswith(value: Any, suffix: Any) -> bool:
    _text("endswith", value, suffix)
    return str(value).endswith(suffix)


def _contains(container: Any, item: Any) -> bool:
    if isinstance(container, str):
        _text("contains", item)
    elif not isinstance(container, Mapping | list | tuple | set | frozenset):
        raise _Fault(f"contains() needs text, a list or a dict, not {_describe(container)}")
    return bool(item in container)


def _sum(values: Any) -> Any:
    for value in values:
        if not isinstance(value, int | float):
            raise _Fault(f"sum() adds numbers, not {_describe(value)}")
    return sum(values)


def _round(number: Any, digits: Any = None) -> Any:
    if digits is None:
        return round(number)
    if not isinstance(digits, int) or abs(digits) > _MAX_ROUND_DIGITS:
        limit = _MAX_ROUND_DIGITS
        raise _Fault(f"round() needs a whole number of digits from -{limit} to {limit}")
    return round(number, digits)


def _str(work: list[int], value: Any) -> str:
    if type(value) not in _SCALARS:
        _spend(work, _size(value, work[0]), "turning this into text")
    return str(value)


@dataclass(frozen=True, slots=True)
class _Function:
    implementation: Callable[..., Any]
    fewest: int
    most: int | None
    takes_path: bool = False  # first argument is a quoted variable name or dotted path
    takes_work: bool = False  # first argument is the evaluation's budget

    def arity(self) -> str:
        if self.most == self.fewest:
            return f"exactly {self.fewest} argument{'s' if self.fewest != 1 else ''}"
        if self.most is None:
            return f"at least {self.fewest} argument{'s' if self.fewest != 1 else ''}"
        return f"{self.fewest} to {self.most} arguments"


_FUNCTIONS: Final[dict[str, _Function]] = {
    "len": _Function(len, 1, 1),
    "min": _Function(min, 1, None),
    "max": _Function(max, 1, None),
    "sum": _Function(_sum, 1, 1),
    "abs": _Function(abs, 1, 1),
    "round": _Function(_round, 1, 2),
    "int": _Function(int, 1, 1),
    "float": _Function(float, 1, 1),
    "str": _Function(_str, 1, 1, takes_work=True),
    "bool": _Function(bool, 1, 1),
    "lower": _Function(_lower, 1, 1),
    "upper": _Function(_upper, 1, 1),
    "contains": _Function(_contains, 2, 2),
    "startswith": _Function(_startswith, 2, 2),
    "endswith": _Function(_endswith, 2, 2),
    "exists": _Function(_exists, 1, 1, takes_path=True),
    "value": _Function(_value, 1, 2, takes_path=True),
    "get": _Function(_get, 2, 3),
}
FUNCTIONS: Final = tuple(_FUNCTIONS)
"""The names an expression may call; nothing else is callable."""

_GUARDED_OPERATORS: Final[dict[type[ast.operator], tuple[str, bool]]] = {
    ast.Add: ("_add", True),  # (helper, whether it takes the evaluation's budget)
    ast.Mult: ("_multiply", True),
    ast.Pow: ("_power", False),
    ast.LShift: ("_shift_left", False),
    ast.Mod: ("_modulo", False),
}

# The only globals compiled code sees. Its builtins are empty, and since every variable is
# rewritten into `_vars[...]`/`_out[...]`, a variable can never shadow a helper.
_GLOBALS: Final[dict[str, Any]] = {
    "__builtins__": {},
    "_add": _add,
    "_multiply": _multiply,
    "_power": _power,
    "_shift_left": _shift_left,
    "_modulo": _modulo,
    "_attribute": _attribute,
    "_item": _item,
    "_slice": slice,
    **{f"_fn_{name}": function.implementation for name, function in _FUNCTIONS.items()},
}


# --- source positions ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Text:
    """The text that was parsed and where it sits in what the modeler wrote."""

    original: str
    body: str
    kind: Literal["expression", "script"]
    line_shift: int = 0  # lines before the body (whitespace before `${`)
    column_shift: int = 0  # columns before the body on its first line (`=`, `${`)
    indent: int = 0  # columns removed from every line of a script

    def invalid(self, message: str, line: int | None = None, column: int | None = None) -> ExpressionInvalid:
        """An error at `line` (1-based) and `column` (0-based characters) of the body."""
        original_lines = self.original.replace("\r\n", "\n").replace("\r", "\n").split("\n")
        if line is None or column is None:
            shown = self.original if len(self.original) <= 200 else self.original[:200] + "..."
            return ExpressionInvalid(message, source=shown)
        number = min(line + self.line_shift, len(original_lines))
        column += self.indent + (self.column_shift if line == 1 else 0)
        if self.kind == "script":
            return ExpressionInvalid(f"line {number}: {message}", source=original_lines[number - 1], offset=column)
        if len(original_lines) > 1:
            message = f"line {number}: {message}"
        return ExpressionInvalid(message, source=self.original, offset=column)

    def at_node(self, node: ast.AST, message: str, *, end: int = 0) -> ExpressionInvalid:
        """An error at `node`, or `end` characters before its end."""
        line = getattr(node, "end_lineno" if end else "lineno", None)
        byte_column = getattr(node, "end_col_offset" if end else "col_offset", None)
        if line is None or byte_column is None:
            return self.invalid(message)
        text = self.body.split("\n")[line - 1] if line <= self.body.count("\n") + 1 else ""
        column = len(text.encode()[:byte_column].decode(errors="ignore")) - end
        return self.invalid(message, line, column)


_HINTS: Final = (
    (re.compile(r"&&|\|\|"), "write 'and' and 'or' instead of && and ||"),
    (re.compile(r"(?<![=!<>])=(?!=)"), "compare with ==; a single = is not allowed"),
    (re.compile(r"!(?!=)"), "write 'not' instead of !"),
)


def _parse(text: _Text, mode: Literal["eval", "exec"]) -> ast.AST:
    try:
        return ast.parse(text.body, mode=mode)
    except SyntaxError as error:
        message = error.msg
        if text.kind == "expression":
            message += "".join(f"; {hint}" for rule, hint in _HINTS if rule.search(text.body))
        lines = text.body.split("\n")
        line = min(max(error.lineno or 1, 1), len(lines))
        offset = error.offset if error.offset and error.offset > 0 else len(lines[line - 1]) + 1
        raise text.invalid(message, line, min(offset - 1, len(lines[line - 1]))) from None
    except (RecursionError, MemoryError):
        raise text.invalid(f"the {text.kind} is nested too deeply") from None
    except ValueError as error:  # e.g. null bytes, on some Python versions
        raise text.invalid(str(error)) from None


_UNCOUNTED: Final = (ast.expr_context, ast.operator, ast.boolop, ast.cmpop, ast.unaryop)


def _check_bounds(tree: ast.AST, text: _Text) -> None:
    """Reject trees that are too big or too deep, without recursing on them."""
    count = 0
    pending: list[tuple[ast.AST, int]] = [(tree, 0)]
    while pending:
        node, depth = pending.pop()
        if isinstance(node, _UNCOUNTED):
            continue
        count += 1
        if depth > MAX_DEPTH:
            raise text.at_node(node, f"the {text.kind} is nested too deeply (limit {MAX_DEPTH})")
        if count > MAX_NODES:
            raise text.at_node(node, f"the {text.kind} has too many parts (limit {MAX_NODES:,})")
        pending.extend((child, depth + 1) for child in ast.iter_child_nodes(node))


# --- checking and rewriting ---------------------------------------------------------------

_CONSTANT_TYPES: Final = (bool, int, float, str)
_ALIASES: Final[dict[str, bool | None]] = {"true": True, "false": False, "null": None}
_REJECTED: Final[dict[type[ast.AST], str]] = {
    ast.Lambda: "lambda is not allowed",
    ast.ListComp: "comprehensions are not allowed",
    ast.SetComp: "comprehensions are not allowed",
    ast.DictComp: "comprehensions are not allowed",
    ast.GeneratorExp: "generator expressions are not allowed",
    ast.NamedExpr: "assignment expressions (:=) are not allowed",
    ast.Starred: "unpacking with * is not allowed",
    ast.JoinedStr: "f-strings are not allowed; join text with + and str()",
    ast.Await: "await is not allowed",
    ast.Yield: "yield is not allowed",
    ast.YieldFrom: "yield is not allowed",
    ast.Slice: "a slice is only allowed inside [ ]",
}


def _call(helper: str, *arguments: ast.expr) -> ast.expr:
    return ast.Call(func=ast.Name(helper, ast.Load()), args=list(arguments), keywords=[])


def _is_singleton(node: ast.expr) -> bool:
    return isinstance(node, ast.Constant) and any(node.value is v for v in (None, True, False))


def _is_identity_test(pair: list[ast.expr]) -> bool:
    """`x is None` and the like; `1 is None` is refused, as Python's compiler warns on it."""
    other_literals = [n for n in pair if isinstance(n, ast.Constant) and not _is_singleton(n)]
    return any(map(_is_singleton, pair)) and not other_literals


class _Translator:
    """Checks one expression against the whitelist and rewrites it into guarded Python.

    `assigned` holds the names earlier script lines assigned: those are read from `_out`,
    every other name from `_vars`, and only the latter are recorded in `names`.
    """

    def __init__(self, text: _Text, assigned: frozenset[str] = frozenset()) -> None:
        self._text = text
        self._assigned = assigned
        self.names: set[str] = set()

    def _reject(self, node: ast.AST, message: str, *, end: int = 0) -> NoReturn:
        raise self._text.at_node(node, message, end=end)

    def _check_name(self, node: ast.AST, name: str, *, end: int = 0) -> None:
        if name.startswith("_"):
            self._reject(node, f"names starting with '_' are not allowed ({name!r})", end=end)

    def _scope(self, name: str) -> str:
        if name in self._assigned:
            return "_out"
        self.names.add(name)
        return "_vars"

    def translate(self, node: ast.expr) -> ast.expr:
        return ast.copy_location(self._translate(node), node)

    def _translate(self, node: ast.expr) -> ast.expr:
        t = self.translate
        match node:
            case ast.Constant(value=value):
                if value is None or type(value) in _CONSTANT_TYPES:
                    return ast.Constant(value)
                self._reject(node, f"{type(value).__name__} literals are not allowed")
            case ast.Name(id=name):
                if name in _ALIASES:
                    return ast.Constant(_ALIASES[name])
                self._check_name(node, name)
                return ast.Subscript(ast.Name(self._scope(name), ast.Load()), ast.Constant(name), ast.Load())
            case ast.Attribute(value=base, attr=attribute):
                self._check_name(node, attribute, end=len(attribute))
                label = ast.Constant(ast.unparse(base))
                return _call("_attribute", t(base), ast.Constant(attribute), label)
            case ast.Subscript(value=base, slice=ast.Slice() as bounds):
                parts = (bounds.lower, bounds.upper, bounds.step)
                key = _call("_slice", *(ast.Constant(None) if p is None else t(p) for p in parts))
                return _call("_item", t(base), key, ast.Constant(ast.unparse(base)))
            case ast.Subscript(value=base, slice=index):
                return _call("_item", t(base), t(index), ast.Constant(ast.unparse(base)))
            case ast.List(elts=items):
                return ast.List([t(item) for item in items], ast.Load())
            case ast.Tuple(elts=items):
                return ast.Tuple([t(item) for item in items], ast.Load())
            case ast.Set(elts=items):
                return ast.Set([t(item) for item in items])
            case ast.Dict(keys=keys, values=values):
                checked = [k for k in keys if k is not None]
                if len(checked) < len(keys):
                    self._reject(node, "unpacking a dict with ** is not allowed")
                return ast.Dict([t(k) for k in checked], [t(v) for v in values])
            case ast.UnaryOp(op=unary, operand=operand):
                return ast.UnaryOp(unary, t(operand))
            case ast.BinOp(left=left, op=binary, right=right):
                if isinstance(binary, ast.MatMult):
                    self._reject(node, "the @ operator is not allowed")
                guard = _GUARDED_OPERATORS.get(type(binary))
                if guard is not None:
                    helper, takes_work = guard
                    work = [ast.Name("_work", ast.Load())] if takes_work else []
                    return _call(helper, *work, t(left), t(right))
                return ast.BinOp(t(left), binary, t(right))
            case ast.BoolOp(op=boolean, values=values):
                return ast.BoolOp(boolean, [t(v) for v in values])
            case ast.Compare(left=left, ops=comparisons, comparators=comparators):
                operands = [t(left), *(t(c) for c in comparators)]
                for position, comparison in enumerate(comparisons):
                    pair = operands[position : position + 2]
                    if isinstance(comparison, ast.Is | ast.IsNot) and not _is_identity_test(pair):
                        self._reject(node, "'is' only compares with None, True or False; use ==")
                return ast.Compare(operands[0], comparisons, operands[1:])
            case ast.IfExp(test=test, body=body, orelse=orelse):
                return ast.IfExp(t(test), t(body), t(orelse))
            case ast.Call():
                return self._call(node)
        message = _REJECTED.get(type(node), f"{type(node).__name__} is not allowed")
        self._reject(node, message)

    def _call(self, node: ast.Call) -> ast.expr:
        known = ", ".join(FUNCTIONS)
        if not isinstance(node.func, ast.Name):
            self._reject(node, f"only these functions can be called, by name: {known}")
        name = node.func.id
        function = _FUNCTIONS.get(name)
        if function is None:
            self._reject(node, f"{name}() is not a function here; the functions are: {known}")
        if node.keywords:
            self._reject(node.keywords[0], f"{name}() takes no keyword arguments")
        count = len(node.args)
        if count < function.fewest or (function.most is not None and count > function.most):
            self._reject(node, f"{name}() takes {function.arity()} ({count} given)")
        arguments = [self.translate(argument) for argument in node.args]
        if function.takes_path:
            path = node.args[0]
            if not (isinstance(path, ast.Constant) and isinstance(path.value, str)):
                example = f'{name}("order.total")'
                self._reject(path, f"{name}() needs a variable name in quotes, like {example}")
            keys = path.value.split(".")
            if not all(key.isidentifier() and not key.startswith("_") for key in keys):
                self._reject(path, f"{path.value!r} is not a variable name or a dotted path")
            scope = ast.Name(self._scope(keys[0]), ast.Load())
            arguments[0] = ast.Tuple([ast.Constant(key) for key in keys], ast.Load())
            arguments.insert(0, scope)
        if function.takes_work:
            arguments.insert(0, ast.Name("_work", ast.Load()))
        return _call(f"_fn_{name}", *arguments)


def _build(definitions: list[tuple[str, str, ast.expr]]) -> list[Callable[..., Any]]:
    """Compile `def name(params): return expression` for each checked expression."""
    module = ast.Module(body=[], type_ignores=[])
    for name, parameters, expression in definitions:
        (definition,) = ast.parse(f"def {name}({parameters}):\n    return None\n").body
        assert isinstance(definition, ast.FunctionDef)
        (statement,) = definition.body
        assert isinstance(statement, ast.Return)
        statement.value = expression
        module.body.append(definition)
    ast.fix_missing_locations(module)
    code = compile(module, "<expression>", "exec")
    functions: dict[str, Any] = {}
    exec(code, _GLOBALS, functions)
    return [functions[name] for name, _, _ in definitions]


# --- evaluation errors --------------------------------------------------------------------


def _failure(
    error: Exception,
    label: str,
    names: frozenset[str],
    variables: Mapping[str, Any],
    details: dict[str, Any],
) -> EvaluationError:
    if isinstance(error, _Fault):
        message = str(error)
    elif isinstance(error, KeyError) and error.args and error.args[0] in names and error.args[0] not in variables:
        message = f"variable {error.args[0]!r} is not defined"
        details = {**details, "variable": error.args[0]}
    elif isinstance(error, ZeroDivisionError):
        message = "division by zero"
    elif isinstance(error, OverflowError):
        message = f"number out of range ({error.args[-1] if error.args else error})"
    elif isinstance(error, RecursionError):
        message = "the data is nested too deeply"
    elif isinstance(error, MemoryError):
        message = "out of memory"
    else:
        message = str(error) or type(error).__name__
    return EvaluationError(f"{label}: {message}", details=details)


# --- the public interface -----------------------------------------------------------------


@dataclass(frozen=True, kw_only=True, slots=True)
class Expression(ABC):
    """A checked, compiled expression in one of the dialects; evaluate it as often as needed.

    Immutable and safe to share between threads. What `evaluate` returns is a JSON value (or
    a tuple or set, which the engine turns into a list or refuses) that the engine can store.
    """

    dialect: ClassVar[str]
    """"legato", "feel" or "juel"."""
    source: str
    """The text as written, markers (`=`, `${...}`) included."""
    names: frozenset[str]
    """The variables it reads."""

    @abstractmethod
    def evaluate(self, variables: Mapping[str, Any]) -> Any:
        """The value of the expression; EvaluationError if it cannot be computed."""

    def evaluate_condition(self, variables: Mapping[str, Any]) -> bool:
        """The value of a condition, which must be True or False, never merely truthy."""
        result = self.evaluate(variables)
        if isinstance(result, bool):
            return result
        raise EvaluationError(
            f"expression {self.source!r}: a condition must be true or false, but this one gave {_describe(result)}",
            details={"expression": self.source},
        )


@dataclass(frozen=True, kw_only=True, slots=True)
class _LegatoExpression(Expression):
    """An expression in the Legato dialect, compiled to a guarded Python function."""

    dialect: ClassVar[str] = "legato"
    _function: Function = field(repr=False, compare=False)

    def evaluate(self, variables: Mapping[str, Any]) -> Any:
        try:
            return self._function(variables, [MAX_WORK])
        except Exception as error:
            label = f"expression {self.source!r}"
            details = {"expression": self.source}
            raise _failure(error, label, self.names, variables, details) from error


@dataclass(frozen=True, kw_only=True, slots=True)
class _Line:
    number: int
    text: str
    target: str
    names: frozenset[str]
    function: Callable[[Mapping[str, Any], Mapping[str, Any], list[int]], Any]


@dataclass(frozen=True, kw_only=True, slots=True)
class Script:
    """Checked, compiled `name = expression` lines, run top to bottom."""

    source: str
    targets: tuple[str, ...]
    """The variables it assigns, in order of their first assignment."""
    names: frozenset[str]
    """The variables it reads from its input (not those an earlier line assigned)."""
    _lines: tuple[_Line, ...] = field(repr=False, compare=False)

    def run(self, variables: Mapping[str, Any]) -> dict[str, Any]:
        """Only the assignments made, in order; each line sees the lines before it."""
        assigned: dict[str, Any] = {}
        work = [MAX_WORK]
        for line in self._lines:
            try:
                value = line.function(variables, assigned, work)
                if type(value) not in _SCALARS:
                    _spend(work, _size(value, work[0]), f"assigning {line.target!r}")
            except Exception as error:
                label = f"script line {line.number} ({line.text!r})"
                details = {"expression": line.text, "line": line.number}
                raise _failure(error, label, line.names, variables, details) from error
            assigned[line.target] = value
        return assigned


def _check_length(source: str, kind: str) -> None:
    if not isinstance(source, str):
        raise TypeError(f"the {kind} must be text, not {type(source).__name__}")
    if len(source) > MAX_SOURCE_LENGTH:
        raise _Text(source, source, "expression").invalid(
            f"the {kind} is {len(source):,} characters long; the limit is {MAX_SOURCE_LENGTH:,}"
        )


def _unwrap(source: str) -> _Text:
    """The expression without the white space around it, with its place in the original."""
    start, end = 0, len(source)
    while start < end and source[start].isspace():
        start += 1
    while end > start and source[end - 1].isspace():
        end -= 1
    before = source[:start].replace("\r\n", "\n").replace("\r", "\n")
    body = source[start:end].replace("\r\n", "\n").replace("\r", "\n")
    return _Text(
        source,
        body,
        "expression",
        line_shift=before.count("\n"),
        column_shift=len(before) - (before.rfind("\n") + 1),
    )


def _juel_marker_outside_quotes(source: str) -> bool:
    """Whether `${` or `#{` appears outside a quoted string, as in `Hello ${name}`.

    In the Legato dialect `$` and `#{` can only appear inside quotes (`'cost in ${x}'` is a
    string), so one outside them means JUEL text. A quote left open (`It's ${x}`) was not
    a string either, so a marker anywhere then counts.
    """
    quote: str | None = None
    position = 0
    while position < len(source):
        char = source[position]
        if quote is not None:
            if char == "\\":
                position += 1
            elif char == quote:
                quote = None
        elif char in "'\"":
            quote = char
        elif char in "$#" and source.startswith("{", position + 1):
            return True
        position += 1
    return quote is not None and ("${" in source or "#{" in source)


def dialect_of(source: str) -> Literal["legato", "feel", "juel"]:
    """Which dialect `compile_expression` reads `source` as.

    `=...` is FEEL (Camunda 8 marks its expressions so), `${...}` and `#{...}` are JUEL
    (Camunda 7), and so is text with such a part outside quotes (`Hello ${name}`); the rest
    is the Legato dialect. `==` at the start is not a FEEL marker.
    """
    text = source.strip()
    if text.startswith("=") and not text.startswith("=="):
        return "feel"
    if text.startswith(("${", "#{")) or _juel_marker_outside_quotes(text):
        return "juel"
    return "legato"


def compile_expression(source: str) -> Expression:
    """Check and compile `source` in its dialect; ExpressionInvalid (with its column) if it is not allowed."""
    _check_length(source, "expression")
    dialect = dialect_of(source)
    if dialect == "feel":
        from legato.model.feel import compile_feel  # imported here: feel builds on this module

        return compile_feel(source)
    if dialect == "juel":
        from legato.model.juel import compile_juel

        return compile_juel(source)
    text = _unwrap(source)
    if not text.body:
        raise text.invalid("the expression is empty")
    tree = _parse(text, "eval")
    _check_bounds(tree, text)
    assert isinstance(tree, ast.Expression)
    translator = _Translator(text)
    try:
        (function,) = _build([("_evaluate", "_vars, _work", translator.translate(tree.body))])
    except RecursionError:  # within MAX_DEPTH, but called from deep in the stack
        raise text.invalid("the expression is nested too deeply") from None
    return _LegatoExpression(source=source, names=frozenset(translator.names), _function=function)


def _dedent(source: str) -> _Text:
    """Remove the indentation every line shares, as scripts embedded in XML have."""
    lines = source.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    margins = [line[: len(line) - len(line.lstrip(" \t"))] for line in lines if line.strip()]
    indent = min(margins, key=len, default="")
    while any(not margin.startswith(indent) for margin in margins):
        indent = indent[:-1]
    body = "\n".join(line[len(indent) :] if line.strip() else "" for line in lines)
    return _Text(source, body, "script", indent=len(indent))


_STATEMENT_WORDS: Final[dict[type[ast.stmt], str]] = {
    ast.FunctionDef: "def",
    ast.AsyncFunctionDef: "def",
    ast.ClassDef: "class",
    ast.AnnAssign: "annotated assignment",
    ast.Delete: "del",
    ast.AsyncFor: "for",
    ast.AsyncWith: "with",
}


def _assignment(statement: ast.stmt, text: _Text) -> tuple[str, ast.expr]:
    """The target and value of one script line, which must be `name = expression`."""
    match statement:
        case ast.Assign(targets=[ast.Name(id=name) as target], value=value):
            pass
        case ast.AugAssign(target=ast.Name(id=name) as target, op=op, value=value):
            read = ast.copy_location(ast.Name(name, ast.Load()), target)
            value = ast.copy_location(ast.BinOp(read, op, value), statement)
        case ast.Assign(targets=[ast.Tuple() | ast.List()]):
            raise text.at_node(statement, "assign one variable per line")
        case ast.Assign(targets=[_]) | ast.AugAssign():
            raise text.at_node(statement, "only a plain variable name can be assigned")
        case ast.Assign():
            raise text.at_node(statement, "assign one variable per line (not a = b = ...)")
        case ast.Import() | ast.ImportFrom():
            raise text.at_node(statement, "import is not allowed")
        case ast.Expr():
            raise text.at_node(statement, "each line must assign a variable: name = expression")
        case _:
            kind = _STATEMENT_WORDS.get(type(statement), type(statement).__name__.lower())
            message = f"{kind} statements are not allowed; a script only assigns variables"
            raise text.at_node(statement, message)
    if name.startswith("_"):
        raise text.at_node(target, f"names starting with '_' are not allowed ({name!r})")
    if name in _ALIASES:
        raise text.at_node(target, f"{name!r} is a constant and cannot be assigned")
    return name, value


def compile_script(source: str) -> Script:
    """Check and compile `name = expression` lines (newline or `;` separated, `#` comments)."""
    _check_length(source, "script")
    text = _dedent(source)
    tree = _parse(text, "exec")
    _check_bounds(tree, text)
    assert isinstance(tree, ast.Module)
    assigned: set[str] = set()
    names: set[str] = set()
    definitions: list[tuple[str, str, ast.expr]] = []
    lines: list[tuple[int, str, str, frozenset[str]]] = []
    try:
        for index, statement in enumerate(tree.body):
            target, value = _assignment(statement, text)
            translator = _Translator(text, frozenset(assigned))
            expression = translator.translate(value)
            definitions.append((f"_line_{index}", "_vars, _out, _work", expression))
            segment = ast.get_source_segment(text.body, statement) or target
            lines.append((statement.lineno, segment, target, frozenset(translator.names)))
            names |= translator.names
            assigned.add(target)
        functions = _build(definitions) if definitions else []
    except RecursionError:  # within MAX_DEPTH, but called from deep in the stack
        raise text.invalid("the script is nested too deeply") from None
    return Script(
        source=source,
        targets=tuple(dict.fromkeys(target for _, _, target, _ in lines)),
        names=frozenset(names),
        _lines=tuple(
            _Line(number=number, text=segment, target=target, names=read, function=function)
            for (number, segment, target, read), function in zip(lines, functions, strict=True)
        ),
    )
