"""The text of a Legato-dialect expression or script: where it sits in what was written, its parse, its bounds.

Errors point at the line and column of the original text, markers and indentation included.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from typing import Final, Literal

from legato.errors import ExpressionInvalid
from legato.expressions._budget import MAX_DEPTH, MAX_NODES, MAX_SOURCE_LENGTH

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


def _dedent(source: str) -> _Text:
    """Remove the indentation every line shares, as scripts embedded in XML have."""
    lines = source.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    margins = [line[: len(line) - len(line.lstrip(" \t"))] for line in lines if line.strip()]
    indent = min(margins, key=len, default="")
    while any(not margin.startswith(indent) for margin in margins):
        indent = indent[:-1]
    body = "\n".join(line[len(indent) :] if line.strip() else "" for line in lines)
    return _Text(source, body, "script", indent=len(indent))
