"""The XML namespaces a BPMN file uses, and what the reader makes of each.

BPMN 2.0 (chapter 15, "Exchange Formats") fixes the model, DI, DC and DI-base namespaces;
modelers add their own for execution details (Camunda 7 `camunda:`, Camunda 8 `zeebe:`)
and for bookkeeping (Camunda Modeler `modeler:`, Signavio `signavio:`, bpmn.io colours).
Legato writes one of its own, `legato:`, for what neither Camunda dialect can say (a full
retry policy, a timeout, a form as JSON, an expression in Legato's own dialect).
"""

from __future__ import annotations

from typing import Final

BPMN: Final = "http://www.omg.org/spec/BPMN/20100524/MODEL"
BPMNDI: Final = "http://www.omg.org/spec/BPMN/20100524/DI"
DC: Final = "http://www.omg.org/spec/DD/20100524/DC"
DI: Final = "http://www.omg.org/spec/DD/20100524/DI"
XSI: Final = "http://www.w3.org/2001/XMLSchema-instance"
CAMUNDA: Final = "http://camunda.org/schema/1.0/bpmn"
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
