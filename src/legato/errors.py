"""The one error root of Legato, with a stable code on every error.

The API maps each code to an HTTP status and an RFC 9457 problem document, the CLI prints
the code beside the message, so scripts can match on codes rather than on wording.

    LegatoError                       (code: LEGATO_ERROR)
    ├── InvalidInput                  400 bad data from a caller
    │   ├── ModelInvalid              400 MODEL_INVALID: a model failed validation (problems list)
    │   ├── ModelParseError           400 MODEL_PARSE_ERROR: YAML/XML that does not parse
    │   ├── ExpressionInvalid         400 EXPRESSION_INVALID: an expression that does not parse
    │   ├── TimerInvalid              400 TIMER_INVALID: ISO 8601 timer text that is wrong
    │   ├── VariablesInvalid          400 VARIABLES_INVALID: variables that are not a JSON object
    │   └── PayloadTooLarge           413 PAYLOAD_TOO_LARGE
    ├── NotFound                      404
    │   ├── DefinitionNotFound        404 DEFINITION_NOT_FOUND
    │   ├── InstanceNotFound          404 INSTANCE_NOT_FOUND
    │   ├── TaskNotFound              404 TASK_NOT_FOUND
    │   ├── IncidentNotFound          404 INCIDENT_NOT_FOUND
    │   └── DecisionNotFound          404 DECISION_NOT_FOUND: no deployed DMN decision has the id
    ├── Conflict                      409
    │   ├── TaskNotActive             409 TASK_NOT_ACTIVE: completing a task that is done
    │   ├── InstanceNotActive         409 INSTANCE_NOT_ACTIVE
    │   ├── IncidentNotOpen           409 INCIDENT_NOT_OPEN
    │   ├── StaleCommand              409 STALE_COMMAND: the wait state a command names is gone
    │   ├── IdempotencyConflict       409 IDEMPOTENCY_CONFLICT: same key, different request
    │   └── ConcurrentModification    409 CONCURRENT_MODIFICATION
    ├── MessageNotCorrelated          404 MESSAGE_NOT_CORRELATED: no waiting instance, no start
    └── EvaluationError               422 EVALUATION_ERROR: an expression failed at run time

`BpmnError` is not a `LegatoError`: handlers raise it to signal a *business* failure that
a boundary error event may catch (BPMN 2.0, 10.5.5), not a fault of Legato or its caller.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any


class LegatoError(Exception):
    """Root of every error Legato raises on purpose."""

    code: str = "LEGATO_ERROR"
    status: int = 500

    def __init__(self, message: str, *, details: Mapping[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details: dict[str, Any] = dict(details or {})

    def to_problem(self) -> dict[str, Any]:
        """The RFC 9457 problem document body for this error."""
        problem: dict[str, Any] = {
            "type": f"https://legato.dev/problems/{self.code.lower().replace('_', '-')}",
            "title": self.code.replace("_", " ").capitalize(),
            "status": self.status,
            "code": self.code,
            "detail": self.message,
        }
        problem.update(self.details)
        return problem


class InvalidInput(LegatoError):
    code = "INVALID_INPUT"
    status = 400


@dataclass(frozen=True, kw_only=True, slots=True)
class Problem:
    """One thing wrong with a model, with the element (or flow) at fault."""

    element: str | None
    message: str
    line: int | None = None

    def __str__(self) -> str:
        where = f"'{self.element}'" if self.element else "process"
        at = f" (line {self.line})" if self.line else ""
        return f"{where}{at}: {self.message}"


class ModelInvalid(InvalidInput):
    code = "MODEL_INVALID"

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = list(problems)
        text = "; ".join(str(p) for p in self.problems)
        super().__init__(
            f"the model is invalid: {text}",
            details={"problems": [{"element": p.element, "message": p.message, "line": p.line} for p in self.problems]},
        )


class ModelParseError(InvalidInput):
    code = "MODEL_PARSE_ERROR"

    def __init__(self, message: str, *, line: int | None = None, column: int | None = None):
        where = f" at line {line}" + (f", column {column}" if column else "") if line else ""
        super().__init__(f"{message}{where}", details={"line": line, "column": column})
        self.line = line
        self.column = column


class ExpressionInvalid(InvalidInput):
    code = "EXPRESSION_INVALID"

    def __init__(self, message: str, *, source: str, offset: int | None = None):
        at = f" at column {offset + 1}" if offset is not None else ""
        super().__init__(
            f"expression {source!r}{at}: {message}",
            details={"expression": source, "column": None if offset is None else offset + 1},
        )
        self.source = source
        self.offset = offset


class VariablesInvalid(InvalidInput):
    code = "VARIABLES_INVALID"


class PayloadTooLarge(InvalidInput):
    code = "PAYLOAD_TOO_LARGE"
    status = 413


class NotFound(LegatoError):
    code = "NOT_FOUND"
    status = 404


class DefinitionNotFound(NotFound):
    code = "DEFINITION_NOT_FOUND"


class InstanceNotFound(NotFound):
    code = "INSTANCE_NOT_FOUND"


class TaskNotFound(NotFound):
    code = "TASK_NOT_FOUND"


class IncidentNotFound(NotFound):
    code = "INCIDENT_NOT_FOUND"


class DecisionNotFound(NotFound):
    code = "DECISION_NOT_FOUND"


class Conflict(LegatoError):
    code = "CONFLICT"
    status = 409


class TaskNotActive(Conflict):
    code = "TASK_NOT_ACTIVE"


class InstanceNotActive(Conflict):
    code = "INSTANCE_NOT_ACTIVE"


class IncidentNotOpen(Conflict):
    code = "INCIDENT_NOT_OPEN"


class StaleCommand(Conflict):
    code = "STALE_COMMAND"


class IdempotencyConflict(Conflict):
    code = "IDEMPOTENCY_CONFLICT"


class ConcurrentModification(Conflict):
    code = "CONCURRENT_MODIFICATION"


class MessageNotCorrelated(LegatoError):
    code = "MESSAGE_NOT_CORRELATED"
    status = 404


class EvaluationError(LegatoError):
    code = "EVALUATION_ERROR"
    status = 422


class BpmnError(Exception):
    """Raised by a handler to throw a BPMN error with `code` (BPMN 2.0, 10.5.5 Error).

    A boundary error event on the task, or on an enclosing subprocess, whose error code
    matches (or that catches all errors) takes the token; if none does, the instance gets an
    incident, as Camunda does for an uncaught error.
    """

    def __init__(self, code: str, message: str = "", *, variables: Mapping[str, Any] | None = None) -> None:
        super().__init__(message or code)
        self.code = code
        self.message = message or code
        self.variables = dict(variables or {})
