"""The messages, errors, signals and escalations a BPMN document declares at its root.

BPMN 2.0 declares `bpmn:message`, `bpmn:error`, `bpmn:signal` and `bpmn:escalation` once
per document (8.4.12, 8.4.3, 10.5.5), and an event names one by id (`messageRef`,
`errorRef`, `signalRef`, `escalationRef`). Legato's events carry the message's or
signal's name and the error's or escalation's code directly, so the reader resolves the
references through this catalog; Camunda 8 puts a message's correlation key on the
message (`zeebe:subscription`), so it is read here too.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from lxml import etree

from legato.formats.bpmn.context import Context
from legato.formats.bpmn.extensions import read_extensions
from legato.formats.bpmn.namespaces import BPMN


@dataclass(frozen=True, kw_only=True, slots=True)
class Message:
    name: str
    correlation_key: str | None


@dataclass(frozen=True, kw_only=True, slots=True)
class Error:
    code: str | None
    message: str | None


@dataclass
class Catalog:
    """The document's root-level messages, errors, signals and escalations, by id.

    A signal is kept as its name, an escalation as its code (None when it has none);
    a name or code written as an expression is refused here, once, for the declaration.
    """

    messages: dict[str, Message] = field(default_factory=dict)
    errors: dict[str, Error] = field(default_factory=dict)
    signals: dict[str, str] = field(default_factory=dict)
    escalations: dict[str, str | None] = field(default_factory=dict)

    @classmethod
    def read(cls, root: etree._Element, context: Context) -> Catalog:
        catalog = cls()
        for node in root.iterchildren(f"{{{BPMN}}}message"):
            extensions = read_extensions(context, node, "message")
            name = node.get("name") or ""
            catalog.messages[node.get("id", "")] = Message(name=name, correlation_key=extensions.correlation_key)
        for node in root.iterchildren(f"{{{BPMN}}}error"):
            extensions = read_extensions(context, node, "error")
            code = node.get("errorCode") or None
            if code is not None and code.startswith("="):
                context.refuse(node, f"the error code {code!r} is an expression; Legato needs a fixed code")
            catalog.errors[node.get("id", "")] = Error(code=code, message=extensions.error_message)
        for node in root.iterchildren(f"{{{BPMN}}}signal"):
            read_extensions(context, node, "signal")
            signal = node.get("name") or ""
            if signal.startswith("="):
                context.refuse(node, f"the signal name {signal!r} is an expression; Legato needs a fixed name")
            catalog.signals[node.get("id", "")] = signal
        for node in root.iterchildren(f"{{{BPMN}}}escalation"):
            read_extensions(context, node, "escalation")
            code = node.get("escalationCode") or None
            if code is not None and code.startswith("="):
                context.refuse(node, f"the escalation code {code!r} is an expression; Legato needs a fixed code")
            catalog.escalations[node.get("id", "")] = code
        return catalog
