"""BPMN's own multi-instance data (BPMN 2.0.2, 10.3.7): the collection and its items
named by data elements, not by a Camunda or Zeebe extension.

`loopDataInputRef` names the collection the activity runs once per item of, and
`inputDataItem` the variable each instance sees its item as; `loopDataOutputRef` and
`outputDataItem` name the collection the instances' results are gathered into and the
variable each instance leaves its result in. A reference is the id of an item-aware element
(a QName, `tns:orders` too):

- a `dataObject`, `property`, or the process's `dataInput`/`dataOutput`: its `name` is the
  variable (its id when the name is no variable name, as in "Order lines");
- a `dataObjectReference`: the data object it refers to;
- a `dataInput` (`dataOutput`) of the activity's own `ioSpecification`: the data object its
  `dataInputAssociation` comes from (its `dataOutputAssociation` goes to), or its own name.

A reference that names nothing in the document is a variable's name, as SpiffWorkflow and
bpmn.io examples write it (`<loopDataInputRef>approvers</loopDataInputRef>`). A data item
is named by its `name`, else its `id`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

from lxml import etree

from legato.formats.bpmn.namespaces import BPMN, split

if TYPE_CHECKING:
    from legato.formats.bpmn.context import Context

_VARIABLE: Final = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_NAMED: Final = frozenset({"dataObject", "property", "dataInput", "dataOutput"})


@dataclass(frozen=True, kw_only=True, slots=True)
class LoopData:
    """The variables a multi-instance marker names through data elements (None: not given)."""

    collection: str | None = None
    element_variable: str | None = None
    output_collection: str | None = None
    output_element: str | None = None


def read_loop_data(context: Context, activity: etree._Element, loop: etree._Element) -> LoopData:
    """The data a `multiInstanceLoopCharacteristics` names; problems are told at `activity`."""
    names: dict[str, str | None] = {}
    for tag in ("loopDataInputRef", "loopDataOutputRef"):
        node = loop.find(f"{{{BPMN}}}{tag}")
        names[tag] = None if node is None else _collection(context, activity, node, tag)
    for tag in ("inputDataItem", "outputDataItem"):
        node = loop.find(f"{{{BPMN}}}{tag}")
        names[tag] = None if node is None else _item(context, activity, node, tag)
    for collection, item in (("loopDataInputRef", "inputDataItem"), ("loopDataOutputRef", "outputDataItem")):
        if loop.find(f"{{{BPMN}}}{item}") is not None and loop.find(f"{{{BPMN}}}{collection}") is None:
            context.refuse(activity, f"an {item} needs the {collection} it is an item of")
    if (names["loopDataOutputRef"] is None) != (names["outputDataItem"] is None) and not _refused(context, activity):
        context.refuse(activity, "loopDataOutputRef and outputDataItem go together: the collection and its item")
    return LoopData(
        collection=names["loopDataInputRef"],
        element_variable=names["inputDataItem"],
        output_collection=names["loopDataOutputRef"],
        output_element=names["outputDataItem"],
    )


def _collection(context: Context, activity: etree._Element, node: etree._Element, tag: str) -> str | None:
    written = (node.text or "").strip()
    if not written:
        context.refuse(activity, f"{tag} is empty: name the data object or variable that holds the collection")
        return None
    return data_name(context, activity, written, tag, node)


def data_name(
    context: Context, activity: etree._Element, written: str, tag: str, node: etree._Element | None = None
) -> str | None:
    """The variable a reference to a data element stands for (the rules above); `written`
    is the reference as the file has it, at `node` (whose prefixes resolve it)."""
    node = activity if node is None else node
    reference = context.resolve(node, written, f"{tag} ", at=activity)
    if reference is None:
        return None
    target = _by_id(activity, reference)
    if target is None:
        if not _VARIABLE.match(reference):
            context.refuse(activity, f"{tag} {written!r} names no data element of the document, nor a variable")
            return None
        return reference
    return _variable_of(context, activity, target, tag, seen=set())


def _variable_of(
    context: Context, activity: etree._Element, target: etree._Element, tag: str, seen: set[str]
) -> str | None:
    """The variable a data element stands for, following references and associations."""
    kind = split(target.tag)[1]
    target_id = target.get("id", "")
    if target_id in seen:
        context.refuse(activity, f"{tag}: the data references around {target_id!r} go in a circle")
        return None
    seen.add(target_id)
    if kind == "dataObjectReference":
        data_object = _by_id(activity, target.get("dataObjectRef") or "")
        if data_object is None:
            context.refuse(activity, f"{tag}: data object reference {target_id!r} refers to no data object")
            return None
        return _variable_of(context, activity, data_object, tag, seen)
    if kind in ("dataInput", "dataOutput") and _owner(target) is activity:
        source = _associated(activity, target_id, inbound=kind == "dataInput")
        if source is not None:
            return _variable_of(context, activity, source, tag, seen)
    if kind not in _NAMED and kind != "dataObjectReference":
        context.refuse(activity, f"{tag} names {target_id!r}, a {kind}, which holds no data")
        return None
    return _name(context, activity, target, tag)


def _item(context: Context, activity: etree._Element, node: etree._Element, tag: str) -> str | None:
    return _name(context, activity, node, tag)


def _name(context: Context, activity: etree._Element, node: etree._Element, tag: str) -> str | None:
    for candidate in (node.get("name"), node.get("id")):
        if candidate and _VARIABLE.match(candidate.strip()):
            return str(candidate).strip()
    shown = node.get("name") or node.get("id")
    if shown:
        context.refuse(activity, f"{tag}: neither the name nor the id of {shown!r} is a variable name")
    else:
        context.refuse(activity, f"{tag} needs a name or an id: the variable it stands for")
    return None


def _by_id(activity: etree._Element, element_id: str) -> etree._Element | None:
    if not element_id:
        return None
    found = activity.getroottree().getroot().xpath("//*[@id=$id]", id=element_id)
    return found[0] if isinstance(found, list) and found and isinstance(found[0], etree._Element) else None


def _owner(data: etree._Element) -> etree._Element | None:
    """The activity whose `ioSpecification` declares `data`."""
    specification = data.getparent()
    return specification.getparent() if specification is not None else None


def _associated(activity: etree._Element, data_id: str, *, inbound: bool) -> etree._Element | None:
    """The data element an activity's data association connects `data_id` to."""
    tag = "dataInputAssociation" if inbound else "dataOutputAssociation"
    for association in activity.iterchildren(f"{{{BPMN}}}{tag}"):
        sources = [(ref.text or "").strip().split(":")[-1] for ref in association.iterchildren(f"{{{BPMN}}}sourceRef")]
        target = (association.findtext(f"{{{BPMN}}}targetRef") or "").strip().split(":")[-1]
        if inbound and target == data_id and len(sources) == 1:
            return _by_id(activity, sources[0])
        if not inbound and data_id in sources and target:
            return _by_id(activity, target)
    return None


def _refused(context: Context, activity: etree._Element) -> bool:
    return any(problem.element == activity.get("id") for problem in context.problems)
