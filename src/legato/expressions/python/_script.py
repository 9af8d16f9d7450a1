"""Legato-dialect scripts: `name = expression` lines, checked and compiled once, run top to bottom."""

from __future__ import annotations

import ast
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from legato.expressions import _deadline
from legato.expressions._budget import MAX_WORK
from legato.expressions.python._expression import _failure
from legato.expressions.python._guards import _SCALARS, _size, _spend
from legato.expressions.python._source import _check_bounds, _check_length, _dedent, _parse, _Text
from legato.expressions.python._translate import _ALIASES, _build, _Translator


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
    _bounded: bool = field(default=True, repr=False, compare=False)
    """False when no line calls a guard or a function: then nothing repeats, its size bounds it."""

    def run(self, variables: Mapping[str, Any]) -> dict[str, Any]:
        """Only the assignments made, in order; each line sees the lines before it."""
        assigned: dict[str, Any] = {}
        work = [MAX_WORK]
        began = self._bounded and _deadline.begin("script")
        try:
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
        finally:
            _deadline.end(began)
        return assigned


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
    bounded = False
    try:
        for index, statement in enumerate(tree.body):
            target, value = _assignment(statement, text)
            translator = _Translator(text, frozenset(assigned))
            expression = translator.translate(value)
            definitions.append((f"_line_{index}", "_vars, _out, _work", expression))
            segment = ast.get_source_segment(text.body, statement) or target
            lines.append((statement.lineno, segment, target, frozenset(translator.names)))
            names |= translator.names
            bounded = bounded or translator.calls
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
        _bounded=bounded,
    )
