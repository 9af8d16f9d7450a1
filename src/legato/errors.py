"""The one error root of Legato, with a stable code on every error.

The API maps each code to an HTTP status and an RFC 9457 problem document, the CLI prints
the code beside the message, so scripts can match on codes rather than on wording.

    LegatoError                       (code: LEGATO_ERROR)
    ├── InvalidInput                  400 bad data from a caller
    │   ├── ModelInvalid              400 MODEL_INVALID: a model failed validation (problems list)
    │   ├── ModelParseError           400 MODEL_PARSE_ERROR: YAML/XML that does not parse
    │   │   ├── XmlDoctypeRefused     400 XML_DOCTYPE_REFUSED: a DOCTYPE or entity declaration (any encoding)
    │   │   ├── XmlEncodingInvalid    400 XML_ENCODING_INVALID: bytes that are not the encoding they declare
    │   │   └── XmlLimitExceeded      400 XML_LIMIT_EXCEEDED: too many elements, too deep, a name or
    │   │                                 attribute too long (`limit` names which, `maximum` its value)
    │   ├── ExpressionInvalid         400 EXPRESSION_INVALID: an expression that does not parse
    │   ├── TimerInvalid              400 TIMER_INVALID: ISO 8601 timer text that is wrong
    │   ├── VariablesInvalid          400 VARIABLES_INVALID: variables that are not a JSON object
    │   ├── ValueNotStorable          400 VALUE_NOT_STORABLE: a value the database cannot hold (an
    │   │                                 integer past 64 bits, a NUL or a lone surrogate in text)
    │   ├── InvalidCursor             400 INVALID_CURSOR: a list cursor this server did not give out
    │   ├── InvalidFilter             400 INVALID_FILTER: a list filter or limit that is wrong (field named)
    │   └── PayloadTooLarge           413 PAYLOAD_TOO_LARGE
    ├── NotFound                      404
    │   ├── IdentityNotFound          404 USER_NOT_FOUND / GROUP_NOT_FOUND / ROLE_NOT_FOUND / TOKEN_NOT_FOUND
    │   ├── DefinitionNotFound        404 DEFINITION_NOT_FOUND
    │   ├── InstanceNotFound          404 INSTANCE_NOT_FOUND
    │   ├── TaskNotFound              404 TASK_NOT_FOUND
    │   ├── AttachmentNotFound        404 ATTACHMENT_NOT_FOUND: a task has no attachment of that id
    │   ├── TaskFilterNotFound        404 TASK_FILTER_NOT_FOUND: no saved task filter the caller may see
    │   ├── IncidentNotFound          404 INCIDENT_NOT_FOUND
    │   ├── DecisionNotFound          404 DECISION_NOT_FOUND: no deployed DMN decision has the id
    │   └── ExternalTaskNotFound      404 EXTERNAL_TASK_NOT_FOUND: no open job of an external task has the id
    ├── Conflict                      409
    │   ├── TaskNotActive             409 TASK_NOT_ACTIVE: completing a task that is done
    │   ├── TaskAlreadyClaimed        409 TASK_ALREADY_CLAIMED: claiming a task someone else holds
    │   ├── TaskDelegationPending     409 TASK_DELEGATION_PENDING: completing a delegated task (resolve it)
    │   ├── TaskNotDelegated          409 TASK_NOT_DELEGATED: resolving a task nobody delegated
    │   ├── InstanceNotActive         409 INSTANCE_NOT_ACTIVE
    │   ├── DefinitionNotExecutable   409 DEFINITION_NOT_EXECUTABLE: starting a model kept for viewing only
    │   ├── IncidentNotOpen           409 INCIDENT_NOT_OPEN
    │   ├── StaleCommand              409 STALE_COMMAND: the wait state a command names is gone
    │   ├── IdempotencyConflict       409 IDEMPOTENCY_CONFLICT: same key, different request
    │   ├── ConcurrentModification    409 CONCURRENT_MODIFICATION
    │   ├── ExternalTaskLockExpired   409 EXTERNAL_TASK_LOCK_EXPIRED: the worker's lock ran out first
    │   └── ExternalTaskNotLocked     409 EXTERNAL_TASK_NOT_LOCKED: the task is not locked by this worker id
    │   └── IdentityConflict          409 IDENTITY_CONFLICT: a user, group, role or grant that exists
    ├── MessageNotCorrelated          404 MESSAGE_NOT_CORRELATED: no waiting instance, no start
    ├── Unauthenticated               401 (identity: who is asking is not known)
    │   ├── AuthenticationRequired    401 AUTHENTICATION_REQUIRED: no credentials were sent
    │   ├── LoginFailed               401 LOGIN_FAILED: wrong user name or password, or a disabled user
    │   ├── TokenInvalid              401 TOKEN_INVALID: unknown, expired or revoked token
    │   ├── SessionExpired            401 SESSION_EXPIRED: the browser session ended; log in again
    │   ├── JwtInvalid                401 JWT_INVALID: an identity provider's JWT that fails a check (`reason`)
    │   ├── OidcCodeRejected          401 OIDC_CODE_REJECTED: the provider refused the code (replayed, PKCE)
    │   ├── OidcLoginDenied           401 OIDC_LOGIN_DENIED: the provider sent the browser back with an error
    │   └── IdTokenInvalid            401 OIDC_ID_TOKEN_INVALID: the ID token fails a check (`reason`)
    ├── Forbidden                     403 (identity: known, but not allowed)
    │   ├── PermissionDenied          403 PERMISSION_DENIED: the caller lacks the permission named
    │   ├── TaskNotCandidate          403 TASK_NOT_CANDIDATE: claiming a task not offered to the caller
    │   ├── TaskNotAssignee           403 TASK_NOT_ASSIGNEE: working on a task assigned to someone else
    │   ├── TaskFilterNotOwned        403 TASK_FILTER_NOT_OWNED: another's filter, or a group not one's own
    │   ├── CsrfFailed                403 CSRF_FAILED: a cookie-authenticated change without its CSRF token
    │   ├── UserDisabled              403 USER_DISABLED: a valid single sign-on for a disabled Legato user
    │   ├── TenantDenied              403 TENANT_DENIED: a tenant the caller does not belong to
    │   ├── TaskTypeDenied            403 TASK_TYPE_DENIED: a task type outside the caller's (worker token's) scope
    │   └── MetricsTenantLimited      403 METRICS_TENANT_LIMITED: /metrics for a caller kept to some tenants
    ├── OidcStateInvalid              400 OIDC_STATE_INVALID: a callback state unknown, used or not this browser's
    ├── OidcNotConfigured             404 OIDC_NOT_CONFIGURED: single sign-on is not set up on this server
    ├── OidcAccountConflict           409 OIDC_ACCOUNT_CONFLICT: the name is a user's not linked to this login
    ├── OidcProviderUnavailable       502 OIDC_PROVIDER_UNAVAILABLE: the provider is unreachable or off-protocol
    ├── TooManyRequests               429 (with Retry-After)
    │   ├── LoginLocked               429 LOGIN_LOCKED: too many failed logins; back off
    │   └── RateLimited               429 RATE_LIMITED
    ├── EvaluationError               422 EVALUATION_ERROR: an expression failed at run time
    ├── ModificationInvalid           422 MODIFICATION_INVALID: a token move that cannot be made (element named)
    ├── MigrationInvalid              422 MIGRATION_INVALID: a migration plan that cannot apply (each element named)
    ├── TaskDateInvalid               422 TASK_DATE_INVALID: a task's due or follow-up date that does not parse
    ├── AuditKeyInvalid               500 AUDIT_KEY_INVALID: the audit log's key file is unreadable
    ├── EncryptionKeyMissing          503 ENCRYPTION_KEY_MISSING: a sealed value names a key the server lacks
    ├── SealedValueTampered           503 SEALED_VALUE_TAMPERED: a sealed value fails its GCM tag (changed)
    └── DatabaseUnavailable           503 DATABASE_UNAVAILABLE: the database cannot be reached (Retry-After)

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

    def __init__(
        self,
        message: str,
        *,
        line: int | None = None,
        column: int | None = None,
        details: Mapping[str, Any] | None = None,
    ):
        where = f" at line {line}" + (f", column {column}" if column else "") if line else ""
        super().__init__(f"{message}{where}", details={"line": line, "column": column, **(details or {})})
        self.line = line
        self.column = column


class XmlDoctypeRefused(ModelParseError):
    """A BPMN or DMN file that declares a DOCTYPE or entities: no real one needs them, every entity bomb does."""

    code = "XML_DOCTYPE_REFUSED"


class XmlEncodingInvalid(ModelParseError):
    """XML bytes that are not text in the encoding their byte-order mark, first bytes or declaration name."""

    code = "XML_ENCODING_INVALID"


class XmlLimitExceeded(ModelParseError):
    """An XML document past one of the structural bounds (`limit`), refused before it is built in memory."""

    code = "XML_LIMIT_EXCEEDED"


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


class ValueNotStorable(InvalidInput):
    """The store's last line of defence: the database refused a value the API should have caught."""

    code = "VALUE_NOT_STORABLE"


class InvalidCursor(InvalidInput):
    """A page cursor that is damaged, edited, or belongs to another list."""

    code = "INVALID_CURSOR"


class InvalidFilter(InvalidInput):
    """A list filter that cannot be applied; `field` names the query parameter at fault."""

    code = "INVALID_FILTER"

    def __init__(self, message: str, *, field: str, details: Mapping[str, Any] | None = None) -> None:
        super().__init__(message, details={"field": field, **(details or {})})


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


class AttachmentNotFound(NotFound):
    code = "ATTACHMENT_NOT_FOUND"


class TaskFilterNotFound(NotFound):
    code = "TASK_FILTER_NOT_FOUND"


class IncidentNotFound(NotFound):
    code = "INCIDENT_NOT_FOUND"


class DecisionNotFound(NotFound):
    code = "DECISION_NOT_FOUND"


class ExternalTaskNotFound(NotFound):
    code = "EXTERNAL_TASK_NOT_FOUND"


class Conflict(LegatoError):
    code = "CONFLICT"
    status = 409


class TaskNotActive(Conflict):
    code = "TASK_NOT_ACTIVE"


class TaskAlreadyClaimed(Conflict):
    code = "TASK_ALREADY_CLAIMED"


class TaskDelegationPending(Conflict):
    code = "TASK_DELEGATION_PENDING"


class TaskNotDelegated(Conflict):
    code = "TASK_NOT_DELEGATED"


class InstanceNotActive(Conflict):
    code = "INSTANCE_NOT_ACTIVE"


class DefinitionNotExecutable(Conflict):
    """A deployed model that cannot run (BPMN isExecutable="false", a service task without
    an implementation) was started; `details.reasons` says why, each naming the element."""

    code = "DEFINITION_NOT_EXECUTABLE"


class IncidentNotOpen(Conflict):
    code = "INCIDENT_NOT_OPEN"


class StaleCommand(Conflict):
    code = "STALE_COMMAND"


class IdempotencyConflict(Conflict):
    code = "IDEMPOTENCY_CONFLICT"


class ConcurrentModification(Conflict):
    code = "CONCURRENT_MODIFICATION"


class ExternalTaskLockExpired(Conflict):
    """A worker reports on a task whose lock expired: the task may be running elsewhere now."""

    code = "EXTERNAL_TASK_LOCK_EXPIRED"


class ExternalTaskNotLocked(Conflict):
    """A worker reports on a task it does not hold: another worker id locked it, or nobody."""

    code = "EXTERNAL_TASK_NOT_LOCKED"


class IdentityConflict(Conflict):
    code = "IDENTITY_CONFLICT"


class IdentityNotFound(NotFound):
    """A user, group, role or token that does not exist; `code` names which."""

    def __init__(self, kind: str, name: str) -> None:
        super().__init__(f"no {kind} {name!r}", details={kind: name})
        self.code = f"{kind.upper()}_NOT_FOUND"


class Unauthenticated(LegatoError):
    code = "UNAUTHENTICATED"
    status = 401


class AuthenticationRequired(Unauthenticated):
    code = "AUTHENTICATION_REQUIRED"


class LoginFailed(Unauthenticated):
    code = "LOGIN_FAILED"


class TokenInvalid(Unauthenticated):
    code = "TOKEN_INVALID"


class SessionExpired(Unauthenticated):
    code = "SESSION_EXPIRED"


class Forbidden(LegatoError):
    code = "FORBIDDEN"
    status = 403


class TaskNotCandidate(Forbidden):
    code = "TASK_NOT_CANDIDATE"


class TaskNotAssignee(Forbidden):
    code = "TASK_NOT_ASSIGNEE"


class TaskFilterNotOwned(Forbidden):
    code = "TASK_FILTER_NOT_OWNED"


class PermissionDenied(Forbidden):
    code = "PERMISSION_DENIED"

    def __init__(self, permission: str, *, who: str) -> None:
        super().__init__(f"{who} lacks the permission {permission!r}", details={"permission": permission})


class CsrfFailed(Forbidden):
    code = "CSRF_FAILED"


class TooManyRequests(LegatoError):
    """Refused for now; `retry_after` (seconds) goes out as the Retry-After header."""

    code = "TOO_MANY_REQUESTS"
    status = 429

    def __init__(self, message: str, *, retry_after: float) -> None:
        self.retry_after = max(1, int(retry_after + 0.999))
        super().__init__(message, details={"retry_after": self.retry_after})


class LoginLocked(TooManyRequests):
    code = "LOGIN_LOCKED"


class RateLimited(TooManyRequests):
    code = "RATE_LIMITED"


# -- single sign-on and identity-provider tokens (OpenID Connect) ---------------------------


class JwtInvalid(TokenInvalid):
    """A bearer JWT that fails a check; `reason` names which (expired, audience, algorithm, ...)."""

    code = "JWT_INVALID"

    def __init__(self, message: str, *, reason: str) -> None:
        super().__init__(message, details={"reason": reason})
        self.reason = reason


class IdTokenInvalid(Unauthenticated):
    """An ID token from the login callback that fails a check; `reason` names which."""

    code = "OIDC_ID_TOKEN_INVALID"

    def __init__(self, message: str, *, reason: str) -> None:
        super().__init__(message, details={"reason": reason})
        self.reason = reason


class OidcCodeRejected(Unauthenticated):
    code = "OIDC_CODE_REJECTED"


class OidcLoginDenied(Unauthenticated):
    code = "OIDC_LOGIN_DENIED"


class UserDisabled(Forbidden):
    code = "USER_DISABLED"


class OidcStateInvalid(InvalidInput):
    code = "OIDC_STATE_INVALID"


class OidcNotConfigured(NotFound):
    code = "OIDC_NOT_CONFIGURED"


class OidcAccountConflict(Conflict):
    code = "OIDC_ACCOUNT_CONFLICT"


class OidcProviderUnavailable(LegatoError):
    """The provider is down, slow or answers what is not OpenID Connect: a gateway's fault (502), retry later."""

    code = "OIDC_PROVIDER_UNAVAILABLE"
    status = 502


class MessageNotCorrelated(LegatoError):
    code = "MESSAGE_NOT_CORRELATED"
    status = 404


class TaskDateInvalid(LegatoError):
    """A due or follow-up date given for a task that is neither an ISO 8601 date-time nor a
    duration; `field` names which."""

    code = "TASK_DATE_INVALID"
    status = 422

    def __init__(self, message: str, *, field: str) -> None:
        super().__init__(message, details={"field": field})


class EvaluationError(LegatoError):
    code = "EVALUATION_ERROR"
    status = 422


class ModificationInvalid(LegatoError):
    """A modification of an instance (cancel at A, start before B) that cannot be made:
    `element` names the element at fault and `reason` says why; nothing was changed."""

    code = "MODIFICATION_INVALID"
    status = 422

    def __init__(self, element: str | None, reason: str) -> None:
        where = f"{element!r}: " if element is not None else ""
        super().__init__(f"{where}{reason}", details={"element": element, "reason": reason})


class MigrationInvalid(LegatoError):
    """A migration plan that cannot be applied to an instance: `problems` names each element
    at fault (`{element, reason}`); nothing was moved."""

    code = "MIGRATION_INVALID"
    status = 422

    def __init__(self, problems: Sequence[Mapping[str, Any]]) -> None:
        self.problems = [dict(problem) for problem in problems]
        text = "; ".join(f"{p.get('element')!r}: {p.get('reason')}" for p in self.problems)
        super().__init__(f"the migration plan cannot be applied: {text}", details={"problems": self.problems})


class AuditKeyInvalid(LegatoError):
    """The audit log cannot sign or check rows: its key file is damaged (a fault of the server's setup)."""

    code = "AUDIT_KEY_INVALID"
    status = 500


class EncryptionKeyMissing(LegatoError):
    """A value in the database was sealed with a key this server does not hold (docs/security.md):
    the key file or LEGATO_ENCRYPTION_KEYS lacks it. The data is intact; give the server the key."""

    code = "ENCRYPTION_KEY_MISSING"
    status = 503

    def __init__(self, key_id: str) -> None:
        super().__init__(
            f"a value is sealed with encryption key {key_id}, which this server does not have: add that key to "
            "the key file (LEGATO_ENCRYPTION_KEY_FILE) or LEGATO_ENCRYPTION_KEYS",
            details={"key_id": key_id},
        )


class SealedValueTampered(LegatoError):
    """A sealed value fails its authentication tag: someone changed it in the database, or the key
    given under its id is not the one that sealed it. Nothing is returned of it."""

    code = "SEALED_VALUE_TAMPERED"
    status = 503

    def __init__(self, message: str, *, key_id: str | None) -> None:
        super().__init__(message, details={"key_id": key_id})


class DatabaseUnavailable(LegatoError):
    """The database did not answer (refused, reset, timed out); `retry_after` goes out as Retry-After."""

    code = "DATABASE_UNAVAILABLE"
    status = 503

    def __init__(self, message: str, *, retry_after: int = 5) -> None:
        self.retry_after = retry_after
        super().__init__(message, details={"retry_after": retry_after})


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


class MetricsTenantLimited(Forbidden):
    """`/metrics` counts every tenant's work: a caller kept to some tenants may not read it."""

    code = "METRICS_TENANT_LIMITED"


class TenantDenied(Forbidden):
    """A tenant named in a request that the caller does not belong to (whether it exists or not)."""

    code = "TENANT_DENIED"

    def __init__(self, tenant: str, *, who: str, element: str | None = None) -> None:
        if element is None:
            super().__init__(f"{who} does not belong to tenant {tenant!r}", details={"tenant": tenant})
            return
        message = f"element {element!r} calls into tenant {tenant!r}, which {who} does not belong to"
        super().__init__(message, details={"tenant": tenant, "element": element})


class TaskTypeDenied(Forbidden):
    """A task type a worker may not fetch or report on: outside its token's scope, or no `jobs:work`."""

    code = "TASK_TYPE_DENIED"

    def __init__(self, task_type: str, *, who: str) -> None:
        super().__init__(f"{who} may not work on task type {task_type!r}", details={"task_type": task_type})
