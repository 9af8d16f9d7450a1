"""How each Camunda 7, Camunda 8 and Legato extension is read (see `extensions`).

One function per extension attribute or element, named in `HANDLERS` by its canonical
prefix (`camunda:`, `zeebe:`, `legato:`) whatever prefix the document uses. Each writes
what it means into the reader's `Extensions` record, or refuses it with advice.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta
from typing import TYPE_CHECKING, Final

import isodate
import orjson
from lxml import etree

from legato.formats.bpmn.expressions import from_camunda
from legato.formats.bpmn.extension_invocations import INVOCATION_ELEMENT_KEYS, INVOCATION_HANDLERS
from legato.formats.bpmn.namespaces import CAMUNDA, LEGATO, split
from legato.model.elements import MessageRoute, RetryPolicy

if TYPE_CHECKING:
    from legato.formats.bpmn.extensions import ExtensionReader

_Handler = Callable[["ExtensionReader", "etree._Element | str"], None]
_RETRY_CYCLE: Final = re.compile(r"R(\d+)/(P[^/]+)")

ELEMENT_KEYS: Final = (
    frozenset(
        {
            "camunda:connector",
            "camunda:failedJobRetryTimeCycle",
            "camunda:inputOutput",
            "zeebe:taskDefinition",
            "zeebe:ioMapping",
            "zeebe:assignmentDefinition",
            "zeebe:taskSchedule",
            "zeebe:priorityDefinition",
            "zeebe:formDefinition",
            "zeebe:script",
            "zeebe:subscription",
            "legato:retry",
            "legato:timeout",
            "legato:ioMapping",
            "legato:form",
            "legato:description",
            "legato:subscription",
            "legato:messageRoute",
            "camunda:properties",
            "zeebe:properties",
        }
    )
    | INVOCATION_ELEMENT_KEYS
)


def _message_route(reader: ExtensionReader, value: etree._Element | str) -> None:
    """`legato:messageRoute process element message correlationKey`: where Legato sends a
    message along a collaboration's message flow (written by the export, read back)."""
    assert isinstance(value, etree._Element)
    process, message = value.get("process") or "", value.get("message") or ""
    if not process or not message:
        reader.refuse("legato:messageRoute needs a process and a message")
        return
    route = MessageRoute(
        process=process,
        element=value.get("element") or "",
        message=message,
        correlation_key=value.get("correlationKey"),
    )
    reader.found.message_routes.append(route)


# --- Camunda 7 ---------------------------------------------------------------------------


def _camunda_type(reader: ExtensionReader, value: etree._Element | str) -> None:
    if value != "external":
        reader.refuse(
            f"camunda:type={value!r} is not supported; use an external task "
            '(camunda:type="external" camunda:topic="...") and a Legato handler'
        )
        return
    topic = reader.node.get(f"{{{CAMUNDA}}}topic")
    if not topic:
        reader.refuse("an external task needs camunda:topic: the task type its Legato handler is registered for")
    elif "${" in topic:
        reader.refuse(f"camunda:topic={topic!r} is an expression; Legato needs a fixed task type")
    elif reader.found.task_type is None:
        reader.found.task_type = topic


def _ignore(reader: ExtensionReader, value: etree._Element | str) -> None:
    """Read together with another attribute (camunda:topic with camunda:type)."""


def _delegate(reader: ExtensionReader, value: etree._Element | str) -> None:
    """camunda:class and friends are bound in `bind_delegates`, unless there is a topic too."""


def _result_variable(reader: ExtensionReader, value: etree._Element | str) -> None:
    reader.found.result_variable = str(value)


def _connector(reader: ExtensionReader, value: etree._Element | str) -> None:
    reader.refuse(
        "Camunda connectors (camunda:connector) cannot run in Legato; make it an external task "
        "and call the service from a Legato handler"
    )


def _resource(reader: ExtensionReader, value: etree._Element | str) -> None:
    reader.refuse(f"camunda:resource={value!r} loads a script from a file; put the script in the model")


def _retry_cycle(reader: ExtensionReader, value: etree._Element | str) -> None:
    assert isinstance(value, etree._Element)
    text = (value.text or "").strip()
    match = _RETRY_CYCLE.fullmatch(text)
    delay = _seconds(match.group(2)) if match else None
    if match is None or delay is None:
        reader.refuse(
            f"camunda:failedJobRetryTimeCycle {text!r} is not R<attempts>/<duration> (such as R3/PT10M); "
            "Legato retries at a fixed or growing interval, not a list or a cron cycle"
        )
        return
    # A fixed interval: multiplier 1, and the cap no lower than the interval.
    reader.found.retry = RetryPolicy(
        max_attempts=int(match.group(1)),
        initial_backoff=delay,
        multiplier=1.0,
        max_backoff=max(delay, RetryPolicy().max_backoff),
    )


def _input_output(reader: ExtensionReader, value: etree._Element | str) -> None:
    assert isinstance(value, etree._Element)
    if reader.kind == "callActivity":
        reader.refuse(
            "camunda:inputOutput on a call activity sets its local variables, which Legato does not have; "
            "pass variables to the called process with camunda:in and camunda:out"
        )
        return
    for parameter in value.iterchildren(etree.Element):
        namespace, local = split(parameter.tag)
        if namespace != CAMUNDA or local not in ("inputParameter", "outputParameter"):
            continue
        name = parameter.get("name") or ""
        if len(parameter):
            nested = reader.context.name(parameter[0].tag)
            reader.refuse(f"parameter {name!r} is a {nested}; Legato maps a variable to one expression")
            continue
        text = parameter.text or ""
        target = reader.found.inputs if local == "inputParameter" else reader.found.outputs
        target[name] = from_camunda(text) if text.strip() else "null"


def _assignee(reader: ExtensionReader, value: etree._Element | str) -> None:
    _set_assignee(reader, str(value), "camunda:assignee")


def _candidate_groups(reader: ExtensionReader, value: etree._Element | str) -> None:
    _set_groups(reader, str(value), "camunda:candidateGroups")


def _candidate_users(reader: ExtensionReader, value: etree._Element | str) -> None:
    reader.found.candidate_users = _names(str(value))


def _due_date(reader: ExtensionReader, value: etree._Element | str) -> None:
    reader.found.due_date = _relative(str(value).strip()) or None  # ISO 8601 or an expression: checked in validation


def _follow_up_date(reader: ExtensionReader, value: etree._Element | str) -> None:
    reader.found.follow_up_date = _relative(str(value).strip()) or None


def _priority(reader: ExtensionReader, value: etree._Element | str) -> None:
    reader.found.priority = str(value).strip() or None


def _form_key(reader: ExtensionReader, value: etree._Element | str) -> None:
    reader.found.form = {"key": str(value)}


def _form_ref(reader: ExtensionReader, value: etree._Element | str) -> None:
    reader.found.form = {"id": str(value)}


def _error_message(reader: ExtensionReader, value: etree._Element | str) -> None:
    reader.found.error_message = str(value)


# --- Camunda 8 ---------------------------------------------------------------------------


def _task_definition(reader: ExtensionReader, value: etree._Element | str) -> None:
    assert isinstance(value, etree._Element)
    task_type = value.get("type") or ""
    if task_type.startswith("="):
        reader.refuse(f"the job type {task_type!r} is an expression; Legato needs a fixed task type")
    elif task_type:
        reader.found.task_type = task_type
    retries = value.get("retries")
    if retries is not None:
        if retries.strip().isdigit():
            reader.found.retries = int(retries)
        else:
            reader.refuse(f"retries={retries!r} must be a whole number")


def _io_mapping(reader: ExtensionReader, value: etree._Element | str) -> None:
    assert isinstance(value, etree._Element)
    legato = split(value.tag)[0] == LEGATO
    for mapping in value.iterchildren(etree.Element):
        local = split(mapping.tag)[1]
        if local not in ("input", "output"):
            continue
        source, target = mapping.get("source"), mapping.get("target")
        if source is None or not target:
            reader.refuse(f"an {local} mapping needs a source and a target")
            continue
        expression = source if legato else from_camunda(source)
        (reader.found.inputs if local == "input" else reader.found.outputs)[target] = expression


def _assignment(reader: ExtensionReader, value: etree._Element | str) -> None:
    assert isinstance(value, etree._Element)
    if value.get("assignee"):
        _set_assignee(reader, value.get("assignee", ""), "zeebe:assignmentDefinition assignee")
    if value.get("candidateGroups"):
        _set_groups(reader, value.get("candidateGroups", ""), "zeebe:assignmentDefinition candidateGroups")
    if value.get("candidateUsers"):
        reader.found.candidate_users = _names(value.get("candidateUsers", ""))


def _task_schedule(reader: ExtensionReader, value: etree._Element | str) -> None:
    """`zeebe:taskSchedule dueDate="..." followUpDate="..."`: ISO 8601 date-times or FEEL."""
    assert isinstance(value, etree._Element)
    reader.found.due_date = _relative((value.get("dueDate") or "").strip()) or None
    reader.found.follow_up_date = _relative((value.get("followUpDate") or "").strip()) or None


_NOW_PLUS: Final = re.compile(r'=\s*now\(\)\s*\+\s*duration\(\s*"([^"]+)"\s*\)\s*', re.IGNORECASE)


def _relative(text: str) -> str:
    """`=now() + duration("PT8H")`, Camunda 8's way to say "in 8 hours", is the duration
    PT8H counted from the task's creation: Legato's expressions have no clock (replaying an
    instance must give the same answer), while the task's creation time is recorded."""
    match = _NOW_PLUS.fullmatch(text)
    return match.group(1) if match else text


def _priority_definition(reader: ExtensionReader, value: etree._Element | str) -> None:
    """`zeebe:priorityDefinition priority="75"`: a number 0..100, or FEEL."""
    assert isinstance(value, etree._Element)
    reader.found.priority = (value.get("priority") or "").strip() or None


def _form_definition(reader: ExtensionReader, value: etree._Element | str) -> None:
    assert isinstance(value, etree._Element)
    for attribute, key in (("formKey", "key"), ("formId", "id"), ("externalReference", "external")):
        if value.get(attribute):
            reader.found.form = {key: value.get(attribute, "")}
            return


def _script(reader: ExtensionReader, value: etree._Element | str) -> None:
    assert isinstance(value, etree._Element)
    expression, result = value.get("expression"), value.get("resultVariable")
    if not expression or not result:
        reader.refuse("zeebe:script needs an expression and a resultVariable")
        return
    reader.found.script = (from_camunda(expression), result)


def _subscription(reader: ExtensionReader, value: etree._Element | str) -> None:
    assert isinstance(value, etree._Element)
    key = value.get("correlationKey")
    if not key:
        return
    reader.found.correlation_key = key if split(value.tag)[0] == LEGATO else from_camunda(key)


# --- Legato ------------------------------------------------------------------------------


def _retry(reader: ExtensionReader, value: etree._Element | str) -> None:
    assert isinstance(value, etree._Element)
    names = {
        "maxAttempts": "max_attempts",
        "initialBackoff": "initial_backoff",
        "multiplier": "multiplier",
        "maxBackoff": "max_backoff",
        "jitter": "jitter",
    }
    fields: dict[str, object] = {}
    for attribute, name in names.items():
        text = value.get(attribute)
        if text is None:
            continue
        try:
            fields[name] = int(text) if name == "max_attempts" else float(text)
        except ValueError:
            reader.refuse(f"legato:retry {attribute}={text!r} is not a number")
    blocked = value.get("nonRetryable")
    if blocked:
        fields["non_retryable"] = tuple(part.strip() for part in blocked.split(",") if part.strip())
    reader.found.retry = RetryPolicy(**fields)  # type: ignore[arg-type]


def _timeout(reader: ExtensionReader, value: etree._Element | str) -> None:
    assert isinstance(value, etree._Element)
    try:
        reader.found.timeout = float(value.get("seconds", ""))
    except ValueError:
        reader.refuse(f"legato:timeout seconds={value.get('seconds')!r} is not a number")


def _form(reader: ExtensionReader, value: etree._Element | str) -> None:
    assert isinstance(value, etree._Element)
    try:
        form = orjson.loads(value.text or "")
    except orjson.JSONDecodeError as error:
        reader.refuse(f"legato:form is not JSON: {error}")
        return
    if not isinstance(form, dict):
        reader.refuse("legato:form must be a JSON object")
        return
    reader.found.form = form


def _description(reader: ExtensionReader, value: etree._Element | str) -> None:
    assert isinstance(value, etree._Element)
    reader.found.description = value.text or ""


def _legato_message(reader: ExtensionReader, value: etree._Element | str) -> None:
    reader.found.error_message = str(value)


# --- helpers -----------------------------------------------------------------------------


def _seconds(text: str) -> float | None:
    try:
        duration = isodate.parse_duration(text)
    except (isodate.ISO8601Error, ValueError):
        return None
    if not isinstance(duration, timedelta):  # months or years: not a fixed interval
        return None
    return duration.total_seconds()


def _set_assignee(reader: ExtensionReader, value: str, what: str) -> None:
    reader.found.assignee = value  # a fixed user, or an expression evaluated when the task opens


def _set_groups(reader: ExtensionReader, value: str, what: str) -> None:
    reader.found.candidate_groups = _names(value)


def _names(value: str) -> tuple[str, ...]:
    """Comma-separated names, or one expression evaluated when the task opens."""
    if value.startswith("=") or "${" in value or "#{" in value:
        return (value,)
    return tuple(name.strip() for name in value.split(",") if name.strip())


def _sensitive(reader: ExtensionReader, value: etree._Element | str) -> None:
    """`legato:sensitive="iban password"` on a process: the variables it holds sensitive."""
    _add_sensitive(reader, str(value))


def _properties(reader: ExtensionReader, value: etree._Element | str) -> None:
    """Camunda's extension properties on a process: `<camunda:property name="sensitive"
    value="iban, password"/>` (or `zeebe:property`) declares sensitive variables, as a
    modeler without Legato's namespace can write it; other properties are not kept."""
    assert isinstance(value, etree._Element)
    for item in value.iterchildren(etree.Element):
        name = item.get("name") or ""
        if split(item.tag)[1] == "property" and name.lower() in ("sensitive", "legato.sensitive", "legato:sensitive"):
            _add_sensitive(reader, item.get("value") or "")
        else:
            reader.warn(f"property:{name}", f"extension property {name!r} is not kept")


def _add_sensitive(reader: ExtensionReader, text: str) -> None:
    from legato.model.sensitive import check_pattern

    for name in re.split(r"[\s,]+", text.strip()):
        if not name:
            continue
        problem = check_pattern(name)
        if problem is not None:
            reader.refuse(problem)
        elif name not in reader.found.sensitive:
            reader.found.sensitive = (*reader.found.sensitive, name)


HANDLERS: Final[dict[str, _Handler]] = {
    "camunda:type": _camunda_type,
    "camunda:topic": _ignore,
    "camunda:class": _delegate,
    "camunda:delegateExpression": _delegate,
    "camunda:expression": _delegate,
    "camunda:resultVariable": _result_variable,
    "camunda:connector": _connector,
    "camunda:resource": _resource,
    "camunda:failedJobRetryTimeCycle": _retry_cycle,
    "camunda:inputOutput": _input_output,
    "camunda:assignee": _assignee,
    "camunda:candidateGroups": _candidate_groups,
    "camunda:candidateUsers": _candidate_users,
    "camunda:dueDate": _due_date,
    "camunda:followUpDate": _follow_up_date,
    "camunda:priority": _priority,
    "camunda:formKey": _form_key,
    "camunda:formRef": _form_ref,
    "camunda:errorMessage": _error_message,
    "zeebe:taskDefinition": _task_definition,
    "zeebe:ioMapping": _io_mapping,
    "zeebe:assignmentDefinition": _assignment,
    "zeebe:taskSchedule": _task_schedule,
    "zeebe:priorityDefinition": _priority_definition,
    "zeebe:formDefinition": _form_definition,
    "zeebe:script": _script,
    "zeebe:subscription": _subscription,
    "legato:retry": _retry,
    "legato:timeout": _timeout,
    "legato:ioMapping": _io_mapping,
    "legato:form": _form,
    "legato:description": _description,
    "legato:subscription": _subscription,
    "legato:messageRoute": _message_route,
    "legato:message": _legato_message,
    "legato:sensitive": _sensitive,
    "camunda:properties": _properties,
    "zeebe:properties": _properties,
    **INVOCATION_HANDLERS,
}
