"""The FEEL syntax tree the parser builds and the evaluator compiles (DMN 1.3, 10.3.1.2)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

# --- the syntax tree ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Node:
    offset: int


@dataclass(frozen=True, slots=True)
class _Literal(_Node):
    value: Any


@dataclass(frozen=True, slots=True)
class _Name(_Node):
    name: str


@dataclass(frozen=True, slots=True)
class _Path(_Node):
    base: _Node
    key: str


@dataclass(frozen=True, slots=True)
class _Filter(_Node):
    base: _Node
    condition: _Node


@dataclass(frozen=True, slots=True)
class _Call(_Node):
    function: str
    arguments: tuple[_Node, ...]


@dataclass(frozen=True, slots=True)
class _Negate(_Node):
    operand: _Node


@dataclass(frozen=True, slots=True)
class _Binary(_Node):
    operator: str
    left: _Node
    right: _Node


@dataclass(frozen=True, slots=True)
class _Between(_Node):
    value: _Node
    low: _Node
    high: _Node


@dataclass(frozen=True, slots=True)
class _Test:
    """One positive unary test: `< 10` (`operator` and `operand`), or an expression."""

    operator: str | None
    operand: _Node
    uses_input: bool = False


@dataclass(frozen=True, slots=True)
class _In(_Node):
    value: _Node
    tests: tuple[_Test, ...]


@dataclass(frozen=True, slots=True)
class _InstanceOf(_Node):
    value: _Node
    type_name: Any  # "number", or ("list", "number"), ("context", (("a", "number"),)), ("function", ...)


@dataclass(frozen=True, slots=True)
class _If(_Node):
    condition: _Node
    then: _Node
    otherwise: _Node


@dataclass(frozen=True, slots=True)
class _Iteration:
    name: str
    domain: _Node
    end: _Node | None  # `for i in 1..10`


@dataclass(frozen=True, slots=True)
class _For(_Node):
    iterations: tuple[_Iteration, ...]
    body: _Node
    quantifier: str | None = None  # "some" or "every": the body is the condition


@dataclass(frozen=True, slots=True)
class _List(_Node):
    items: tuple[_Node, ...]


@dataclass(frozen=True, slots=True)
class _Context(_Node):
    entries: tuple[tuple[str, _Node], ...]


@dataclass(frozen=True, slots=True)
class _RangeNode(_Node):
    low: _Node
    high: _Node
    low_closed: bool
    high_closed: bool


@dataclass(frozen=True, slots=True)
class _FunctionDefinition(_Node):
    parameters: tuple[str, ...]
    body: _Node


@dataclass(frozen=True, slots=True)
class _Invoke(_Node):
    """A call of a function value: `f(1)`, `ctx.f(x: 1)`, `(function(x) x * 2)(3)`."""

    callee: _Node
    arguments: tuple[_Node, ...]
    names: tuple[str, ...] | None
