"""The guards compiled Legato-dialect code calls: operators that can blow up, and lookups.

`a.b` reads a key of a dict (never `getattr`), and `+ * ** << %` check their operands' sizes
against the evaluation's budget before Python builds anything.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, Final

from legato.expressions._budget import MAX_INT_BITS, MAX_WORK
from legato.expressions._deadline import tick
from legato.expressions._interface import _describe


class _Fault(Exception):
    """A guard or function refused its operands; the caller names the expression."""


# --- values -------------------------------------------------------------------------------

_SEQUENCES: Final = (str, list, tuple)
_NESTED: Final = (str, list, tuple, set, frozenset, dict)
_SCALARS: Final = frozenset({bool, int, float, type(None)})


def _kind(value: object) -> str:
    return "None" if value is None else type(value).__name__


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
    tick(1 + (amount >> 10))  # long lists read the CPU clock sooner


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


def _fstring(work: list[int], *pieces: str | tuple[Any, int, str]) -> str:
    """An f-string: literal text, and fields `(value, conversion, spec)`, each counted against the budget."""
    parts: list[str] = []
    for piece in pieces:
        if isinstance(piece, str):
            parts.append(piece)
            continue
        value, conversion, spec = piece
        if type(value) not in _SCALARS:
            _spend(work, _size(value, work[0]), "turning this into text")
        if conversion == ord("r"):
            value = repr(value)
        elif conversion == ord("a"):
            value = ascii(value)
        elif conversion == ord("s") or (not spec and not isinstance(value, str)):
            value = str(value)
        try:
            parts.append(format(value, spec))
        except (TypeError, ValueError) as error:
            raise _Fault(f"cannot format {_kind(value)} with {spec!r}: {error}") from None
    text = "".join(parts)
    _spend(work, len(text), "making this text")
    return text
