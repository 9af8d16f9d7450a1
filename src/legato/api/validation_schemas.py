"""The answer of a validate-only deploy (`POST /definitions/validate`).

A modeler checks a drawing against everything a deploy would refuse, many times while
someone edits, and needs each problem tied to the element at fault so that it can mark
it. Kept apart from `schemas.py`: validation is one concept in two modules (this one and
the route in routes/definitions.py).
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field


class ValidationProblem(BaseModel):
    """One reason a deploy would refuse the model."""

    element: str | None = Field(description="the id of the element or flow at fault; null: the process or document")
    message: str
    line: int | None = Field(default=None, description="line in the uploaded source, when known")
    column: int | None = Field(default=None, description="column in that line, for text that does not parse")
    code: str = Field(description="the error code a deploy would answer: MODEL_INVALID, MODEL_PARSE_ERROR, ...")


class Validation(BaseModel):
    valid: bool = Field(description="whether a deploy would accept the model; nothing is stored either way")
    kind: Literal["process", "decisions"]
    key: str | None = Field(description="the process key (or DMN definitions id) a deploy would use, once read")
    name: str | None = None
    version: int | None = Field(
        default=None, description="the version a deploy would answer (the latest one when unchanged); null if invalid"
    )
    unchanged: bool = Field(
        default=False, description="true when the model equals the latest version: a deploy would create nothing"
    )
    problems: list[ValidationProblem] = Field(description="what a deploy would refuse, all of it where known")
    warnings: list[str] = Field(description="what the import would leave out (BPMN extensions Legato ignores)")


__all__ = ["Validation", "ValidationProblem"]
