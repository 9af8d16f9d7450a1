"""JUEL values: EL's coercions (EL 2.2, 1.18), its operators (1.7 to 1.10) and the value methods models call.

Java would overflow a long silently or divide by zero into Infinity; here such an operation
stops with a fault instead. Methods are a fixed table, never reflection.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any, Final

_LONG_MIN: Final = -(2**63)
_LONG_MAX: Final = 2**63 - 1


class _Fault(Exception):
    """An operation EL refuses (a failed coercion, an overflow); the caller names the expression."""


class _Undefined(_Fault):
    """A variable that is not defined; Camunda 7 calls it an unknown property."""

    def __init__(self, name: str) -> None:
        super().__init__(f"variable {name!r} is not defined")
        self.name = name


# --- coercions (EL 2.2, 1.18) -------------------------------------------------------------


def _is_long(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _floating(value: object) -> bool:
    """A Double, or a String that reads as one (EL: contains '.', 'e' or 'E')."""
    return isinstance(value, float) or (isinstance(value, str) and any(c in value for c in ".eE"))


_LONG_TEXT: Final = re.compile(r"[+-]?\d{1,19}")
_DOUBLE_TEXT: Final = re.compile(r"[+-]?(\d{1,400}\.?\d{0,400}|\.\d{1,400})([eE][+-]?\d{1,4})?[fFdD]?")


def _describe(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, str):
        shown = value if len(value) <= 40 else value[:40] + "..."
        return f"text {shown!r}"
    if isinstance(value, bool):
        return "boolean " + ("true" if value else "false")
    if isinstance(value, int | float):
        return f"number {value!r}"
    if isinstance(value, Mapping):
        return "a map"
    return "a list" if isinstance(value, list | tuple) else type(value).__name__


def _to_long(value: Any) -> int:
    if value is None or value == "":
        return 0
    if _is_long(value):
        return int(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise _Fault(f"cannot turn {value} into a whole number")
        return int(value)
    if isinstance(value, str) and _LONG_TEXT.fullmatch(value.strip()):
        return _checked(int(value))
    raise _Fault(f"cannot use {_describe(value)} as a number")


def _to_double(value: Any) -> float:
    if value is None or value == "":
        return 0.0
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, str) and _DOUBLE_TEXT.fullmatch(value.strip()):
        return float(value.strip().rstrip("fFdD"))
    raise _Fault(f"cannot use {_describe(value)} as a number")


def _to_boolean(value: Any) -> bool:
    if value is None or value == "":
        return False
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        return value.lower() == "true"
    raise _Fault(f"cannot use {_describe(value)} as true or false")


def _double_text(value: float) -> str:
    """Java's Double.toString: `100.0`, `0.001`, `1.0E7`, `1.5E-5`."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    if value == 0 or 1e-3 <= abs(value) < 1e7:
        text = repr(value)
        return text if "e" not in text else format(value, "f")
    sign, digits, exponent = Decimal(repr(value)).as_tuple()
    shown = "".join(map(str, digits)).rstrip("0") or "0"
    power = len(digits) + int(exponent) - 1
    return f"{'-' if sign else ''}{shown[0]}.{shown[1:] or '0'}E{power}"


def _java_text(value: Any, *, inner: bool = False) -> str:
    """EL's coercion to String (null is empty text), and Java's toString inside collections."""
    if value is None:
        return "null" if inner else ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return _double_text(value)
    if isinstance(value, Mapping):
        entries = (f"{_java_text(k, inner=True)}={_java_text(v, inner=True)}" for k, v in value.items())
        return "{" + ", ".join(entries) + "}"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_java_text(item, inner=True) for item in value) + "]"
    return str(value)


def _checked(result: int) -> int:
    if not _LONG_MIN <= result <= _LONG_MAX:
        raise _Fault("the result does not fit a 64-bit integer (a Java long)")
    return result


# --- operators (EL 2.2, 1.7 to 1.10) ------------------------------------------------------


def _arithmetic(symbol: str, left: Any, right: Any) -> Any:
    """`+`, `-` and `*`: longs unless either side is a double or reads as one."""
    if left is None and right is None:
        return 0
    if _floating(left) or _floating(right):
        a, b = _to_double(left), _to_double(right)
        result = a + b if symbol == "+" else a - b if symbol == "-" else a * b
        if not math.isfinite(result):
            raise _Fault("the result is too large for a number")
        return result
    x, y = _to_long(left), _to_long(right)
    return _checked(x + y if symbol == "+" else x - y if symbol == "-" else x * y)


def _divide(left: Any, right: Any) -> Any:
    if left is None and right is None:
        return 0
    a, b = _to_double(left), _to_double(right)
    if b == 0:
        raise _Fault("division by zero")
    result = a / b
    if not math.isfinite(result):
        raise _Fault("the result is too large for a number")
    return result


def _modulo(left: Any, right: Any) -> Any:
    if left is None and right is None:
        return 0
    if _floating(left) or _floating(right):
        a, b = _to_double(left), _to_double(right)
        if b == 0:
            raise _Fault("division by zero")
        return math.fmod(a, b)
    x, y = _to_long(left), _to_long(right)
    if y == 0:
        raise _Fault("division by zero")
    remainder = abs(x) % abs(y)
    return remainder if x >= 0 else -remainder  # Java's %: the sign of the dividend


def _negate(value: Any) -> Any:
    if value is None:
        return 0
    if _floating(value):
        return -_to_double(value)
    return _checked(-_to_long(value))


def _equal(left: Any, right: Any) -> bool:
    """EL `==` (1.8.2): numbers as numbers, then booleans, then text; null equals only null."""
    if left is None or right is None:
        return left is None and right is None
    if isinstance(left, float) or isinstance(right, float):
        return _to_double(left) == _to_double(right)
    if _is_long(left) or _is_long(right):
        if _floating(left) or _floating(right):
            return _to_double(left) == _to_double(right)
        return _to_long(left) == _to_long(right)
    if isinstance(left, bool) or isinstance(right, bool):
        return _to_boolean(left) == _to_boolean(right)
    if isinstance(left, str) or isinstance(right, str):
        return _java_text(left) == _java_text(right)
    return bool(left == right)


def _compare(left: Any, right: Any) -> int | None:
    """EL `<` and friends (1.8.1): None when either side is null (the comparison is false)."""
    if left is None or right is None:
        return None
    if isinstance(left, float) or isinstance(right, float):
        a, b = _to_double(left), _to_double(right)
    elif _is_long(left) or _is_long(right):
        if _floating(left) or _floating(right):
            a, b = _to_double(left), _to_double(right)
        else:
            a, b = _to_long(left), _to_long(right)
    elif isinstance(left, str) or isinstance(right, str):
        if isinstance(left, bool) or isinstance(right, bool) or not isinstance(left, str) or not isinstance(right, str):
            raise _Fault(f"cannot compare {_describe(left)} with {_describe(right)}")
        a, b = left, right  # type: ignore[assignment]
    elif isinstance(left, bool) and isinstance(right, bool):
        a, b = int(left), int(right)
    else:
        raise _Fault(f"cannot compare {_describe(left)} with {_describe(right)}")
    return -1 if a < b else (1 if a > b else 0)


def _empty(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, str | list | tuple | Mapping):
        return len(value) == 0
    return False


def _index(base: Any, key: Any, label: str) -> Any:
    """`base.key` and `base[key]`: a key of a map or an item of a list; null on null, as in EL."""
    if base is None:
        return None
    if isinstance(base, Mapping):
        return base.get(key) if isinstance(key, str | int | float | bool) or key is None else None
    if isinstance(base, list | tuple):
        position = _to_long(key)
        return base[position] if 0 <= position < len(base) else None
    raise _Fault(f"{label} is {_describe(base)}, which has no property {_java_text(key)!r}")


# --- methods ------------------------------------------------------------------------------


def _java_equals(left: Any, right: Any) -> bool:
    """Java's Object.equals: the same kind and value (a long never equals a double)."""
    if type(left) is not type(right) and not (isinstance(left, Mapping) and isinstance(right, Mapping)):
        return False
    return bool(left == right)


def _text_argument(name: str, value: Any) -> str:
    if not isinstance(value, str):
        raise _Fault(f"{name}() needs text, not {_describe(value)}")
    return value


def _contains(target: Any, item: Any) -> bool:
    if isinstance(target, str):
        return _text_argument("contains", item) in target
    if isinstance(target, list | tuple):
        return any(_java_equals(element, item) for element in target)
    raise _Fault(f"contains() cannot be called on {_describe(target)}; on a map use containsKey()")


def _size(target: Any) -> int:
    if isinstance(target, list | tuple | Mapping):
        return len(target)
    raise _Fault(f"size() cannot be called on {_describe(target)}; on text use length()")


def _length(target: Any) -> int:
    if isinstance(target, str):
        return len(target)
    raise _Fault(f"length() cannot be called on {_describe(target)}; on a list use size()")


def _is_empty(target: Any) -> bool:
    if isinstance(target, str | list | tuple | Mapping):
        return len(target) == 0
    raise _Fault(f"isEmpty() cannot be called on {_describe(target)}")


def _text_method(name: str, apply: Callable[..., Any]) -> Callable[..., Any]:
    def method(target: Any, *arguments: Any) -> Any:
        if not isinstance(target, str):
            raise _Fault(f"{name}() cannot be called on {_describe(target)}")
        return apply(target, *(_text_argument(name, argument) for argument in arguments))

    return method


def _equals_ignore_case(target: Any, other: Any) -> bool:
    if not isinstance(target, str):
        raise _Fault(f"equalsIgnoreCase() cannot be called on {_describe(target)}")
    return isinstance(other, str) and target.lower() == other.lower()


def _contains_key(target: Any, key: Any) -> bool:
    if not isinstance(target, Mapping):
        raise _Fault(f"containsKey() cannot be called on {_describe(target)}")
    return key in target


_METHODS: Final[dict[str, tuple[int, Callable[..., Any]]]] = {
    "equals": (1, _java_equals),
    "equalsIgnoreCase": (1, _equals_ignore_case),
    "contains": (1, _contains),
    "containsKey": (1, _contains_key),
    "startsWith": (1, _text_method("startsWith", str.startswith)),
    "endsWith": (1, _text_method("endsWith", str.endswith)),
    "isEmpty": (0, _is_empty),
    "size": (0, _size),
    "length": (0, _length),
    "toUpperCase": (0, _text_method("toUpperCase", str.upper)),
    "toLowerCase": (0, _text_method("toLowerCase", str.lower)),
    "trim": (0, _text_method("trim", str.strip)),
    "toString": (0, lambda target: _java_text(target, inner=True)),
}
METHODS: Final = tuple(_METHODS)
"""The methods a JUEL expression may call on a value; `execution.getVariable(name)` and
`execution.hasVariable(name)` besides. Every other call is refused at deploy."""

_REFLECTION: Final = frozenset(
    {"getClass", "class", "forName", "getMethod", "getMethods", "getDeclaredMethod", "invoke", "newInstance",
     "getRuntime", "exec", "getClassLoader", "loadClass", "getConstructor"}
)  # fmt: skip
_CLOCK_FUNCTIONS: Final = frozenset({"now", "dateTime", "today", "currentTime"})
