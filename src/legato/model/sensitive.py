"""Which process variables are sensitive: names a process declares, patterns the operator sets.

A process declares its own (`sensitive: [iban, password]` in YAML, `Process(...,
sensitive=[...])`, `legato:sensitive` on a BPMN process); the operator adds patterns for
every process (`LEGATO_SENSITIVE_VARIABLES="password,*_token,iban*"`). Both are glob
patterns (`*`, `?`, `[...]`, as `fnmatch`) matched against the variable's name without
regard to case, because `IBAN` and `iban` are the same secret to the person it belongs to.

The decision is made on the name of a top-level variable; everything nested inside a
sensitive variable is sensitive with it. This module only answers "is this name
sensitive?": masking (access/masking.py) and encryption at rest (store/sealing.py) act on
the answer.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from fnmatch import translate
from functools import cached_property

MAX_PATTERN_LENGTH = 200
_ALLOWED = re.compile(r"^[^\s,]+$")


def check_pattern(pattern: str) -> str | None:
    """What is wrong with a sensitive-variable pattern, or None when it is fine."""
    if not isinstance(pattern, str) or not pattern:
        return "a sensitive variable name must be a non-empty string"
    if len(pattern) > MAX_PATTERN_LENGTH:
        return f"the sensitive variable pattern {pattern[:40]!r}... is longer than {MAX_PATTERN_LENGTH} characters"
    if not _ALLOWED.match(pattern):
        return f"the sensitive variable pattern {pattern!r} contains a space or a comma"
    return None


def parse_patterns(text: str) -> tuple[str, ...]:
    """`"password, *_token,iban*"` -> ("password", "*_token", "iban*"); ValueError naming a bad one."""
    patterns = tuple(part.strip() for part in text.split(",") if part.strip())
    for pattern in patterns:
        problem = check_pattern(pattern)
        if problem is not None:
            raise ValueError(problem)
    return patterns


@dataclass(frozen=True, slots=False)
class SensitiveNames:
    """A set of glob patterns; `matches(name)` says whether a variable name is sensitive."""

    patterns: tuple[str, ...] = ()
    _cache: dict[str, bool] = field(default_factory=dict, init=False, repr=False, compare=False, hash=False)

    @cached_property
    def _regex(self) -> re.Pattern[str] | None:
        if not self.patterns:
            return None
        return re.compile("|".join(f"(?:{translate(p.lower())})" for p in self.patterns), re.DOTALL)

    def __bool__(self) -> bool:
        return bool(self.patterns)

    def matches(self, name: str) -> bool:
        regex = self._regex
        if regex is None:
            return False
        known = self._cache.get(name)
        if known is None:
            known = regex.match(name.lower()) is not None
            if len(self._cache) < 10_000:  # names are few; a bound keeps a hostile caller from growing it
                self._cache[name] = known
        return known

    def among(self, names: Iterable[str]) -> list[str]:
        """The sensitive ones of `names`, in their order."""
        return [name for name in names if self.matches(name)]

    def including(self, patterns: Iterable[str]) -> SensitiveNames:
        """These patterns and `patterns` (a process's own declaration on top of the settings)."""
        extra = tuple(p for p in patterns if p not in self.patterns)
        return self if not extra else SensitiveNames(self.patterns + extra)


NONE = SensitiveNames()
"""No variable is sensitive."""

__all__ = ["NONE", "SensitiveNames", "check_pattern", "parse_patterns"]
