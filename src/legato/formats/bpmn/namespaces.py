"""The XML namespaces a BPMN file uses, and what the reader makes of each.

BPMN 2.0 (chapter 15, "Exchange Formats") fixes the model, DI, DC and DI-base namespaces;
modelers add their own for execution details (Camunda 7 `camunda:`, Camunda 8 `zeebe:`)
and for bookkeeping (Camunda Modeler `modeler:`, Signavio `signavio:`, bpmn.io colours).
Legato writes one of its own, `legato:`, for what neither Camunda dialect can say (a full
retry policy, a timeout, a form as JSON, an expression in Legato's own dialect).
"""

from __future__ import annotations

import re
from typing import Final

from lxml import etree

BPMN: Final = "http://www.omg.org/spec/BPMN/20100524/MODEL"
BPMNDI: Final = "http://www.omg.org/spec/BPMN/20100524/DI"
DC: Final = "http://www.omg.org/spec/DD/20100524/DC"
DI: Final = "http://www.omg.org/spec/DD/20100524/DI"
XSI: Final = "http://www.w3.org/2001/XMLSchema-instance"
CAMUNDA: Final = "http://camunda.org/schema/1.0/bpmn"
ACTIVITI: Final = "http://activiti.org/bpmn"
"""Activiti's extension namespace, which Camunda 7 grew out of and still reads as its own:
the attributes and elements are the same (`activiti:class`, `activiti:assignee`, ...)."""
ZEEBE: Final = "http://camunda.org/schema/zeebe/1.0"
MODELER: Final = "http://camunda.org/schema/modeler/1.0"
LEGATO: Final = "https://legato.dev/schema/bpmn/1.0"

PREFIXES: Final[dict[str, str]] = {
    "bpmn": BPMN,
    "bpmndi": BPMNDI,
    "dc": DC,
    "di": DI,
    "xsi": XSI,
    "zeebe": ZEEBE,
    "modeler": MODELER,
    "legato": LEGATO,
}
"""The prefixes the writer declares, as Camunda Modeler 5 names them."""

# Namespaces whose attributes only change how a shape looks or which modeler wrote the
# file: the reader drops them without a warning.
PRESENTATION: Final = frozenset(
    {
        MODELER,
        XSI,
        "http://bpmn.io/schema/bpmn/biocolor/1.0",
        "http://www.omg.org/spec/BPMN/non-normative/color/1.0",
        "http://www.w3.org/XML/1998/namespace",
    }
)


def qualified(namespace: str, name: str) -> str:
    """The Clark notation lxml uses for tags and attributes: `{namespace}name`."""
    return f"{{{namespace}}}{name}"


def split(tag: str) -> tuple[str, str]:
    """`{namespace}name` -> (namespace, name); a tag without a namespace has ''."""
    if tag.startswith("{"):
        namespace, _, name = tag[1:].partition("}")
        return namespace, name
    return "", tag


_QNAME = re.compile(r"^([A-Za-z_][\w.\-]*):([A-Za-z_][\w.\-]*)$")


def is_qname(value: str) -> bool:
    """Does `value` have a namespace prefix (`tns:Message_1`)? An id never has a colon."""
    return _QNAME.match(value) is not None


def split_qname(value: str) -> tuple[str, str] | None:
    """`tns:Message_1` -> ("tns", "Message_1"); None for a value without a prefix."""
    match = _QNAME.match(value)
    return (match.group(1), match.group(2)) if match else None


def read_as_camunda(root: etree._Element) -> bool:
    """Rename the Activiti extension namespace to Camunda's in a parsed document.

    Camunda 7 reads `activiti:` extensions exactly as `camunda:` ones (it began as a fork of
    Activiti 5), so files from Activiti Designer and older Camunda Modeler versions carry
    them. Renaming the tree once lets every reader function know one namespace. Activiti's
    `async` is Camunda's `asyncBefore`. Returns whether anything was renamed.
    """
    renamed = False
    for node in root.iter(etree.Element):
        if node.tag.startswith(f"{{{ACTIVITI}}}"):
            node.tag = f"{{{CAMUNDA}}}" + node.tag[len(ACTIVITI) + 2 :]
            renamed = True
        foreign = [name for name in node.attrib if name.startswith(f"{{{ACTIVITI}}}")]
        for name in foreign:
            local = name[len(ACTIVITI) + 2 :]
            value = node.attrib.pop(name)
            node.set(f"{{{CAMUNDA}}}{'asyncBefore' if local == 'async' else local}", value)
            renamed = True
    return renamed
