"""Request values the databases cannot hold, refused as 400s that name the field.

Valid JSON and a valid URL can still carry what neither store keeps: an integer past 64
bits (SQLite binds integers as signed 64-bit, PostgreSQL's BIGINT is the same), a NUL
character (PostgreSQL text cannot contain U+0000) or a lone surrogate (`"\\ud800"` parses
as JSON but is not Unicode, so no encoder writes it). Left alone they fail deep in a
transaction as a 500; here they fail at the door:

- integer query and path parameters declare `le=MAX_INTEGER` (the OpenAPI document shows
  the bound): 400 INVALID_INPUT naming `query.offset`, `path.incident_id`, ...
- every string field of a request body model (`RequestBody`), also in lists and nested
  models, and every path and query parameter
  (`check_parameters`, an app-wide dependency) is refused with a NUL or a lone surrogate:
  400 INVALID_INPUT naming `body.business_key`, `path.instance_id`, ...
- `Variables` (a JSON object) is checked by the same rules the runtime applies: 400
  VARIABLES_INVALID naming `body.variables` and the JSON pointer of the value at fault.
  NUL is allowed inside variables: they are stored as JSON text, where it is escaped.

The store keeps its own defence (`legato.store.database`: VALUE_NOT_STORABLE) for values
that arrive another way.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Annotated, Any

from fastapi import Request
from pydantic import AfterValidator, BaseModel, field_validator
from pydantic_core import PydanticCustomError

from legato.errors import InvalidInput
from legato.store.variables import MAX_STORED_INTEGER, text_problem, variables_problem

MAX_INTEGER = MAX_STORED_INTEGER
VARIABLES_ERROR = "variables_invalid"
TEXT_ERROR = "text_invalid"


def _checked_variables(value: dict[str, Any]) -> dict[str, Any]:
    problem = variables_problem(value)
    if problem is not None:
        path, message = problem
        raise PydanticCustomError(VARIABLES_ERROR, "{message} at {path}", {"message": message, "path": path})
    return value


Variables = Annotated[dict[str, Any], AfterValidator(_checked_variables)]


class RequestBody(BaseModel):
    """A request body whose strings (also inside lists and nested models) the store can hold."""

    @field_validator("*", mode="after")
    @classmethod
    def _storable_text(cls, value: Any) -> Any:
        for text in _strings(value):
            problem = text_problem(text)
            if problem is not None:
                raise PydanticCustomError(TEXT_ERROR, "the text {problem}", {"problem": problem})
        return value


def check_parameters(request: Request) -> None:
    """App-wide: no path or query parameter with a NUL or a lone surrogate reaches a route."""
    places: list[tuple[str, Iterable[tuple[str, str]]]] = [
        ("path", request.path_params.items()),
        ("query", request.query_params.multi_items()),
    ]
    errors = []
    for place, items in places:
        for name, value in items:
            problem = text_problem(value) if isinstance(value, str) else None
            if problem is not None:
                errors.append({"field": f"{place}.{name}", "message": f"the text {problem}"})
    if errors:
        detail = "; ".join(f"{e['field']}: {e['message']}" for e in errors)
        raise InvalidInput(detail, details={"errors": errors})


def _strings(value: Any) -> Iterable[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, list | tuple | set | frozenset):
        for item in value:
            yield from _strings(item)
    # Mappings (variables, working hours) are stored as JSON text, where a NUL is escaped;
    # their lone surrogates are refused by pydantic (typed keys) or by `Variables`.


__all__ = ["MAX_INTEGER", "RequestBody", "Variables", "check_parameters"]
