"""Checking a Legato-dialect tree against the whitelist and rewriting it into guarded Python.

A variable becomes a lookup in the mapping given at evaluation, an operator that can blow up a
call to its guard, and a call can reach only the fixed functions; the result is compiled once
into plain functions whose builtins are empty.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable
from typing import Any, Final, NoReturn

from legato.expressions._deadline import tick
from legato.expressions.python._functions import _FUNCTIONS, FUNCTIONS
from legato.expressions.python._guards import (
    _add,
    _attribute,
    _fstring,
    _item,
    _modulo,
    _multiply,
    _power,
    _shift_left,
)
from legato.expressions.python._source import _Text

_GUARDED_OPERATORS: Final[dict[type[ast.operator], tuple[str, bool]]] = {
    ast.Add: ("_add", True),  # (helper, whether it takes the evaluation's budget)
    ast.Mult: ("_multiply", True),
    ast.Pow: ("_power", False),
    ast.LShift: ("_shift_left", False),
    ast.Mod: ("_modulo", False),
}


def _ticking(implementation: Callable[..., Any]) -> Callable[..., Any]:
    """The function, counting each call toward the CPU-time check (`_deadline`)."""

    def call(*arguments: Any) -> Any:
        tick()
        return implementation(*arguments)

    return call


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
    "_fstring": _fstring,
    "_item": _item,
    "_slice": slice,
    "_tick": tick,
    **{f"_fn_{name}": _ticking(function.implementation) for name, function in _FUNCTIONS.items()},
}


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
    ast.Await: "await is not allowed",
    ast.Yield: "yield is not allowed",
    ast.YieldFrom: "yield is not allowed",
    ast.Slice: "a slice is only allowed inside [ ]",
}


_SPEC: Final = re.compile(r"(?:.?[<>=^])?[+\- ]?#?0?(?:[1-9]\d{0,2})?[,_]?(?:\.\d{1,2})?[bcdeEfFgGnosxX%]?")
"""Format specs an f-string may use: fill and align, sign, width up to 999, precision up to 99, type."""


def _call(helper: str, *arguments: ast.expr) -> ast.Call:
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
        self.calls = False
        """Whether the code calls a guard or a function: only then can it repeat work (and tick)."""

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
                    self.calls = True
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
                compare = ast.Compare(operands[0], comparisons, operands[1:])
                if any(isinstance(comparison, ast.In | ast.NotIn) for comparison in comparisons):
                    self.calls = True  # `x in items` walks the list: `(_tick() or x in items)`
                    return ast.BoolOp(ast.Or(), [_call("_tick"), compare])
                return compare
            case ast.IfExp(test=test, body=body, orelse=orelse):
                return ast.IfExp(t(test), t(body), t(orelse))
            case ast.Call():
                return self._call(node)
            case ast.JoinedStr(values=parts):
                return self._fstring(node, parts)
        message = _REJECTED.get(type(node), f"{type(node).__name__} is not allowed")
        self._reject(node, message)

    def _fstring(self, node: ast.JoinedStr, parts: list[ast.expr]) -> ast.expr:
        """`f"{name} owes {amount:.2f}"`: each field through `_fstring`, which bounds the text it
        makes; a format spec must be written out (no `{x:{width}}`) and stay small (`_SPEC`)."""
        pieces: list[ast.expr] = []
        for part in parts:
            if isinstance(part, ast.Constant):
                pieces.append(ast.Constant(part.value))
                continue
            assert isinstance(part, ast.FormattedValue)
            spec = ""
            if part.format_spec is not None:
                assert isinstance(part.format_spec, ast.JoinedStr)
                if not all(isinstance(item, ast.Constant) for item in part.format_spec.values):
                    self._reject(part, "a format spec in an f-string must be written out, not computed")
                spec = "".join(str(item.value) for item in part.format_spec.values if isinstance(item, ast.Constant))
                if not _SPEC.fullmatch(spec):
                    self._reject(
                        part, f"format spec {spec!r} is not allowed: a width up to 999 and a precision up to 99"
                    )
            pieces.append(
                ast.Tuple([self.translate(part.value), ast.Constant(part.conversion), ast.Constant(spec)], ast.Load())
            )
        self.calls = True
        return _call("_fstring", ast.Name("_work", ast.Load()), *pieces)

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
        self.calls = True
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
