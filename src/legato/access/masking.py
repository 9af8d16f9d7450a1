"""Masking: what a caller without `variables:read-sensitive` sees of sensitive data.

Pure decisions over the dictionaries the store's queries return; the API applies them to
every answer that carries variables or what derives from them (api/masking.py). The
shape is fixed and documented (docs/security.md, "Sensitive data"):

- a sensitive value is replaced by the string `"***"` (`MASK`), whatever it was (a
  nested object is replaced whole: everything inside a sensitive variable is sensitive);
- the object that held it gets `masked`: the JSON Pointers of what was replaced, inside
  that object (`["/variables/iban", "/data/variables/iban"]`), so a screen can tell a
  masked value from a value that happens to be three asterisks;
- free text that can echo a value (an incident's message, a failed job's error, a
  history event's message) has each sensitive value it contains replaced by `"***"`;
- an incident's stack trace (`details`) is `null` with `details_hidden: true` for a
  caller without `incidents:read-stack`: a stack trace shows code paths and, often, the
  values on them.

What counts as sensitive is a variable whose name matches the process's declaration or
the operator's patterns (model/sensitive.py), anything nested in it, any key in a nested
object that matches the same patterns, and any string (of at least `MIN_SECRET` characters)
equal to the value of a sensitive variable: a task's input mapped from `iban` to
`account` still shows `***`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from legato.access.principal import Principal
from legato.model.sensitive import SensitiveNames

MASK = "***"
MIN_SECRET = 4
"""Shorter values are not looked for in text: masking every "1" or "yes" would hide
everything and protect nothing."""
READ_SENSITIVE = "variables:read-sensitive"
READ_STACK = "incidents:read-stack"


@dataclass(frozen=True, kw_only=True, slots=True)
class Visibility:
    """What one caller may see unmasked."""

    sensitive: bool
    stacks: bool

    @classmethod
    def of(cls, principal: Principal, process: str | None = None) -> Visibility:
        """What `principal` sees of an instance of `process` (a grant narrowed to it counts)."""
        return cls(sensitive=principal.may(READ_SENSITIVE, process), stacks=principal.may(READ_STACK, process))


EVERYTHING = Visibility(sensitive=True, stacks=True)


@dataclass(frozen=True, slots=True)
class Secrets:
    """The sensitive values of one instance: for matching equal values and scrubbing text."""

    values: frozenset[str] = frozenset()

    def __bool__(self) -> bool:
        return bool(self.values)

    def scrub(self, text: str | None) -> str | None:
        """`text` with every sensitive value in it replaced by MASK (longest first)."""
        if not text or not self.values:
            return text
        for secret in sorted(self.values, key=len, reverse=True):
            if secret in text:
                text = text.replace(secret, MASK)
        return text

    def holds(self, value: Any) -> bool:
        return _as_secret(value) in self.values if self.values else False


NO_SECRETS = Secrets()


def secrets_of(variables: Mapping[str, Any] | None, names: SensitiveNames, *more: Any) -> Secrets:
    """The sensitive values among `variables` (and the extra values `more`), as text."""
    found: set[str] = set()
    if variables and names:
        for name, value in variables.items():
            if names.matches(name):
                _collect(value, found)
            elif isinstance(value, dict | list):
                _collect_nested(value, names, found)
    for value in more:
        _collect(value, found)
    return Secrets(frozenset(found))


def mask_variables(
    variables: Any, names: SensitiveNames, secrets: Secrets = NO_SECRETS, *, at: str = "/variables"
) -> tuple[Any, list[str]]:
    """`variables` with sensitive values replaced, and the pointers of what was."""
    masked: list[str] = []
    return _mask(variables, names, secrets, at, masked), masked


def mask_instance(
    instance: Mapping[str, Any], names: SensitiveNames, secrets: Secrets, visibility: Visibility
) -> dict[str, Any]:
    """An instance (summary or detail) as a caller with `visibility` may see it."""
    result = dict(instance)
    pointers: list[str] = []
    if not visibility.sensitive and "variables" in result:
        result["variables"], pointers = mask_variables(result["variables"], names, secrets)
    _add_masked(result, pointers)
    if "history" in result:
        result["history"] = [mask_event(e, names, secrets, visibility) for e in result["history"]]
    if "tasks" in result:
        result["tasks"] = [mask_task(t, names, secrets, visibility) for t in result["tasks"]]
    if "incidents" in result:
        result["incidents"] = [mask_incident(i, secrets, visibility) for i in result["incidents"]]
    if not visibility.sensitive:
        if "jobs" in result:
            result["jobs"] = [_scrubbed(j, "last_error", secrets) for j in result["jobs"]]
        if "subscriptions" in result:
            result["subscriptions"] = [_scrubbed(sub, "correlation_key", secrets) for sub in result["subscriptions"]]
    return result


def _scrubbed(row: Mapping[str, Any], field: str, secrets: Secrets) -> dict[str, Any]:
    """`row` with the sensitive values in its text `field` replaced, and it listed in `masked`."""
    result = dict(row)
    value = result.get(field)
    scrubbed = secrets.scrub(value)
    if scrubbed != value:
        result[field] = scrubbed
        result["masked"] = [*result.get("masked", []), f"/{field}"]
    return result


def mask_event(
    event: Mapping[str, Any], names: SensitiveNames, secrets: Secrets, visibility: Visibility
) -> dict[str, Any]:
    """A history event: the variables it carries masked, its messages scrubbed."""
    result = dict(event)
    pointers: list[str] = []
    data = result.get("data")
    if not visibility.sensitive and isinstance(data, dict):
        clean: dict[str, Any] = {}
        for key, value in data.items():
            if key == "variables" and isinstance(value, dict):
                clean[key], found = mask_variables(value, names, secrets, at="/data/variables")
                pointers += found
            else:
                clean[key] = _scrub_all(value, secrets, f"/data/{_escape(key)}", pointers)
        result["data"] = clean
    _add_masked(result, pointers)
    return result


def mask_task(
    task: Mapping[str, Any], names: SensitiveNames, secrets: Secrets, visibility: Visibility
) -> dict[str, Any]:
    """A user task: its payload (the inputs it shows a person) and its draft (the form data
    saved so far, which become variables) masked like variables."""
    result = dict(task)
    pointers: list[str] = []
    if not visibility.sensitive:
        for key in ("payload", "draft"):
            if isinstance(result.get(key), dict):
                result[key], found = mask_variables(result[key], names, secrets, at=f"/{key}")
                pointers.extend(found)
    _add_masked(result, pointers)
    return result


def mask_incident(incident: Mapping[str, Any], secrets: Secrets, visibility: Visibility) -> dict[str, Any]:
    """An incident: the message scrubbed of sensitive values; the stack trace for operators only."""
    result = dict(incident)
    pointers: list[str] = []
    if not visibility.sensitive:
        message = secrets.scrub(result.get("message"))
        if message != result.get("message"):
            pointers.append("/message")
            result["message"] = message
    details = result.get("details")
    if not visibility.stacks:
        result["details"] = None
        result["details_hidden"] = details is not None
    else:
        result["details_hidden"] = False
        if not visibility.sensitive and details:
            scrubbed = secrets.scrub(details)
            if scrubbed != details:
                pointers.append("/details")
                result["details"] = scrubbed
    _add_masked(result, pointers)
    return result


def mask_evaluation(
    evaluation: Mapping[str, Any],
    names: SensitiveNames,
    secrets: Secrets,
    visibility: Visibility,
    *,
    whole: bool = False,
) -> dict[str, Any]:
    """A decision's result: masked whole when it lands in a sensitive variable (`whole`),
    else its outputs by name and by value, as variables are."""
    result = dict(evaluation)
    pointers: list[str] = []
    if not visibility.sensitive:
        if whole and result.get("value") is not None:
            result["value"] = MASK
            pointers.append("/value")
        else:
            result["value"], pointers = mask_variables(result.get("value"), names, secrets, at="/value")
        required = result.get("required")
        if isinstance(required, list):
            result["required"] = [
                _mask_required(r, names, secrets, f"/required/{i}", pointers) for i, r in enumerate(required)
            ]
    _add_masked(result, pointers)
    return result


def scrub_message(text: str, secrets: Secrets) -> str:
    """An error message safe to show a caller without read-sensitive."""
    return secrets.scrub(text) or text


# -- the walk --------------------------------------------------------------------------------


def _mask(value: Any, names: SensitiveNames, secrets: Secrets, at: str, masked: list[str]) -> Any:
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for key, item in value.items():
            pointer = f"{at}/{_escape(str(key))}"
            if isinstance(key, str) and names.matches(key):
                out[key] = MASK
                masked.append(pointer)
            else:
                out[key] = _mask(item, names, secrets, pointer, masked)
        return out
    if isinstance(value, list):
        return [_mask(item, names, secrets, f"{at}/{i}", masked) for i, item in enumerate(value)]
    if secrets.holds(value):  # an input mapped from a sensitive variable, a decision's bare output
        masked.append(at)
        return MASK
    return value


def _mask_required(required: Any, names: SensitiveNames, secrets: Secrets, at: str, pointers: list[str]) -> Any:
    if not isinstance(required, dict):
        return required
    result = dict(required)
    result["value"], found = mask_variables(result.get("value"), names, secrets, at=f"{at}/value")
    pointers += found
    nested = result.get("required")
    if isinstance(nested, list):
        result["required"] = [
            _mask_required(r, names, secrets, f"{at}/required/{i}", pointers) for i, r in enumerate(nested)
        ]
    return result


def _scrub_all(value: Any, secrets: Secrets, at: str, pointers: list[str]) -> Any:
    """Text anywhere in `value` scrubbed of sensitive values (event data besides variables)."""
    if not secrets:
        return value
    if isinstance(value, str):
        scrubbed = secrets.scrub(value)
        if scrubbed != value:
            pointers.append(at)
        return scrubbed
    if isinstance(value, dict):
        return {k: _scrub_all(v, secrets, f"{at}/{_escape(str(k))}", pointers) for k, v in value.items()}
    if isinstance(value, list):
        return [_scrub_all(v, secrets, f"{at}/{i}", pointers) for i, v in enumerate(value)]
    if secrets.holds(value):
        pointers.append(at)
        return MASK
    return value


def _collect(value: Any, found: set[str]) -> None:
    if isinstance(value, dict):
        for item in value.values():
            _collect(item, found)
    elif isinstance(value, list):
        for item in value:
            _collect(item, found)
    else:
        secret = _as_secret(value)
        if secret is not None and len(secret) >= MIN_SECRET:
            found.add(secret)


def _collect_nested(value: Any, names: SensitiveNames, found: set[str]) -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            if isinstance(key, str) and names.matches(key):
                _collect(item, found)
            else:
                _collect_nested(item, names, found)
    elif isinstance(value, list):
        for item in value:
            _collect_nested(item, names, found)


def _as_secret(value: Any) -> str | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, int | float):
        return str(value)
    return None


def _escape(key: str) -> str:
    """A key as a JSON Pointer token (RFC 6901)."""
    return key.replace("~", "~0").replace("/", "~1")


def _add_masked(result: dict[str, Any], pointers: Iterable[str]) -> None:
    result["masked"] = sorted(set(pointers))


__all__ = [
    "EVERYTHING",
    "MASK",
    "MIN_SECRET",
    "NO_SECRETS",
    "READ_SENSITIVE",
    "READ_STACK",
    "Secrets",
    "Visibility",
    "mask_evaluation",
    "mask_event",
    "mask_incident",
    "mask_instance",
    "mask_task",
    "mask_variables",
    "scrub_message",
    "secrets_of",
]
