"""`Expression`, the one interface the engine calls, whatever the dialect behind it."""

from __future__ import annotations

import reprlib
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from legato.errors import EvaluationError


def _describe(value: object) -> str:
    if value is None:
        return "None"
    try:
        shown = reprlib.repr(value)
    except ValueError:  # an int past Python's conversion limit
        shown = "(too long to show)"
    return f"{type(value).__name__} {shown}"


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
