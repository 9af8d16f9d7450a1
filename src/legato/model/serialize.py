"""The stored JSON form of a definition, and its checksum.

The stored form is what the database keeps and what an instance runs against for its
whole life, so it is explicit (a `kind` on every element, a `type` on every event
definition: timer, message, error, terminate), versioned
(`format`), and round-trips exactly. The checksum of the canonical form decides whether a
redeploy is a change (a new version) or a no-op.
"""

from __future__ import annotations

import dataclasses
import hashlib
from typing import Any

import orjson

from legato.errors import ModelInvalid, Problem
from legato.model.diagram import Bounds, Diagram, Edge, Lane, Participant, Shape
from legato.model.elements import (
    ELEMENT_TYPES,
    CancelDefinition,
    CompensationDefinition,
    ConditionalDefinition,
    ErrorDefinition,
    EscalationDefinition,
    LinkDefinition,
    MessageDefinition,
    MessageRoute,
    MultiInstance,
    RetryPolicy,
    SequenceFlow,
    SignalDefinition,
    StandardLoop,
    TerminateDefinition,
    TimerDefinition,
)
from legato.model.process import ProcessDefinition

FORMAT_VERSION = 1

_EVENT_TYPES: dict[str, type[Any]] = {
    "timer": TimerDefinition,
    "message": MessageDefinition,
    "error": ErrorDefinition,
    "terminate": TerminateDefinition,
    "link": LinkDefinition,
    "signal": SignalDefinition,
    "escalation": EscalationDefinition,
    "compensation": CompensationDefinition,
    "conditional": ConditionalDefinition,
    "cancel": CancelDefinition,
}
_EVENT_KINDS = {cls: kind for kind, cls in _EVENT_TYPES.items()}


def to_dict(definition: ProcessDefinition) -> dict[str, Any]:
    return {
        "format": FORMAT_VERSION,
        "id": definition.id,
        "name": definition.name,
        "documentation": definition.documentation,
        "elements": [_element_to_dict(e) for e in definition.elements.values()],
        "flows": [_plain(dataclasses.asdict(f)) for f in definition.flows.values()],
        **_presentation_to_dict(definition),
        # Present only when declared, so that other models keep their stored form and checksum.
        **({"sensitive": list(definition.sensitive)} if definition.sensitive else {}),
        **({"not_executable": list(definition.not_executable)} if definition.not_executable else {}),
    }


def from_dict(data: Any) -> ProcessDefinition:
    """Build a definition from its stored form; malformed data raises ModelInvalid."""
    if not isinstance(data, dict):
        raise ModelInvalid([Problem(element=None, message="a definition must be an object")])
    version = data.get("format", FORMAT_VERSION)
    if version != FORMAT_VERSION:
        raise ModelInvalid([Problem(element=None, message=f"unknown format version {version!r}")])
    elements = {}
    for raw in _list(data.get("elements"), "elements"):
        element = _element_from_dict(raw)
        elements[element.id] = element
    flows = {}
    for raw in _list(data.get("flows"), "flows"):
        flow = _build(SequenceFlow, raw, where=str(raw.get("id") if isinstance(raw, dict) else None))
        flows[flow.id] = flow
    return ProcessDefinition(
        id=str(data.get("id")),
        name=data.get("name"),
        documentation=data.get("documentation"),
        elements=elements,
        flows=flows,
        sensitive=_sensitive(data.get("sensitive")),
        not_executable=_reasons(data.get("not_executable")),
        **_presentation_from_dict(data),
    )


def _sensitive(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(name, str) for name in value):
        raise ModelInvalid([Problem(element=None, message="sensitive must be a list of variable names")])
    return tuple(value)


def _reasons(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(reason, str) for reason in value):
        raise ModelInvalid([Problem(element=None, message="not_executable must be a list of reasons")])
    return tuple(value)


def checksum(definition: ProcessDefinition) -> str:
    """A digest that changes exactly when the model's meaning can change.

    Elements are sorted by id, since their order means nothing. Flows are sorted by their
    source only, with a stable sort: the order of one element's outgoing flows is kept,
    because an exclusive gateway takes the first flow whose condition holds.
    """
    data = to_dict(definition)
    data["elements"] = sorted(data["elements"], key=lambda element: element["id"])
    data["flows"] = sorted(data["flows"], key=lambda flow: flow["source"])
    canonical = orjson.dumps(data, option=orjson.OPT_SORT_KEYS)
    return hashlib.sha256(canonical).hexdigest()


def _presentation_to_dict(definition: ProcessDefinition) -> dict[str, Any]:
    """Lanes, pool and diagram: present only when the model has them, so that a model
    without them keeps the stored form (and checksum) it had before they existed."""
    data: dict[str, Any] = {}
    if definition.lanes:
        data["lanes"] = [_plain(dataclasses.asdict(lane)) for lane in definition.lanes]
    if definition.participant is not None:
        data["participant"] = dataclasses.asdict(definition.participant)
    if definition.diagram is not None:
        data["diagram"] = _plain(dataclasses.asdict(definition.diagram))
    return data


def _presentation_from_dict(data: dict[str, Any]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    try:
        if data.get("lanes"):
            result["lanes"] = tuple(_lane(raw) for raw in data["lanes"])
        if data.get("participant"):
            result["participant"] = Participant(**data["participant"])
        if data.get("diagram"):
            raw = data["diagram"]
            result["diagram"] = Diagram(
                id=raw.get("id", "diagram"),
                shapes=tuple(
                    Shape(
                        element=s["element"],
                        bounds=Bounds(**s["bounds"]),
                        expanded=s.get("expanded"),
                        horizontal=s.get("horizontal"),
                        label=Bounds(**s["label"]) if s.get("label") else None,
                    )
                    for s in raw.get("shapes", [])
                ),
                edges=tuple(
                    Edge(
                        element=e["element"],
                        waypoints=tuple((float(x), float(y)) for x, y in e["waypoints"]),
                        label=Bounds(**e["label"]) if e.get("label") else None,
                    )
                    for e in raw.get("edges", [])
                ),
            )
    except (TypeError, KeyError, ValueError) as exc:
        raise ModelInvalid([Problem(element=None, message=f"malformed lanes or diagram: {exc}")]) from None
    return result


def _lane(raw: dict[str, Any]) -> Lane:
    return Lane(
        id=raw["id"],
        name=raw.get("name"),
        elements=tuple(raw.get("elements", ())),
        lanes=tuple(_lane(child) for child in raw.get("lanes", ())),
    )


def _element_to_dict(element: Any) -> dict[str, Any]:
    data: dict[str, Any] = {"kind": element.kind}
    for f in dataclasses.fields(element):
        value = getattr(element, f.name)
        if _is_default(f, value):
            continue  # a field added later keeps older models' stored form, and so their checksum
        if f.name == "event" and value is not None:
            value = {"type": _EVENT_KINDS[type(value)], **dataclasses.asdict(value)}
        elif f.name == "alternatives":
            value = [{"type": _EVENT_KINDS[type(item)], **dataclasses.asdict(item)} for item in value]
        elif f.name in ("retry", "multi_instance", "loop") and value is not None:
            value = dataclasses.asdict(value)
        elif f.name == "routes":
            value = [dataclasses.asdict(route) for route in value]
        data[f.name] = _plain(value)
    return {k: v for k, v in data.items() if v not in (None, {}, ())}


def _is_default(field: dataclasses.Field[Any], value: Any) -> bool:
    if field.default is not dataclasses.MISSING:
        return bool(value == field.default)
    if field.default_factory is not dataclasses.MISSING:
        return bool(value == field.default_factory())
    return False


def _event_from_dict(event: dict[str, Any], where: str) -> Any:
    event_type = event.get("type")
    event_cls = _EVENT_TYPES.get(event_type) if isinstance(event_type, str) else None
    if event_cls is None:
        raise ModelInvalid([Problem(element=where, message=f"unknown event type {event_type!r}")])
    return _build(event_cls, {k: v for k, v in event.items() if k != "type"}, where)


def _element_from_dict(raw: Any) -> Any:
    if not isinstance(raw, dict):
        raise ModelInvalid([Problem(element=None, message="each element must be an object")])
    where = str(raw.get("id"))
    kind = raw.get("kind")
    cls = ELEMENT_TYPES.get(kind) if isinstance(kind, str) else None
    if cls is None:
        raise ModelInvalid([Problem(element=where, message=f"unknown element kind {kind!r}")])
    fields = dict(raw)
    fields.pop("kind")
    event = fields.get("event")
    if isinstance(event, dict):
        fields["event"] = _event_from_dict(event, where)
    routes = fields.get("routes")
    if isinstance(routes, list):
        fields["routes"] = tuple(_build(MessageRoute, r, where) if isinstance(r, dict) else r for r in routes)
    alternatives = fields.get("alternatives")
    if isinstance(alternatives, list):
        fields["alternatives"] = tuple(
            _event_from_dict(item, where) if isinstance(item, dict) else item for item in alternatives
        )
    if isinstance(fields.get("retry"), dict):
        retry = dict(fields["retry"])
        if "non_retryable" in retry:
            retry["non_retryable"] = tuple(retry["non_retryable"])
        fields["retry"] = _build(RetryPolicy, retry, where)
    if isinstance(fields.get("multi_instance"), dict):
        fields["multi_instance"] = _build(MultiInstance, fields["multi_instance"], where)
    if isinstance(fields.get("loop"), dict):
        fields["loop"] = _build(StandardLoop, fields["loop"], where)
    if "candidate_groups" in fields and isinstance(fields["candidate_groups"], list):
        fields["candidate_groups"] = tuple(fields["candidate_groups"])
    return _build(cls, fields, where)


def _build(cls: type[Any], fields: Any, where: str) -> Any:
    if not isinstance(fields, dict):
        raise ModelInvalid([Problem(element=where, message=f"{cls.__name__} must be an object")])
    known = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(fields) - known)
    if unknown:
        raise ModelInvalid([Problem(element=where, message=f"unknown field(s) {', '.join(unknown)}")])
    try:
        return cls(**fields)
    except TypeError as exc:
        raise ModelInvalid([Problem(element=where, message=str(exc))]) from None


def _list(value: Any, name: str) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise ModelInvalid([Problem(element=None, message=f"'{name}' must be a list")])
    return value


def _plain(value: Any) -> Any:
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value
