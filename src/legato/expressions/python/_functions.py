"""The fixed functions a Legato-dialect expression may call; nothing else is callable."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final

from legato.expressions._interface import _describe
from legato.expressions.python._guards import _SCALARS, _SEQUENCES, _Fault, _kind, _lookup, _size, _spend

_MAX_ROUND_DIGITS: Final = 1_000


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
