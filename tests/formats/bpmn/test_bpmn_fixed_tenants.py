"""Camunda 7's fixed tenant ids on call activities and business rule tasks: read, checked, written back.

The model as Camunda Modeler 5 writes it for Camunda Platform 7 lives in tests/runtime/files
(where it also runs); here each attribute is read, refused where Legato cannot honour it,
and survives an export to BPMN and to YAML.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from legato.errors import ModelInvalid
from legato.formats.bpmn import dump_bpmn, load_bpmn
from legato.formats.builder import Process
from legato.formats.yaml_format import dump_yaml, load_yaml
from legato.model.elements import BusinessRuleTask, CallActivity
from legato.model.serialize import checksum, to_dict

ONBOARDING = (Path(__file__).parents[2] / "runtime" / "files" / "onboarding_fixed_tenant_camunda7.bpmn").read_text(
    encoding="utf-8"
)


def tenants(text: str) -> tuple[str | None, str | None]:
    model = load_bpmn(text).definition
    call, decision = model.elements["Activity_kyc"], model.elements["Activity_risk"]
    assert isinstance(call, CallActivity) and isinstance(decision, BusinessRuleTask)
    return call.tenant, decision.tenant


def test_both_attributes_are_read_as_tenant_ids() -> None:
    assert tenants(ONBOARDING) == ("compliance", "compliance")
    upper = ONBOARDING.replace('camunda:calledElementTenantId="compliance"', 'camunda:calledElementTenantId="KYC"')
    assert tenants(upper)[0] == "kyc"  # tenant ids are stored lower case, as Legato names them
    loaded = load_bpmn(ONBOARDING)
    assert not [w for w in loaded.warnings if "TenantId" in w]


def test_the_callers_own_tenant_as_an_expression_is_the_default_with_a_warning() -> None:
    text = ONBOARDING.replace('"compliance"', '"${execution.tenantId}"')
    loaded = load_bpmn(text)
    call, decision = loaded.definition.elements["Activity_kyc"], loaded.definition.elements["Activity_risk"]
    assert isinstance(call, CallActivity) and isinstance(decision, BusinessRuleTask)
    assert (call.tenant, decision.tenant) == (None, None)
    assert any("camunda:calledElementTenantId=${execution.tenantId}" in w for w in loaded.warnings)
    assert any("camunda:decisionRefTenantId=${execution.tenantId}" in w for w in loaded.warnings)


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        ('"${customerTenant}"', "'${customerTenant}' is an expression; Legato takes a fixed tenant id"),
        ('""', "camunda:calledElementTenantId is empty"),
        ('"two words"', "the called process's tenant 'two words' is not a tenant id"),
    ],
)
def test_what_cannot_be_honoured_is_refused_naming_the_element(written: str, expected: str) -> None:
    text = ONBOARDING.replace('camunda:calledElementTenantId="compliance"', f"camunda:calledElementTenantId={written}")
    with pytest.raises(ModelInvalid) as refused:
        load_bpmn(text)
    assert "Activity_kyc" in str(refused.value) and expected in str(refused.value)


def test_an_export_keeps_the_fixed_tenants_in_bpmn_and_yaml() -> None:
    imported = load_bpmn(ONBOARDING).definition
    exported = dump_bpmn(imported)
    assert 'tenant="compliance"' in exported
    again = load_bpmn(exported)
    assert to_dict(again.definition) == to_dict(imported) and checksum(again.definition) == checksum(imported)
    assert again.warnings == []
    as_yaml = dump_yaml(imported)
    assert "tenant: compliance" in as_yaml
    from_yaml = load_yaml(as_yaml)  # the diagram stays behind; the tenants come back
    assert {e.id: getattr(e, "tenant", None) for e in from_yaml.elements.values()} == {
        e.id: getattr(e, "tenant", None) for e in imported.elements.values()
    }


def test_a_model_without_fixed_tenants_keeps_its_checksum() -> None:
    """The new field is left out of the stored form when unset: old definitions stay unchanged."""
    p = Process("plain")
    p.start("begin").then(p.call("kyc", "kyc_check")).then(p.decision("risk", "risk_class")).then(p.end("done"))
    stored = to_dict(p.build())
    assert not [e for e in stored["elements"] if "tenant" in e]
    q = Process("fixed")
    q.start("begin").then(q.call("kyc", "kyc_check", tenant="compliance")).then(q.end("done"))
    assert [e["tenant"] for e in to_dict(q.build())["elements"] if "tenant" in e] == ["compliance"]
