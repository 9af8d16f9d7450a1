"""A user task's people, schedule, priority and texts, read from every way a model is written:
Camunda 7 attributes, Camunda 8 extension elements (as Camunda Modeler 5 writes them), our
YAML and the builder; and written back by our BPMN and YAML writers."""

from __future__ import annotations

import pytest
from bpmn_helpers import around, document

from legato.errors import ModelInvalid
from legato.formats.bpmn import dump_bpmn, load_bpmn
from legato.formats.builder import Process
from legato.formats.yaml_format import dump_yaml, load_yaml
from legato.model.elements import UserTask

CAMUNDA7 = """<bpmn:userTask id="review" name="Review ${invoice}" camunda:assignee="${approver}"
      camunda:candidateUsers="ada, bob" camunda:candidateGroups="accounting"
      camunda:dueDate="${dueDate}" camunda:followUpDate="2026-12-24T09:00:00Z" camunda:priority="75"
      camunda:formKey="embedded:app:forms/review.html">
      <bpmn:documentation>Check the amounts against the order</bpmn:documentation>
    </bpmn:userTask>"""

CAMUNDA8 = """<bpmn:userTask id="review" name="Review invoice">
      <bpmn:extensionElements>
        <zeebe:userTask />
        <zeebe:assignmentDefinition assignee="=approver" candidateGroups="accounting, audit" candidateUsers="ada" />
        <zeebe:taskSchedule dueDate="2026-12-24T17:00:00+01:00" followUpDate="=followUp" />
        <zeebe:priorityDefinition priority="90" />
        <zeebe:formDefinition formId="invoice-review" />
      </bpmn:extensionElements>
    </bpmn:userTask>"""


def task_of(xml: str) -> tuple[UserTask, list[str]]:
    imported = load_bpmn(document(around(xml, "review")).encode())
    task = imported.definition.elements["review"]
    assert isinstance(task, UserTask)
    return task, imported.warnings


def test_camunda7_attributes_are_read_without_warnings() -> None:
    task, warnings = task_of(CAMUNDA7)
    assert warnings == []
    assert task.assignee == "${approver}"
    assert task.candidate_users == ("ada", "bob") and task.candidate_groups == ("accounting",)
    assert task.due_date == "${dueDate}" and task.follow_up_date == "2026-12-24T09:00:00Z"
    assert task.priority == "75"
    assert task.form == {"key": "embedded:app:forms/review.html"}
    assert task.documentation == "Check the amounts against the order"  # the description, as Camunda 7 has it


def test_camunda8_extension_elements_are_read_without_warnings() -> None:
    task, warnings = task_of(CAMUNDA8)
    assert warnings == []
    assert task.assignee == "=approver"
    assert task.candidate_users == ("ada",) and task.candidate_groups == ("accounting", "audit")
    assert task.due_date == "2026-12-24T17:00:00+01:00" and task.follow_up_date == "=followUp"
    assert task.priority == "90"
    assert task.form == {"id": "invoice-review"}


def test_camunda8_now_plus_a_duration_is_that_duration_from_the_tasks_creation() -> None:
    xml = CAMUNDA8.replace('dueDate="2026-12-24T17:00:00+01:00"', 'dueDate="=now() + duration(&#34;P3D&#34;)"')
    task, _ = task_of(xml)
    assert task.due_date == "P3D"


@pytest.mark.parametrize(
    ("attribute", "message"),
    [
        ('camunda:dueDate="next friday"', "due date"),
        ('camunda:followUpDate="2026-13-45"', "follow-up date"),
        ('camunda:priority="high"', "priority"),
        ('camunda:priority="-4"', "priority"),
        ('camunda:candidateUsers="${users"', "candidate users"),
    ],
)
def test_a_bad_value_is_refused_at_deploy_naming_the_task_and_the_attribute(attribute: str, message: str) -> None:
    with pytest.raises(ModelInvalid) as caught:
        load_bpmn(document(around(f'<bpmn:userTask id="review" {attribute} />', "review")).encode())
    problem = caught.value.problems[0]
    assert problem.element == "review" and message in problem.message


def test_yaml_declares_them_and_writes_them_back() -> None:
    source = """
process: invoice
steps:
  - user: review
    name: Review invoice
    assignee: =approver
    candidate_users: [ada, bob]
    candidate_groups: [accounting]
    description: Check the amounts
    due_date: P2D
    follow_up_date: =follow_up
    priority: 70
"""
    definition = load_yaml(source)
    task = definition.elements["review"]
    assert isinstance(task, UserTask)
    assert (task.candidate_users, task.description, task.due_date, task.priority) == (
        ("ada", "bob"),
        "Check the amounts",
        "P2D",
        70,
    )
    again = load_yaml(dump_yaml(definition)).elements["review"]
    assert again == task


def test_the_builder_declares_them_and_bpmn_export_keeps_them() -> None:
    p = Process("invoice")
    p.start("s").then(
        p.user(
            "review",
            candidate_users=["ada"],
            candidate_groups=["accounting"],
            description="Check the amounts",
            due_date="PT8H",
            follow_up_date="PT4H",
            priority=60,
        )
    ).then(p.end("e"))
    definition = p.build()
    exported = dump_bpmn(definition)
    assert 'candidateUsers="ada"' in exported and 'zeebe:priorityDefinition priority="60"' in exported
    task = load_bpmn(exported.encode()).definition.elements["review"]
    assert isinstance(task, UserTask)
    assert (task.candidate_users, task.due_date, task.follow_up_date, task.priority, task.description) == (
        ("ada",),
        "PT8H",
        "PT4H",
        "60",
        "Check the amounts",
    )
    with pytest.raises(Exception, match="candidate_users"):
        Process("x").user("u", candidate_users="ada")  # type: ignore[arg-type]
