"""Data associations that assign data (BPMN 2.0.2, 10.4.5 "Data Associations").

A `dataInputAssociation` with an `assignment` copies a value into one of the activity's data
inputs when it starts; a `dataOutputAssociation` with one copies a value out of the
activity's results when it completes. Each assignment is read as the mapping Camunda
writes as an input or output parameter:

    <dataInputAssociation>                      inputs["total"] = "order.total"
      <targetRef>DataInput_total</targetRef>      (DataInput_total's name is "total")
      <assignment>
        <from>order.total</from>                  an expression, in the dialect of its marker
        <to>DataInput_total</to>                  a data input (or object) by id, or a name
      </assignment>
    </dataInputAssociation>

`to` may be left out: the association's `targetRef` says where the value goes. An
association without an assignment only draws which data an activity reads or writes
(bpmn.io draws one for every line to a data object) and changes nothing. A
`transformation` is refused: it is a function of the whole source, which a mapping is not.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Final

from lxml import etree

from legato.formats.bpmn.loop_data import data_name
from legato.formats.bpmn.namespaces import BPMN

if TYPE_CHECKING:
    from legato.formats.bpmn.context import Context

_TRANSFORMATION: Final = (
    "a data association's transformation is not supported: assign each value with an assignment "
    "(from, to), or map it with camunda:inputOutput or zeebe:ioMapping"
)


@dataclass
class Assigned:
    """The mappings the data associations of one activity assign."""

    inputs: dict[str, str] = field(default_factory=dict)
    outputs: dict[str, str] = field(default_factory=dict)


def read_assignments(context: Context, activity: etree._Element) -> Assigned:
    """The input and output mappings `activity`'s data associations assign."""
    assigned = Assigned()
    for tag, mapping in (("dataInputAssociation", assigned.inputs), ("dataOutputAssociation", assigned.outputs)):
        for association in activity.iterchildren(f"{{{BPMN}}}{tag}"):
            if association.find(f"{{{BPMN}}}transformation") is not None:
                context.refuse(activity, _TRANSFORMATION)
            target = (association.findtext(f"{{{BPMN}}}targetRef") or "").strip()
            for assignment in association.iterchildren(f"{{{BPMN}}}assignment"):
                source = (assignment.findtext(f"{{{BPMN}}}from") or "").strip()
                to = (assignment.findtext(f"{{{BPMN}}}to") or "").strip() or target
                if not source or not to:
                    context.refuse(activity, f"an assignment of a {tag} needs a from and a to (or the targetRef)")
                    continue
                name = data_name(context, activity, to, f"{tag} assignment to")
                if name is None:
                    continue
                if name in mapping:
                    context.refuse(activity, f"{name!r} is assigned twice by the {tag}s")
                    continue
                mapping[name] = source
    return assigned
