"""What the BPMN reader refuses today, and what to model instead.

Each entry is an element of BPMN 2.0 that the engine does not run, or an event definition
where the engine cannot run it. Refusing it at import, with the element's id and line and
a way around it, is better than dropping it and deploying a process that does something
else than its diagram says. When the engine learns an element, its entry moves out of
these tables and into the reader. docs/bpmn.md shows the same tables to users.
"""

from __future__ import annotations

from typing import Final

ELEMENTS: Final[dict[str, str]] = {
    "complexGateway": "use exclusive, inclusive and parallel gateways",
    "adHocSubProcess": "use an embedded subprocess, or user tasks behind an inclusive gateway",
    "subChoreography": "choreographies are not executable; model the process of one participant",
    "choreographyTask": "choreographies are not executable; model the process of one participant",
    "callChoreography": "choreographies are not executable; model the process of one participant",
}
"""Flow elements Legato does not run, with the advice given when a model has one."""

MISPLACED: Final[dict[str, str]] = {
    "message": "a message is sent by a message throw or end event, or a send task, whose handler sends it",
    "error": "an error is thrown by an error end event, and caught by a boundary event or an event subprocess",
    "terminate": "a terminate event can only end a path",
    "timer": "a timer can start, wait or interrupt, not end a path",
    "signal": "a signal starts a process or an event subprocess, waits, interrupts, or is thrown by an "
    "intermediate or end event",
    "escalation": "an escalation is thrown by an intermediate or end event, and caught by a boundary event or an "
    "event subprocess",
    "link": "a link is a pair of intermediate events, a throw and a catch of the same name in one scope",
    "compensate": "compensation is thrown by an intermediate or end event; an activity's undo is a compensation "
    "boundary event associated with a handler (isForCompensation)",
    "conditional": "a condition starts a process (when conditions are evaluated) or an event subprocess, or is "
    "waited for by an intermediate catch event or a boundary event",
    "cancel": "a cancel event is an end event inside a transaction subprocess, or a boundary event on one",
}
"""Advice for an event trigger found where it cannot go: a link end event, a process that
starts on a condition. Every event definition of BPMN 2.0 runs somewhere in Legato, so none
is refused everywhere."""

ARTIFACTS: Final = frozenset(
    {
        "textAnnotation",
        "association",
        "group",
        "dataObject",
        "dataObjectReference",
        "dataStoreReference",
        "dataInputAssociation",
        "dataOutputAssociation",
        "ioSpecification",
        "property",
    }
)
"""Elements that carry no behaviour in Legato: left out of the model, with a warning."""

DATA_SEMANTICS: Final = frozenset({"assignment", "transformation"})
"""Children of a data association that move data at run time: refused, not left out."""

DATA_ADVICE: Final = (
    "data associations that assign or transform data are not supported; map variables with input and output "
    "mappings (zeebe:ioMapping, camunda:inputOutput)"
)
