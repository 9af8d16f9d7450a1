"""Business rule tasks end to end: a DMN file from Camunda Modeler deployed beside a process,
run by the in-process worker, on SQLite and PostgreSQL (the `database_url` fixture).

files/credit_risk.dmn has two decisions: `Decision_credit_risk` (UNIQUE, with a boundary
mistake: 5000 matches both "medium" `[1000..5000]` and "high" `>= 5000`) and
`Decision_approval` (FIRST, two outputs), which requires the first. files/credit_check.yaml
runs them one after the other, then grants the credit or opens a manual review.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from legato.errors import DecisionNotFound, ModelInvalid, ModelParseError, VariablesInvalid
from legato.formats.builder import Process, RetryPolicy
from legato.runtime.app import Legato
from legato.runtime.clock import FakeClock
from legato.runtime.handlers import Job
from legato.runtime.worker import WorkerSettings
from legato.store.decisions import DecisionDeployment
from support import eventually

FILES = Path(__file__).parent / "files"
DMN = FILES / "credit_risk.dmn"
PROCESS = FILES / "credit_check.yaml"


@pytest.fixture
def app(database_url: str) -> Iterator[Legato]:
    legato = Legato(
        database_url,
        clock=FakeClock(),
        worker_settings=WorkerSettings(concurrency=4, lock_seconds=5, poll_interval=0.05, shutdown_grace=2),
    )
    yield legato
    legato.close()


@pytest.fixture
def deployed(app: Legato) -> DecisionDeployment:
    decisions = app.deploy(DMN)
    assert isinstance(decisions, DecisionDeployment)
    app.deploy(PROCESS)
    return decisions


def incident_at(app: Legato, instance_id: str, element: str) -> dict[str, Any]:
    return eventually(
        lambda: next((i for i in app.incidents(instance_id=instance_id) if i["element"] == element), None)
    )


def test_deploying_the_dmn_file_reports_its_decisions(app: Legato) -> None:
    deployment = app.deploy(DMN)
    assert isinstance(deployment, DecisionDeployment)
    assert str(deployment) == "deployed decisions Definitions_credit version 1: Decision_credit_risk, Decision_approval"
    assert deployment.warnings == ()  # the DMNDI diagram and the modeler's attributes are skipped quietly
    again = app.deploy(str(DMN))
    assert (again.created, again.version) == (False, 1)


def test_a_low_amount_is_granted_and_the_decisions_are_in_the_audit_trail(
    app: Legato, deployed: DecisionDeployment
) -> None:
    with app.running():
        started = app.start("credit_check", {"amount": 500, "tier": "silver"})
        done = app.wait(started.instance_id)
    assert done["status"] == "completed"
    assert done["variables"] == {"amount": 500, "tier": "silver", "risk": "low", "approved": True, "reviewer": "auto"}
    evaluations = app.decision_evaluations(started.instance_id)
    assert [(e["element"], e["decision"], e["value"], e["matched_rules"]) for e in evaluations] == [
        ("assess_risk", "Decision_credit_risk", "low", ["Rule_low"]),
        ("decide_approval", "Decision_approval", {"approved": True, "reviewer": "auto"}, ["Rule_auto_low"]),
    ]
    assert evaluations[1]["required"][0]["matched_rules"] == ["Rule_low"]
    assert {(e["key"], e["version"]) for e in evaluations} == {("Definitions_credit", 1)}


def test_a_medium_risk_without_gold_goes_to_a_person(app: Legato, deployed: DecisionDeployment) -> None:
    with app.running():
        started = app.start("credit_check", {"amount": 2000, "tier": "silver"})
        task = eventually(lambda: app.tasks(instance_id=started.instance_id))[0]
    assert task["element"] == "manual_review"
    variables = app.instance(started.instance_id)["variables"]
    assert (variables["risk"], variables["approved"], variables["reviewer"]) == ("medium", False, "credit desk")


def test_overlapping_rules_become_an_incident_naming_them_and_a_fixed_table_resolves_it(
    app: Legato, deployed: DecisionDeployment
) -> None:
    with app.running():
        started = app.start("credit_check", {"amount": 5000})
        incident = incident_at(app, started.instance_id, "assess_risk")
        assert incident["error_type"] == "EvaluationError"
        assert (
            "hit policy UNIQUE allows one matching rule, but 2 match: 'Rule_medium', 'Rule_high'"
            in (incident["message"])
        )
        assert "decision model 'Definitions_credit' version 1" in incident["message"]
        history = app.instance(started.instance_id)["history"]
        assert [h["type"] for h in history].count("job_failed") == 1  # two attempts, then the incident

        fixed = app.deploy(DMN.read_text(encoding="utf-8").replace("[1000..5000]", "[1000..5000)"))
        assert (fixed.created, fixed.version) == (True, 2)
        app.retry_incident(incident["id"])
        task = eventually(lambda: app.tasks(instance_id=started.instance_id))[0]
    assert task["element"] == "manual_review"
    variables = app.instance(started.instance_id)["variables"]
    assert (variables["risk"], variables["reviewer"]) == ("high", "risk officer")
    assert [e["version"] for e in app.decision_evaluations(started.instance_id)] == [2, 2]


def test_a_decision_deployed_after_the_process_is_found_on_retry(app: Legato) -> None:
    app.deploy(PROCESS)
    with app.running():
        started = app.start("credit_check", {"amount": 10})
        incident = incident_at(app, started.instance_id, "assess_risk")
        assert (incident["error_type"], incident["message"]) == (
            "DecisionNotFound",
            "no decision 'Decision_credit_risk' is deployed",
        )
        app.deploy(DMN)
        app.retry_incident(incident["id"])
        assert app.wait(started.instance_id)["variables"]["approved"] is True


def test_a_value_without_names_and_no_result_variable_is_an_incident(app: Legato) -> None:
    app.deploy(DMN)
    p = Process("unnamed")
    p.start("start").then(p.decision("risk", "Decision_credit_risk", retry=RetryPolicy(max_attempts=1))).then(
        p.end("end")
    )
    app.deploy(p.build())
    with app.running():
        started = app.start("unnamed", {"amount": 1})
        incident = incident_at(app, started.instance_id, "risk")
    assert "gave a text" in incident["message"]
    assert "give business rule task 'risk' a result variable" in incident["message"]


def test_a_handler_registered_for_legato_decision_replaces_the_built_in_one(app: Legato) -> None:
    app.deploy(PROCESS)  # no DMN deployed: only the user's handler can answer

    def rules_engine(job: Job) -> dict[str, Any]:
        decision = job.variables["decision"]
        return {"risk": "low"} if decision == "Decision_credit_risk" else {"approved": True, "reviewer": "mine"}

    app.register("legato.decision", rules_engine)
    with app.running():
        started = app.start("credit_check", {"amount": 10})
        assert app.wait(started.instance_id)["variables"]["reviewer"] == "mine"
    assert app.decision_evaluations(started.instance_id) == []


def test_decisions_are_evaluated_directly(app: Legato, deployed: DecisionDeployment) -> None:
    result = app.evaluate_decision("Decision_approval", {"amount": 2000, "tier": "gold"})
    assert (result["value"], result["matched_rules"], result["version"]) == (
        {"approved": True, "reviewer": "auto"},
        ["Rule_auto_gold"],
        1,
    )
    assert result["required"][0]["value"] == "medium"
    with pytest.raises(DecisionNotFound):
        app.evaluate_decision("Decision_unknown", {})
    with pytest.raises(VariablesInvalid):
        app.evaluate_decision("Decision_approval", [1, 2])  # type: ignore[arg-type]


def test_dmn_is_recognised_as_text_as_an_xml_file_and_by_format(app: Legato, tmp_path: Path) -> None:
    source = DMN.read_text(encoding="utf-8")
    assert isinstance(app.deploy(source), DecisionDeployment)
    as_xml = tmp_path / "credit.xml"
    as_xml.write_text(source.replace("[1000..5000]", "[1000..5000)"), encoding="utf-8")
    assert app.deploy(as_xml).version == 2
    assert app.deploy(source, source_format="dmn").version == 3
    assert app.deploy(PROCESS).created is True  # and a process is still a process


def test_a_broken_dmn_file_is_refused_with_the_line(app: Legato, tmp_path: Path) -> None:
    broken = tmp_path / "broken.dmn"
    broken.write_text(DMN.read_text(encoding="utf-8").replace("<text>&gt;= 5000</text>", "<text>&gt;= </text>"))
    with pytest.raises(ModelInvalid) as caught:
        app.deploy(broken)
    [problem] = caught.value.problems
    assert problem.element == "Rule_high"
    assert problem.line is not None and problem.line > 30
    unclosed = tmp_path / "unclosed.dmn"
    unclosed.write_text('<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/" id="x">\n<decision>')
    with pytest.raises(ModelParseError) as parse_error:
        app.deploy(unclosed)
    assert parse_error.value.line == 2
    with pytest.raises(Exception, match="no DMN file"):
        app.deploy(tmp_path / "missing.dmn")
    assert app.store.decisions.list() == []
