"""Extensions that say what an activity invokes, and how often (see `extensions`).

Call activities, business rule tasks and multi-instance loops, in each spelling:
Camunda 7 writes them as attributes (`camunda:calledElementBinding`, `camunda:decisionRef`,
`camunda:collection`) and passes variables to a called process with `camunda:in` and
`camunda:out`; Camunda 8 writes one extension element each (`zeebe:calledElement`,
`zeebe:calledDecision`, `zeebe:loopCharacteristics`); Legato's writer adds
`legato:loopCharacteristics` (expressions Zeebe would misread) and `legato:calledElement`
(a pinned version, which Zeebe cannot say). The handlers only record what the file says;
the element builders (`activities`) decide what it means together.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Final

from lxml import etree

from legato.formats.bpmn.expressions import from_camunda, is_path
from legato.formats.bpmn.namespaces import LEGATO, split

if TYPE_CHECKING:
    from legato.formats.bpmn.extensions import ExtensionReader

_Handler = Callable[["ExtensionReader", "etree._Element | str"], None]

# --- multi-instance ----------------------------------------------------------------------


def _collection(reader: ExtensionReader, value: etree._Element | str) -> None:
    text = str(value).strip()
    if "${" in text or "#{" in text:
        reader.found.collection = from_camunda(text)
    elif is_path(text):
        reader.found.collection = text  # Camunda 7 reads a bare name as the variable of that name
    else:
        reader.refuse(f"camunda:collection={text!r} is neither a variable name nor an expression (${{...}})")


def _element_variable(reader: ExtensionReader, value: etree._Element | str) -> None:
    reader.found.element_variable = str(value).strip() or None


def _loop_characteristics(reader: ExtensionReader, value: etree._Element | str) -> None:
    assert isinstance(value, etree._Element)
    verbatim = split(value.tag)[0] == LEGATO
    collection, element = value.get("inputCollection"), value.get("outputElement")
    if collection:
        reader.found.collection = collection if verbatim else from_camunda(collection)
    if element:
        reader.found.output_element = element if verbatim else from_camunda(element)
    reader.found.element_variable = value.get("inputElement") or None
    reader.found.output_collection = value.get("outputCollection") or None


# --- call activities ---------------------------------------------------------------------


def _called_binding(reader: ExtensionReader, value: etree._Element | str) -> None:
    reader.found.called_binding = str(value)


def _called_version(reader: ExtensionReader, value: etree._Element | str) -> None:
    text = str(value).strip()
    if text.isdigit() and int(text) > 0:
        reader.found.called_version = int(text)
    else:
        reader.refuse(f"the called version {text!r} must be a version number from 1; Legato does not compute it")


def _variable_mapping(reader: ExtensionReader, value: etree._Element | str) -> None:
    reader.refuse(
        f"a variable mapping delegate ({value}) runs Java code, which Legato cannot; "
        "map the variables with camunda:in and camunda:out"
    )


def _camunda_in(reader: ExtensionReader, value: etree._Element | str) -> None:
    _camunda_mapping(reader, value, into_child=True)


def _camunda_out(reader: ExtensionReader, value: etree._Element | str) -> None:
    _camunda_mapping(reader, value, into_child=False)


def _camunda_mapping(reader: ExtensionReader, node: etree._Element | str, *, into_child: bool) -> None:
    """`camunda:in` (caller -> child) or `camunda:out` (child -> caller), Camunda 7."""
    assert isinstance(node, etree._Element)
    what = "camunda:in" if into_child else "camunda:out"
    if node.get("local") == "true":
        reader.warn(f"{what} local", "Legato passes the variables the caller sees, local or not")
    if node.get("businessKey") is not None:
        reader.warn(f"{what} businessKey", "a called instance does not inherit a business key in Legato")
        return
    if node.get("variables") == "all":
        if into_child:
            reader.found.all_in = True
        else:
            reader.found.all_out = True
        return
    target, source, expression = node.get("target"), node.get("source"), node.get("sourceExpression")
    if not target or (source is None) == (expression is None):
        reader.refuse(f"{what} needs a target and either a source or a sourceExpression")
        return
    if source is not None and not is_path(source):
        reader.refuse(f"{what} source={source!r} is not a variable name")
        return
    mapped = source if source is not None else from_camunda(expression or "")
    if into_child:
        reader.found.call_inputs = {**(reader.found.call_inputs or {}), target: mapped}
    else:
        reader.found.call_outputs = {**(reader.found.call_outputs or {}), target: mapped}


def _called_element(reader: ExtensionReader, value: etree._Element | str) -> None:
    """`zeebe:calledElement`, or `legato:calledElement version tenant` (a pinned version, a fixed tenant)."""
    assert isinstance(value, etree._Element)
    if split(value.tag)[0] == LEGATO:
        if value.get("version") is not None:
            _called_version(reader, value.get("version", ""))
        if value.get("tenant") is not None:
            reader.found.called_tenant = _fixed_tenant(reader, value.get("tenant", ""), "legato:calledElement tenant")
        return
    process = value.get("processId") or ""
    if process.startswith("="):
        reader.refuse(f"the called processId {process!r} is an expression; Legato calls a fixed process key")
    elif process:
        reader.found.called_process = process
    reader.found.all_in = value.get("propagateAllParentVariables", "true") != "false"
    reader.found.all_out = value.get("propagateAllChildVariables", "true") != "false"
    if value.get("bindingType"):
        reader.found.called_binding = value.get("bindingType")


# --- business rule tasks -----------------------------------------------------------------


def _decision_ref(reader: ExtensionReader, value: etree._Element | str) -> None:
    _set_decision(reader, str(value), "camunda:decisionRef")


def _decision_binding(reader: ExtensionReader, value: etree._Element | str) -> None:
    if str(value) != "latest":
        reader.warn(
            f"camunda:decisionRefBinding={value}",
            "Legato evaluates the latest deployed version of the decision",
        )


def _decision_mapping(reader: ExtensionReader, value: etree._Element | str) -> None:
    reader.found.decision_mapping = str(value)


def _called_decision(reader: ExtensionReader, value: etree._Element | str) -> None:
    assert isinstance(value, etree._Element)
    _set_decision(reader, value.get("decisionId") or "", "zeebe:calledDecision decisionId")
    if value.get("resultVariable"):
        reader.found.result_variable = value.get("resultVariable")
    binding = value.get("bindingType")
    if binding and binding != "latest":
        reader.warn(f"zeebe:calledDecision bindingType={binding}", "Legato evaluates the latest deployed version")


def _set_decision(reader: ExtensionReader, decision: str, what: str) -> None:
    if decision.startswith("=") or "${" in decision:
        reader.refuse(f"{what} {decision!r} is an expression; Legato evaluates a fixed decision id")
    elif decision:
        reader.found.decision = decision


# --- fixed tenants (Camunda 7) -------------------------------------------------------------

_CALLERS_TENANT: Final = frozenset({"execution.tenantid", "execution.gettenantid()"})
"""Expressions that name the caller's own tenant, which is where Legato looks first anyway."""


def _fixed_tenant(reader: ExtensionReader, value: str, what: str) -> str | None:
    """`camunda:calledElementTenantId` / `camunda:decisionRefTenantId`: a tenant id, as stored.

    Camunda evaluates an expression here; Legato takes a fixed id. `${execution.tenantId}`
    (the caller's own tenant) is accepted as no fixed tenant, with a warning that the shared
    tenant is looked in too; any other expression is refused, as calling a tenant computed
    from variables could reach a tenant the deployer never named.
    """
    written = value.strip()
    if written.startswith(("${", "#{")) and written.endswith("}"):
        inner = written[2:-1].strip().replace(" ", "").lower()
        if inner in _CALLERS_TENANT:
            reader.warn(
                f"{what}={written}",
                "the caller's own tenant is where Legato looks first; it then looks in the shared tenant too",
            )
            return None
        reader.refuse(f"{what} {written!r} is an expression; Legato takes a fixed tenant id")
        return None
    if not written:
        reader.refuse(f"{what} is empty: name a tenant, or leave the attribute out")
        return None
    return written.lower()


def _called_tenant(reader: ExtensionReader, value: etree._Element | str) -> None:
    reader.found.called_tenant = _fixed_tenant(reader, str(value), "camunda:calledElementTenantId")


def _decision_tenant(reader: ExtensionReader, value: etree._Element | str) -> None:
    reader.found.decision_tenant = _fixed_tenant(reader, str(value), "camunda:decisionRefTenantId")


def _legato_called_decision(reader: ExtensionReader, value: etree._Element | str) -> None:
    """`legato:calledDecision tenant mapDecisionResult`: what Legato writes for a fixed tenant
    and a Camunda 7 result mapping, which Zeebe cannot say."""
    assert isinstance(value, etree._Element)
    if value.get("tenant") is not None:
        reader.found.decision_tenant = _fixed_tenant(reader, value.get("tenant", ""), "legato:calledDecision tenant")
    if value.get("mapDecisionResult") is not None:
        reader.found.decision_mapping = value.get("mapDecisionResult")


def _nothing(reader: ExtensionReader, value: etree._Element | str) -> None:
    """Read together with another attribute (a version tag with its binding)."""


INVOCATION_ELEMENT_KEYS: Final = frozenset(
    {
        "camunda:in",
        "camunda:out",
        "zeebe:loopCharacteristics",
        "legato:loopCharacteristics",
        "zeebe:calledElement",
        "legato:calledElement",
        "zeebe:calledDecision",
        "legato:calledDecision",
    }
)

INVOCATION_HANDLERS: Final[dict[str, _Handler]] = {
    "camunda:collection": _collection,
    "camunda:elementVariable": _element_variable,
    "zeebe:loopCharacteristics": _loop_characteristics,
    "legato:loopCharacteristics": _loop_characteristics,
    "camunda:calledElementBinding": _called_binding,
    "camunda:calledElementVersion": _called_version,
    "camunda:calledElementVersionTag": _nothing,
    "camunda:calledElementTenantId": _called_tenant,
    "camunda:variableMappingClass": _variable_mapping,
    "camunda:variableMappingDelegateExpression": _variable_mapping,
    "camunda:in": _camunda_in,
    "camunda:out": _camunda_out,
    "zeebe:calledElement": _called_element,
    "legato:calledElement": _called_element,
    "camunda:decisionRef": _decision_ref,
    "camunda:decisionRefBinding": _decision_binding,
    "camunda:decisionRefVersion": _nothing,
    "camunda:decisionRefVersionTag": _nothing,
    "camunda:decisionRefTenantId": _decision_tenant,
    "camunda:mapDecisionResult": _decision_mapping,
    "zeebe:calledDecision": _called_decision,
    "legato:calledDecision": _legato_called_decision,
}
