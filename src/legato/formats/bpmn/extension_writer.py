"""The extensions an activity is written with: Camunda 8 where Zeebe can say it, Legato's own
where it cannot (the inverse of `extensions` and its handlers).

- service and send tasks: `zeebe:taskDefinition type retries`, plus `legato:retry` for a
  backoff and `legato:timeout`;
- business rule tasks: `zeebe:calledDecision decisionId resultVariable` (the job's retry
  policy and timeout as `legato:` extensions);
- call activities: `zeebe:calledElement processId`, with `propagateAllParentVariables` and
  `propagateAllChildVariables` set so that Zeebe passes the same variables as Legato does,
  and `legato:calledElement version tenant` for a pinned version or a fixed tenant, which
  Zeebe cannot say (`legato:calledDecision tenant` likewise for a business rule task);
- user tasks: `zeebe:assignmentDefinition`, `zeebe:formDefinition` or `legato:form`;
- multi-instance: `zeebe:loopCharacteristics` on `multiInstanceLoopCharacteristics`, or
  `legato:loopCharacteristics` when an expression would read differently as FEEL;
- input and output mappings: `zeebe:ioMapping`, `legato:ioMapping` for the rest.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

import orjson
from lxml import etree

from legato.formats.bpmn.expressions import from_camunda, is_path, to_camunda
from legato.formats.bpmn.namespaces import BPMN, CAMUNDA, LEGATO, XSI, ZEEBE, qualified
from legato.model.elements import (
    Activity,
    BusinessRuleTask,
    CallActivity,
    MultiInstance,
    RetryPolicy,
    ServiceTask,
    StandardLoop,
    UserTask,
)

__all__ = ["write_activity_extensions", "write_loop"]


def write_activity_extensions(extensions: etree._Element, activity: Activity, flavour: str = "camunda8") -> None:
    """Append what `activity` needs to its `bpmn:extensionElements` (and, for Camunda 7, its attributes)."""
    if flavour == "camunda7" and _camunda7_activity(extensions, activity):
        return
    if isinstance(activity, BusinessRuleTask):
        decision = etree.SubElement(extensions, qualified(ZEEBE, "calledDecision"), decisionId=activity.decision)
        _set(decision, "resultVariable", activity.result_variable)
        if activity.tenant is not None or activity.result_mapping is not None:
            # Zeebe resolves in the caller's tenant only and has no result mappers: Legato's own says it
            own = etree.SubElement(extensions, qualified(LEGATO, "calledDecision"))
            _set(own, "tenant", activity.tenant)
            _set(own, "mapDecisionResult", activity.result_mapping)
        if activity.retry != RetryPolicy():
            _retry(extensions, activity.retry)
        _timeout(extensions, activity.timeout)
    elif isinstance(activity, ServiceTask):
        definition = etree.SubElement(extensions, qualified(ZEEBE, "taskDefinition"), type=activity.task_type)
        definition.set("retries", str(activity.retry.max_attempts))
        if activity.retry != RetryPolicy(max_attempts=activity.retry.max_attempts):
            _retry(extensions, activity.retry)
        _timeout(extensions, activity.timeout)
    if isinstance(activity, CallActivity):
        called = etree.SubElement(extensions, qualified(ZEEBE, "calledElement"), processId=activity.process)
        if activity.inputs:  # Legato passes only the mapped variables then
            called.set("propagateAllParentVariables", "false")
        if activity.outputs:
            called.set("propagateAllChildVariables", "false")
        if activity.version is not None or activity.tenant is not None:
            pinned = etree.SubElement(extensions, qualified(LEGATO, "calledElement"))
            _set(pinned, "version", None if activity.version is None else str(activity.version))
            _set(pinned, "tenant", activity.tenant)
    if isinstance(activity, UserTask):
        _user_task(extensions, activity)
    write_mappings(extensions, activity.inputs, activity.outputs)


def write_loop(parent: etree._Element, loop: MultiInstance, flavour: str = "camunda8") -> None:
    """`multiInstanceLoopCharacteristics` for `loop`, appended to the activity `parent`."""
    node = etree.SubElement(parent, qualified(BPMN, "multiInstanceLoopCharacteristics"))
    if loop.sequential:
        node.set("isSequential", "true")
    collection = None if loop.collection is None else _camunda7_value(loop.collection)
    if flavour == "camunda7" and collection is not None and loop.output_element is None and not loop.output_collection:
        # Camunda 7: camunda:collection="${items}" camunda:elementVariable="item"; outputs it cannot say
        node.set(qualified(CAMUNDA, "collection"), collection)
        if loop.element_variable is not None:
            node.set(qualified(CAMUNDA, "elementVariable"), loop.element_variable)
        loop = dataclasses.replace(loop, collection=None, element_variable=None)
    expressions = {"inputCollection": loop.collection, "outputElement": loop.output_element}
    written = {key: to_camunda(value) for key, value in expressions.items() if value is not None}
    zeebe = all(value is not None for value in written.values())
    attributes = {key: (written[key] if zeebe else value) for key, value in expressions.items() if value is not None}
    attributes |= {
        key: value
        for key, value in (("inputElement", loop.element_variable), ("outputCollection", loop.output_collection))
        if value is not None
    }
    if attributes:
        extensions = etree.SubElement(node, qualified(BPMN, "extensionElements"))
        namespace = ZEEBE if zeebe else LEGATO
        ordered = ("inputCollection", "inputElement", "outputCollection", "outputElement")
        etree.SubElement(
            extensions,
            qualified(namespace, "loopCharacteristics"),
            {key: str(attributes[key]) for key in ordered if key in attributes},
        )
    for tag, text in (("loopCardinality", loop.cardinality), ("completionCondition", loop.completion_condition)):
        if text is not None:
            expression = etree.SubElement(node, qualified(BPMN, tag))
            expression.set(qualified(XSI, "type"), "bpmn:tFormalExpression")
            expression.text = text


def write_standard_loop(parent: etree._Element, loop: StandardLoop) -> None:
    """`standardLoopCharacteristics` for `loop`, appended to the activity `parent`."""
    node = etree.SubElement(parent, qualified(BPMN, "standardLoopCharacteristics"))
    if loop.test_before:
        node.set("testBefore", "true")
    if loop.maximum is not None:
        node.set("loopMaximum", str(loop.maximum))
    if loop.condition is not None:
        expression = etree.SubElement(node, qualified(BPMN, "loopCondition"))
        expression.set(qualified(XSI, "type"), "bpmn:tFormalExpression")
        expression.text = loop.condition


def _user_task(extensions: etree._Element, task: UserTask) -> None:
    """Camunda 8's spelling (zeebe:assignmentDefinition, taskSchedule, priorityDefinition),
    which Camunda Modeler 5 shows in its properties panel; the description, which Camunda
    takes from the documentation, as legato:description when it differs from it."""
    if task.assignee is not None or task.candidate_groups or task.candidate_users:
        assignment = etree.SubElement(extensions, qualified(ZEEBE, "assignmentDefinition"))
        _set(assignment, "assignee", task.assignee)
        if task.candidate_groups:
            assignment.set("candidateGroups", ", ".join(task.candidate_groups))
        if task.candidate_users:
            assignment.set("candidateUsers", ", ".join(task.candidate_users))
    if task.due_date is not None or task.follow_up_date is not None:
        schedule = etree.SubElement(extensions, qualified(ZEEBE, "taskSchedule"))
        _set(schedule, "dueDate", task.due_date)
        _set(schedule, "followUpDate", task.follow_up_date)
    if task.priority is not None:
        etree.SubElement(extensions, qualified(ZEEBE, "priorityDefinition"), {"priority": str(task.priority)})
    if task.description is not None and task.description != task.documentation:
        etree.SubElement(extensions, qualified(LEGATO, "description")).text = task.description
    if task.form is None:
        return
    known = {"key": "formKey", "id": "formId", "external": "externalReference"}
    key, value = next(iter(task.form.items())) if len(task.form) == 1 else ("", None)
    if key in known and isinstance(value, str) and value:
        etree.SubElement(extensions, qualified(ZEEBE, "formDefinition"), {known[key]: value})
    else:
        etree.SubElement(extensions, qualified(LEGATO, "form")).text = orjson.dumps(
            task.form, option=orjson.OPT_SORT_KEYS
        ).decode()


def write_mappings(
    extensions: etree._Element, inputs: Mapping[str, str], outputs: Mapping[str, str], flavour: str = "camunda8"
) -> None:
    """Input and output mappings: `zeebe:ioMapping` (`camunda:inputOutput` for Camunda 7), and
    `legato:ioMapping` for what Camunda would misread."""
    zeebe: list[tuple[str, str, str]] = []
    legato: list[tuple[str, str, str]] = []
    camunda: list[tuple[str, str, str]] = []
    for kind, mapping in (("input", inputs), ("output", outputs)):
        for target, source in mapping.items():
            if flavour == "camunda7" and (parameter := _camunda7_value(source)) is not None:
                camunda.append((kind, parameter, target))
                continue
            written = to_camunda(source)
            (zeebe if written is not None and flavour != "camunda7" else legato).append(
                (kind, written if written is not None and flavour != "camunda7" else source, target)
            )
    if camunda:
        node = etree.SubElement(extensions, qualified(CAMUNDA, "inputOutput"))
        for kind, text, target in camunda:
            etree.SubElement(node, qualified(CAMUNDA, f"{kind}Parameter"), name=target).text = text
    for namespace, items in ((ZEEBE, zeebe), (LEGATO, legato)):
        if items:
            node = etree.SubElement(extensions, qualified(namespace, "ioMapping"))
            for kind, source, target in items:
                etree.SubElement(node, qualified(namespace, kind), source=source, target=target)


def _retry(extensions: etree._Element, retry: RetryPolicy) -> None:
    node = etree.SubElement(
        extensions,
        qualified(LEGATO, "retry"),
        maxAttempts=str(retry.max_attempts),
        initialBackoff=repr(float(retry.initial_backoff)),
        multiplier=repr(float(retry.multiplier)),
        maxBackoff=repr(float(retry.max_backoff)),
        jitter=repr(float(retry.jitter)),
    )
    if retry.non_retryable:
        node.set("nonRetryable", ",".join(retry.non_retryable))


def _timeout(extensions: etree._Element, timeout: float | None) -> None:
    if timeout is not None:
        etree.SubElement(extensions, qualified(LEGATO, "timeout"), seconds=repr(float(timeout)))


def _set(node: etree._Element, attribute: str, value: str | None) -> None:
    if value is not None:
        node.set(attribute, value)


# --- Camunda 7 ---------------------------------------------------------------------------


def _camunda7_value(expression: str) -> str | None:
    """The text of a Camunda 7 attribute or parameter that reads back as `expression`:
    `${order.total}` for a path, the JUEL as written, static text; None when JUEL cannot say it
    (FEEL, or Legato's dialect beyond a path), and Legato's own extension then says it."""
    written = to_camunda(expression)
    if written is None:
        return None
    if written.startswith("=") and not written.startswith("=="):
        body = written[1:].strip()
        written = "${" + body + "}" if is_path(body) else ""
    if not written or written.startswith("=") or from_camunda(written) != expression:
        return None
    return written


def _camunda7_activity(extensions: etree._Element, activity: Activity) -> bool:
    """Camunda 7's attributes for what it can say of `activity`; False leaves it to the Camunda 8 writer.

    Service and send tasks become external tasks (`camunda:type="external" camunda:topic`),
    user tasks take `camunda:assignee`, `candidateGroups`, `candidateUsers`, `dueDate`,
    `followUpDate`, `priority`, `formKey`/`formRef`, business rule tasks `camunda:decisionRef`,
    `resultVariable` and `mapDecisionResult`. Call activities, and a decision without a result
    mapping (Camunda 7 would read its default, `resultList`), keep the Camunda 8 form.
    """
    node = extensions.getparent()
    assert node is not None
    if isinstance(activity, CallActivity) or (isinstance(activity, BusinessRuleTask) and not activity.result_mapping):
        return False
    if isinstance(activity, BusinessRuleTask):
        node.set(qualified(CAMUNDA, "decisionRef"), activity.decision)
        if activity.result_variable is not None:
            node.set(qualified(CAMUNDA, "resultVariable"), activity.result_variable)
        node.set(qualified(CAMUNDA, "mapDecisionResult"), str(activity.result_mapping))
        if activity.tenant is not None:
            etree.SubElement(extensions, qualified(LEGATO, "calledDecision"), tenant=activity.tenant)
    elif isinstance(activity, ServiceTask):
        node.set(qualified(CAMUNDA, "type"), "external")
        node.set(qualified(CAMUNDA, "topic"), activity.task_type)
    if isinstance(activity, BusinessRuleTask | ServiceTask):
        if activity.retry != RetryPolicy():
            _retry(extensions, activity.retry)
        _timeout(extensions, activity.timeout)
    if isinstance(activity, UserTask):
        _camunda7_user_task(node, extensions, activity)
    write_mappings(extensions, activity.inputs, activity.outputs, "camunda7")
    return True


def _camunda7_user_task(node: etree._Element, extensions: etree._Element, task: UserTask) -> None:
    attributes = {
        "assignee": task.assignee,
        "candidateGroups": ", ".join(task.candidate_groups) or None,
        "candidateUsers": ", ".join(task.candidate_users) or None,
        "dueDate": task.due_date,
        "followUpDate": task.follow_up_date,
        "priority": None if task.priority is None else str(task.priority),
    }
    form = task.form or {}
    key, value = next(iter(form.items())) if len(form) == 1 else ("", None)
    if key in ("key", "id") and isinstance(value, str) and value:
        attributes["formKey" if key == "key" else "formRef"] = value
    elif task.form is not None:
        etree.SubElement(extensions, qualified(LEGATO, "form")).text = orjson.dumps(
            task.form, option=orjson.OPT_SORT_KEYS
        ).decode()
    for name, text in attributes.items():
        if text is not None:
            node.set(qualified(CAMUNDA, name), text)
    if task.description is not None and task.description != task.documentation:
        etree.SubElement(extensions, qualified(LEGATO, "description")).text = task.description
