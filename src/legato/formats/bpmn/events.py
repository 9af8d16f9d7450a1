"""Events read into Legato's model: start, end, intermediate catch and throw, boundary.

An event has at most one event definition (BPMN 2.0, 10.5.1; a "multiple" event is
refused), and which ones it may have depends on where it is: a message can start a
process but not end one, an error starts an event subprocess but not a process. The
references in a definition (`messageRef`, `errorRef`, `signalRef`, `escalationRef`) are
resolved through the document's `Catalog`, so the model holds names and codes, not ids.

A message throw or end event is sent by a handler, as Camunda does it: a job of the task
type in `zeebe:taskDefinition` (Camunda 8) or in `camunda:type="external"
camunda:topic` on the message event definition (Camunda 7).

A compensation boundary event is not an element of Legato's model: it is how BPMN draws
`Activity.compensated_by` (10.5.5, "Compensation Event"), so `boundary` hands it to the
reader, which resolves it once the whole process and its associations are read.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from lxml import etree

from legato.formats.bpmn import unsupported
from legato.formats.bpmn.extensions import Extensions, read_extensions
from legato.formats.bpmn.namespaces import BPMN, CAMUNDA, ZEEBE, split
from legato.model.cron import day_names, looks_like_cron
from legato.model.elements import (
    MESSAGE_TASK_TYPE,
    BoundaryEvent,
    CancelDefinition,
    CompensationDefinition,
    ConditionalDefinition,
    Element,
    EndEvent,
    ErrorDefinition,
    EscalationDefinition,
    IntermediateCatchEvent,
    IntermediateThrowEvent,
    LinkDefinition,
    MessageDefinition,
    MessageRoute,
    SignalDefinition,
    StartEvent,
    TerminateDefinition,
    TimerDefinition,
)

if TYPE_CHECKING:
    from legato.formats.bpmn.elements import FlowReader

Trigger = (
    TimerDefinition
    | MessageDefinition
    | ErrorDefinition
    | TerminateDefinition
    | SignalDefinition
    | EscalationDefinition
    | LinkDefinition
    | CompensationDefinition
    | ConditionalDefinition
    | CancelDefinition
)

_TIMERS: Final = {"timeDuration": "duration", "timeDate": "date", "timeCycle": "cycle"}
_PROCESS_STARTS: Final = ("timer", "message", "signal", "conditional")
_EVENT_SUBPROCESS_STARTS: Final = ("timer", "message", "signal", "error", "escalation", "conditional", "compensate")
_CONDITION_LANGUAGES: Final = ("feel", "juel", "legato")
_CATCH_TRIGGERS: Final = (TimerDefinition, MessageDefinition, SignalDefinition, LinkDefinition, ConditionalDefinition)
_BOUNDARY_TRIGGERS: Final = (
    TimerDefinition,
    ErrorDefinition,
    MessageDefinition,
    SignalDefinition,
    EscalationDefinition,
    ConditionalDefinition,
    CancelDefinition,
)


def trigger(reader: FlowReader, node: etree._Element, allowed: tuple[str, ...]) -> Trigger | None:
    """The one event definition of an event, if it is one of `allowed` (else refused).

    None means the event has no definition, or that it was refused: `reader.refused(node)`
    tells them apart.
    """
    return trigger_with_extensions(reader, node, allowed)[0]


def trigger_with_extensions(
    reader: FlowReader, node: etree._Element, allowed: tuple[str, ...]
) -> tuple[Trigger | None, Extensions | None]:
    """`trigger`, and the extensions of its event definition (Camunda 7 puts a message
    throw's handler there)."""
    definitions = [c for c in node.iterchildren(f"{{{BPMN}}}*") if split(c.tag)[1].endswith("EventDefinition")]
    if any(split(c.tag)[1] == "eventDefinitionRef" for c in node.iterchildren(etree.Element)):
        reader.context.refuse(node, "eventDefinitionRef is not supported: define the trigger inside the event")
    if len(definitions) > 1:
        reader.context.refuse(
            node,
            "a catch or boundary event with several triggers (a multiple event) is not supported: put an "
            "event-based gateway before one catch event per trigger, or one boundary event per trigger",
        )
        return None, None
    if not definitions:
        return None, None
    definition = definitions[0]
    kind = split(definition.tag)[1].removesuffix("EventDefinition")
    if kind not in allowed:
        what = split(node.tag)[1]
        reader.context.refuse(node, f"{kind} {what}s are not supported: {advice(kind)}")
        return None, None
    found = read_extensions(reader.context, definition, f"{kind}EventDefinition", node.get("id"))
    return _definition(reader, node, definition, kind), found


def _definition(reader: FlowReader, node: etree._Element, definition: etree._Element, kind: str) -> Trigger | None:
    if kind == "timer":
        return _timer(reader, node, definition)
    if kind == "message":
        return message(reader, node, reader.context.reference(definition, "messageRef", node))
    if kind == "error":
        return _error(reader, node, definition)
    if kind == "signal":
        return _signal(reader, node, definition)
    if kind == "escalation":
        return _escalation(reader, node, definition)
    if kind == "link":
        return LinkDefinition(name=definition.get("name") or "")
    if kind == "compensate":
        return _compensate(reader, node, definition)
    if kind == "conditional":
        return _conditional(reader, node, definition)
    if kind == "cancel":
        return CancelDefinition()
    return TerminateDefinition()


def advice(kind: str) -> str:
    """What to do about an event definition of `kind` where it cannot go."""
    return unsupported.MISPLACED.get(kind, "use a timer, message, signal, error or escalation event")


def message(reader: FlowReader, node: etree._Element, reference: str | None) -> MessageDefinition | None:
    """The message a `messageRef` names, for an event or a receive task; a throw along
    message flows without one sends the message its (first) target waits for."""
    routes = reader.context.message_routes.get(node.get("id", ""), ())
    if not reference and routes and split(node.tag)[1] in ("intermediateThrowEvent", "endEvent"):
        return MessageDefinition(message=routes[0].message)
    if not reference:
        reader.context.refuse(node, "a message event needs a messageRef naming the bpmn:message it is for")
        return None
    found = reader.catalog.messages.get(reference)
    if found is None:
        reader.context.refuse(node, f"messageRef {reference!r} names no bpmn:message in the document")
        return None
    if not found.name:
        reader.context.refuse(node, f"message {reference!r} has no name, and messages are correlated by name")
        return None
    return MessageDefinition(message=found.name, correlation_key=found.correlation_key)


def _timer(reader: FlowReader, event: etree._Element, definition: etree._Element) -> TimerDefinition | None:
    given = [c for c in definition.iterchildren(f"{{{BPMN}}}*") if split(c.tag)[1] in _TIMERS]
    if len(given) != 1 or not (given[0].text or "").strip():
        reader.context.refuse(event, "a timer needs exactly one of timeDuration, timeDate or timeCycle, with a value")
        return None
    # ISO 8601, or an expression whose marker names its dialect: as Legato reads timers
    kind, value = _TIMERS[split(given[0].tag)[1]], (given[0].text or "").strip()
    if kind == "cycle" and looks_like_cron(value):
        # Day-of-week numbers count from Sunday in Quartz (Camunda 7), from Monday in Spring
        # (Camunda 8, a file with zeebe: and no camunda: extensions): kept as names
        spring = ZEEBE in reader.context.prefixes and CAMUNDA not in reader.context.prefixes
        value = day_names(value, spring=spring)
    return TimerDefinition(kind=kind, value=value)


def _error(reader: FlowReader, event: etree._Element, definition: etree._Element) -> ErrorDefinition | None:
    reference = reader.context.reference(definition, "errorRef", event)
    if not reference:
        return ErrorDefinition()
    error = reader.catalog.errors.get(reference)
    if error is None:
        reader.context.refuse(event, f"errorRef {reference!r} names no bpmn:error in the document")
        return None
    return ErrorDefinition(code=error.code, message=error.message)


def _signal(reader: FlowReader, event: etree._Element, definition: etree._Element) -> SignalDefinition | None:
    reference = reader.context.reference(definition, "signalRef", event)
    if not reference:
        reader.context.refuse(event, "a signal event needs a signalRef naming the bpmn:signal it is for")
        return None
    signal = reader.catalog.signals.get(reference)
    if signal is None:
        reader.context.refuse(event, f"signalRef {reference!r} names no bpmn:signal in the document")
        return None
    if not signal:
        reader.context.refuse(event, f"signal {reference!r} has no name, and signals are broadcast by name")
        return None
    return SignalDefinition(signal=signal)


def _escalation(reader: FlowReader, event: etree._Element, definition: etree._Element) -> EscalationDefinition | None:
    reference = reader.context.reference(definition, "escalationRef", event)
    if not reference:
        return EscalationDefinition()  # a catch without a reference catches any escalation
    if reference not in reader.catalog.escalations:
        reader.context.refuse(event, f"escalationRef {reference!r} names no bpmn:escalation in the document")
        return None
    return EscalationDefinition(code=reader.catalog.escalations[reference])


def _conditional(reader: FlowReader, event: etree._Element, definition: etree._Element) -> ConditionalDefinition | None:
    """`bpmn:condition`, kept as written (FEEL, JUEL or Legato's dialect, by its marker)."""
    condition = definition.find(f"{{{BPMN}}}condition")
    text = (condition.text or "").strip() if condition is not None else ""
    if not text:
        reader.context.refuse(event, "a conditional event needs a condition")
        return None
    language = (condition.get("language") or "").lower() if condition is not None else ""
    if language and not any(known in language for known in _CONDITION_LANGUAGES):
        reader.context.refuse(event, f"a condition in {language!r} cannot run in Legato; write it as an expression")
        return None
    return ConditionalDefinition(condition=text)


def _compensate(reader: FlowReader, event: etree._Element, definition: etree._Element) -> CompensationDefinition:
    if definition.get("waitForCompletion") == "false":
        reader.context.warn(
            event,
            "waitForCompletion",
            'waitForCompletion="false" is ignored: a compensation throw waits until the undo is done',
        )
    return CompensationDefinition(activity=reader.context.reference(definition, "activityRef", event))


# --- one builder per event kind ---------------------------------------------------------


def start(reader: FlowReader, node: etree._Element, common: dict[str, object]) -> Element | None:
    found = read_extensions(reader.context, node, "startEvent")
    if found.inputs:
        reader.context.refuse(node, "a start event takes output mappings only: nothing flows into it to map")
    in_event_subprocess = common["parent"] in reader.event_subprocesses
    interrupting = not in_event_subprocess or node.get("isInterrupting", "true") != "false"
    definitions = [c for c in node.iterchildren(f"{{{BPMN}}}*") if split(c.tag)[1].endswith("EventDefinition")]
    if len(definitions) > 1:
        return _multiple_start(reader, node, common, definitions, interrupting, found.outputs)
    event = trigger(reader, node, _EVENT_SUBPROCESS_STARTS if in_event_subprocess else _PROCESS_STARTS)
    if reader.refused(node):
        return None
    assert not isinstance(event, TerminateDefinition | LinkDefinition)
    if isinstance(event, CompensationDefinition):
        event = CompensationDefinition()  # it is started by the compensation of its subprocess, nothing to name
    return StartEvent(**common, event=event, interrupting=interrupting, outputs=found.outputs)  # type: ignore[arg-type]


def _multiple_start(
    reader: FlowReader,
    node: etree._Element,
    common: dict[str, object],
    definitions: list[etree._Element],
    interrupting: bool,
    outputs: dict[str, str],
) -> Element | None:
    """A Multiple start event (BPMN 2.0.2, 10.5.2): any one of its triggers starts it.

    Messages, signals, one timer and conditions, at process level and in an event
    subprocess. `parallelMultiple="true"` (all the triggers needed) is refused: neither
    Camunda engine runs it, and which occurrences belong together is left open by the spec.
    """
    if node.get("parallelMultiple") == "true":
        reader.context.refuse(
            node,
            'a start event that needs all of its triggers (parallelMultiple="true") is not supported: start on '
            "one of them and wait for the others with catch events behind a parallel gateway",
        )
        return None
    triggers = []
    for definition in definitions:
        kind = split(definition.tag)[1].removesuffix("EventDefinition")
        if kind not in ("timer", "message", "signal", "conditional"):
            reader.context.refuse(
                node,
                f"a start event with several triggers takes timers, messages, signals and conditions, not {kind}: "
                f"give the {kind} an event subprocess of its own",
            )
            return None
        read_extensions(reader.context, definition, f"{kind}EventDefinition", node.get("id"))
        found = _definition(reader, node, definition, kind)
        if found is None:
            return None
        triggers.append(found)
    if sum(isinstance(found, TimerDefinition) for found in triggers) > 1:
        reader.context.refuse(node, "a start event with several triggers may have one timer of them: use a cycle")
        return None
    return StartEvent(
        **common,  # type: ignore[arg-type]
        event=triggers[0],  # type: ignore[arg-type]
        alternatives=tuple(triggers[1:]),  # type: ignore[arg-type]
        interrupting=interrupting,
        outputs=outputs,
    )


def end(reader: FlowReader, node: etree._Element, common: dict[str, object]) -> Element | None:
    found = read_extensions(reader.context, node, "endEvent")
    event, definition = trigger_with_extensions(
        reader, node, ("terminate", "error", "escalation", "signal", "compensate", "message", "cancel")
    )
    if reader.refused(node):
        return None
    assert not isinstance(event, TimerDefinition | LinkDefinition | ConditionalDefinition)
    task_type = _sender(reader, node, found, definition) if isinstance(event, MessageDefinition) else found.task_type
    routes = _routes(reader, node, found) if task_type == MESSAGE_TASK_TYPE else ()
    return EndEvent(**common, event=event, task_type=task_type, routes=routes)  # type: ignore[arg-type]


def catch(reader: FlowReader, node: etree._Element, common: dict[str, object]) -> Element | None:
    read_extensions(reader.context, node, "intermediateCatchEvent")
    event = trigger(reader, node, ("timer", "message", "signal", "link", "conditional"))
    if not isinstance(event, _CATCH_TRIGGERS):
        if not reader.refused(node):
            reader.context.refuse(
                node, "an intermediate catch event needs a timer, a message, a signal, a link or a condition"
            )
        return None
    return IntermediateCatchEvent(**common, event=event)  # type: ignore[arg-type]


def throw(reader: FlowReader, node: etree._Element, common: dict[str, object]) -> Element | None:
    found = read_extensions(reader.context, node, "intermediateThrowEvent")
    event, definition = trigger_with_extensions(reader, node, ("signal", "escalation", "link", "compensate", "message"))
    if reader.refused(node):
        return None
    assert not isinstance(event, TimerDefinition | ErrorDefinition | TerminateDefinition | ConditionalDefinition)
    task_type = _sender(reader, node, found, definition) if isinstance(event, MessageDefinition) else found.task_type
    routes = _routes(reader, node, found) if task_type == MESSAGE_TASK_TYPE else ()
    return IntermediateThrowEvent(**common, event=event, task_type=task_type, routes=routes)  # type: ignore[arg-type]


def _routes(reader: FlowReader, node: etree._Element, found: Extensions) -> tuple[MessageRoute, ...]:
    """The message flows a message is sent along: the file's, or the export's legato:messageRoute."""
    return reader.context.message_routes.get(node.get("id", ""), ()) or tuple(found.message_routes)


def _sender(reader: FlowReader, node: etree._Element, found: Extensions, definition: Extensions | None) -> str | None:
    """The task type whose handler sends a thrown message: Camunda 8's `zeebe:taskDefinition`
    on the event, or Camunda 7's external task on its message event definition."""
    task_type = found.task_type or (definition.task_type if definition is not None else None)
    if task_type is None and reader.context.message_routes.get(node.get("id", "")):
        return MESSAGE_TASK_TYPE  # no handler: Legato sends it along the file's message flows
    if task_type is None and not reader.refused(node):
        reader.context.refuse(
            node,
            'a message throw event is sent by a handler: give it a task type, zeebe:taskDefinition type="..." '
            '(Camunda 8) or camunda:type="external" camunda:topic="..." on the message event definition (Camunda 7)',
        )
    if found.retries is not None or found.retry is not None:
        reader.context.warn(
            node, "throw retries", "the retries of a message throw event are not kept: its job retries by default"
        )
    return task_type


def boundary(reader: FlowReader, node: etree._Element, common: dict[str, object]) -> Element | None:
    read_extensions(reader.context, node, "boundaryEvent")
    allowed = ("timer", "error", "message", "signal", "escalation", "compensate", "conditional", "cancel")
    event = trigger(reader, node, allowed)
    attached_to = reader.context.reference(node, "attachedToRef") or ""
    if isinstance(event, CompensationDefinition):
        reader.compensation_boundary(node, attached_to)
        return None
    if not isinstance(event, _BOUNDARY_TRIGGERS):
        if not reader.refused(node):
            reader.context.refuse(
                node,
                "a boundary event needs a timer, an error, a message, a signal, an escalation, a condition "
                "or compensation",
            )
        return None
    return BoundaryEvent(
        **common,  # type: ignore[arg-type]
        attached_to=attached_to,
        cancel_activity=node.get("cancelActivity", "true") != "false",
        event=event,
    )


BUILDERS: Final = {
    "startEvent": start,
    "endEvent": end,
    "intermediateCatchEvent": catch,
    "intermediateThrowEvent": throw,
    "boundaryEvent": boundary,
}
