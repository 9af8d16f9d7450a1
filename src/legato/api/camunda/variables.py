"""Camunda 7's typed variables (`{"type": "Integer", "value": 5, "valueInfo": {}}`) to and from
Legato's plain JSON values.

Camunda clients send `{"value": 5}` with no type as often as with one (the Python client
does), so a missing type is read from the JSON value. What Legato cannot hold is refused,
naming the variable: Java-serialized objects, `Bytes` and `File`. `Json` and `Object` in
`application/json` carry their JSON as a string, as Camunda sends them, and are stored as
the value it holds; going out, a list or an object is `Json` with the text, as Camunda's
own REST API answers, so a client's `json.loads(task.get_variable(...))` keeps working.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, Final

import orjson

from legato.errors import VariablesInvalid

_INTEGER: Final = (-(2**31), 2**31 - 1)
_RANGES: Final = {"Short": (-(2**15), 2**15 - 1), "Integer": _INTEGER, "Long": (-(2**63), 2**63 - 1)}
_JSON_FORMAT: Final = "application/json"
_REFUSED: Final = {
    "Bytes": "bytes are not stored as variables: send a reference (a URL or an id) instead",
    "File": "files are not stored as variables: attach them to a user task or send a reference",
}


def from_camunda(variables: Mapping[str, Any] | None, *, where: str = "variables") -> dict[str, Any]:
    """Plain values from Camunda's typed ones; a value of the wrong type is a 400 naming it."""
    if not variables:
        return {}
    if not isinstance(variables, Mapping):
        raise VariablesInvalid(f"{where} must be an object of typed values", details={"field": where})
    return {str(name): _plain(name, typed, where) for name, typed in variables.items()}


def _plain(name: str, typed: Any, where: str) -> Any:
    field = f"{where}/{name}"
    if not isinstance(typed, Mapping) or ("value" not in typed and typed.get("type") != "Null"):
        raise VariablesInvalid(f"variable {name!r} must be an object with a `value`", details={"field": field})
    value = typed.get("value")
    kind = typed.get("type")
    if kind is None:
        return value
    if not isinstance(kind, str):
        raise VariablesInvalid(f"the type of variable {name!r} must be a text", details={"field": f"{field}/type"})
    kind = kind[:1].upper() + kind[1:]  # Camunda accepts "string" and "String"
    if kind in _REFUSED:
        raise VariablesInvalid(f"variable {name!r}: {_REFUSED[kind]}", details={"field": f"{field}/type"})
    if kind == "Null" or value is None:
        return None
    if kind == "String" or kind == "Xml":
        return _expect(name, field, value, str, kind)
    if kind == "Boolean":
        return _expect(name, field, value, bool, kind)
    if kind in _RANGES:
        low, high = _RANGES[kind]
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise VariablesInvalid(
                f"variable {name!r} is typed {kind} but holds {_shown(value)} (a whole number from {low} to {high})",
                details={"field": f"{field}/value"},
            )
        return value
    if kind == "Double":
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise VariablesInvalid(
                f"variable {name!r} is typed Double but holds {_shown(value)}", details={"field": f"{field}/value"}
            )
        return float(value)
    if kind == "Date":
        return _date(name, field, value)
    if kind in ("Json", "Object"):
        info = typed.get("valueInfo") or {}
        data_format = info.get("serializationDataFormat", _JSON_FORMAT) if isinstance(info, Mapping) else None
        if kind == "Object" and data_format != _JSON_FORMAT:
            raise VariablesInvalid(
                f"variable {name!r} is a Java-serialized object ({data_format}): send it as Json instead",
                details={"field": f"{field}/valueInfo/serializationDataFormat"},
            )
        if not isinstance(value, str):
            return value  # already JSON, not its text: take it as it is
        try:
            return orjson.loads(value)
        except orjson.JSONDecodeError as exc:
            raise VariablesInvalid(
                f"variable {name!r} is typed {kind} but its value is not JSON: {exc}",
                details={"field": f"{field}/value"},
            ) from None
    raise VariablesInvalid(
        f"variable {name!r} has the type {kind!r}, which Legato does not take (String, Boolean, Short, Integer, "
        "Long, Double, Date, Json, Object in application/json, Xml, Null)",
        details={"field": f"{field}/type"},
    )


def _expect(name: str, field: str, value: Any, kind: type, type_name: str) -> Any:
    if not isinstance(value, kind):
        raise VariablesInvalid(
            f"variable {name!r} is typed {type_name} but holds {_shown(value)}", details={"field": f"{field}/value"}
        )
    return value


def _date(name: str, field: str, value: Any) -> str:
    """A Camunda date (`2026-12-03T10:00:00.000+0100`) as an ISO 8601 text, how Legato keeps dates."""
    if isinstance(value, str):
        try:
            return datetime.strptime(value, "%Y-%m-%dT%H:%M:%S.%f%z").isoformat()
        except ValueError:
            try:
                return datetime.fromisoformat(value).isoformat()
            except ValueError:
                pass
    raise VariablesInvalid(
        f"variable {name!r} is typed Date but holds {_shown(value)} (yyyy-MM-dd'T'HH:mm:ss.SSSZ)",
        details={"field": f"{field}/value"},
    )


def _shown(value: Any) -> str:
    text = orjson.dumps(value).decode() if not isinstance(value, bytes) else repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def to_camunda(variables: Mapping[str, Any], names: list[str] | None = None) -> dict[str, dict[str, Any]]:
    """Camunda's typed values for plain ones; `names` (a fetch's `variables`) picks some."""
    picked = variables if names is None else {n: variables[n] for n in names if n in variables}
    return {name: typed(value) for name, value in picked.items()}


def typed(value: Any) -> dict[str, Any]:
    if value is None:
        return {"type": "Null", "value": None, "valueInfo": {}}
    if isinstance(value, bool):
        return {"type": "Boolean", "value": value, "valueInfo": {}}
    if isinstance(value, int):
        low, high = _INTEGER
        return {"type": "Integer" if low <= value <= high else "Long", "value": value, "valueInfo": {}}
    if isinstance(value, float):
        return {"type": "Double", "value": value, "valueInfo": {}}
    if isinstance(value, str):
        return {"type": "String", "value": value, "valueInfo": {}}
    return {"type": "Json", "value": orjson.dumps(value).decode(), "valueInfo": {}}


def camunda_time(moment: datetime) -> str:
    """Camunda's date format: milliseconds and a numeric offset without a colon."""
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}" + moment.strftime("%z")


__all__ = ["camunda_time", "from_camunda", "to_camunda", "typed"]
