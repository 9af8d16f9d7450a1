"""Activities read into Legato's model: tasks, subprocesses and call activities.

Every activity may run once per item (BPMN 2.0, 10.3.7 multi-instance, read by
`multi_instance` in both Camunda flavours) and may be a compensation handler
(`isForCompensation`, 10.3.1). What runs it comes from the extensions
(`extensions.read_extensions`): a task type for service and send tasks, a decision for a
business rule task, a called process and the variables passed both ways for a call
activity. Where Camunda 7, Camunda 8 and Legato mean different things by the same file
(which variables a called process gets, how a decision's result is shaped), the
difference is reported as a warning, in the element's terms.
"""

from __future__ import annotations

import dataclasses
import re
from typing import TYPE_CHECKING, Final

from lxml import etree

from legato.formats.bpmn.events import message
from legato.formats.bpmn.expressions import from_camunda, is_path
from legato.formats.bpmn.extensions import Extensions, read_extensions
from legato.formats.bpmn.loop_data import read_loop_data
from legato.formats.bpmn.namespaces import BPMN, CAMUNDA, ZEEBE, split
from legato.model.elements import (
    DECISION_RESULT_MAPPINGS,
    MESSAGE_TASK_TYPE,
    BusinessRuleTask,
    CallActivity,
    Element,
    ManualTask,
    MultiInstance,
    ReceiveTask,
    RetryPolicy,
    ScriptTask,
    SendTask,
    ServiceTask,
    StandardLoop,
    SubProcess,
    Task,
    UserTask,
)

if TYPE_CHECKING:
    from legato.formats.bpmn.elements import FlowReader

_SCRIPT_DIALECTS: Final = {"legato"}
_EXPRESSION_SCRIPTS: Final = {"feel", "juel"}
# Camunda 7's names for the counters a completion condition reads; Legato has Camunda 8's.
_CAMUNDA7_COUNTERS: Final = re.compile(r"\bnrOf(Instances|CompletedInstances|ActiveInstances)\b")


def activity_fields(reader: FlowReader, node: etree._Element) -> dict[str, object]:
    """What every activity has: its loop, and whether it is a compensation handler."""
    return {
        "multi_instance": multi_instance(reader, node),
        "loop": standard_loop(reader, node),
        "for_compensation": node.get("isForCompensation") == "true",
    }


def multi_instance(reader: FlowReader, node: etree._Element) -> MultiInstance | None:
    """`multiInstanceLoopCharacteristics`, as Camunda 7, Camunda 8 or plain BPMN writes it.

    BPMN itself: `loopDataInputRef` and the other data references (`loop_data`), which
    may stand beside an extension that says the same. Camunda 7: `camunda:collection`,
    `camunda:elementVariable`, `loopCardinality`,
    `completionCondition`. Camunda 8: `zeebe:loopCharacteristics` (inputCollection,
    inputElement, outputCollection, outputElement) and `completionCondition`. The
    cardinality and completion condition are formal expressions, kept as written, except
    that Camunda 7's `nrOfInstances` (and `nrOfCompletedInstances`, `nrOfActiveInstances`)
    are read as the `numberOf...` that Legato, like Camunda 8, provides.
    """
    loop = node.find(f"{{{BPMN}}}multiInstanceLoopCharacteristics")
    if loop is None:
        return None
    found = read_extensions(reader.context, loop, "multiInstanceLoopCharacteristics", node.get("id"))
    if loop.find(f"{{{BPMN}}}complexBehaviorDefinition") is not None:
        reader.context.refuse(
            node,
            "complexBehaviorDefinition is not supported: end the instances early with a completionCondition, and "
            "throw events after the activity",
        )
    data = read_loop_data(reader.context, node, loop)
    for extension, standard, label in (
        (found.collection, data.collection, "loopDataInputRef"),
        (found.element_variable, data.element_variable, "inputDataItem"),
        (found.output_collection, data.output_collection, "loopDataOutputRef"),
        (found.output_element, data.output_element, "outputDataItem"),
    ):
        if extension is not None and standard is not None and extension != standard:
            reader.context.refuse(node, f"the {label} and the extension say different things: give it once")
    found = dataclasses.replace(
        found,
        collection=found.collection or data.collection,
        element_variable=found.element_variable or data.element_variable,
        output_collection=found.output_collection or data.output_collection,
        output_element=found.output_element or data.output_element,
    )
    cardinality = _formal(loop, "loopCardinality")
    completion = _formal(loop, "completionCondition")
    if completion is not None:
        completion = _CAMUNDA7_COUNTERS.sub(r"numberOf\1", completion)
    if found.collection is None and cardinality is None:
        reader.context.refuse(
            node,
            "a multi-instance activity needs a collection (camunda:collection, zeebe:loopCharacteristics "
            "inputCollection, or loopDataInputRef) or a loop cardinality",
        )
        return None
    return MultiInstance(
        sequential=loop.get("isSequential") == "true",
        collection=found.collection,
        element_variable=found.element_variable,
        cardinality=cardinality,
        completion_condition=completion,
        output_collection=found.output_collection,
        output_element=found.output_element,
    )


def standard_loop(reader: FlowReader, node: etree._Element) -> StandardLoop | None:
    """`standardLoopCharacteristics` (BPMN 2.0.2, 10.3.8): `loopCondition` (a formal
    expression, kept as written), `testBefore` and `loopMaximum` (attributes).

    The spec's loop runs "as long as this condition is true"; SpiffWorkflow reads the same
    condition as the one that ends the loop, which docs/bpmn.md points out. A loop with
    neither a condition nor a maximum never ends, and is refused by validation.
    """
    loop = node.find(f"{{{BPMN}}}standardLoopCharacteristics")
    if loop is None:
        return None
    read_extensions(reader.context, loop, "standardLoopCharacteristics", node.get("id"))
    maximum = None
    written = (loop.get("loopMaximum") or "").strip()
    if written:
        try:
            maximum = int(written)
        except ValueError:
            reader.context.refuse(node, f"loopMaximum={written!r} is not a whole number")
            return None
    test_before = (loop.get("testBefore") or "false").strip()
    if test_before not in ("true", "false"):
        reader.context.refuse(node, f"testBefore={test_before!r} is neither true nor false")
        return None
    if loop.find(f"{{{BPMN}}}loopCondition") is not None and _formal(loop, "loopCondition") is None:
        reader.context.refuse(node, "the loopCondition is empty: write the condition the loop goes on while")
        return None
    return StandardLoop(condition=_formal(loop, "loopCondition"), test_before=test_before == "true", maximum=maximum)


def _formal(loop: etree._Element, tag: str) -> str | None:
    """The text of a formal expression child (`loopCardinality`, `completionCondition`)."""
    text = (loop.findtext(f"{{{BPMN}}}{tag}") or "").strip()
    return text or None


# --- tasks run by handlers --------------------------------------------------------------


def service(reader: FlowReader, node: etree._Element, common: dict[str, object]) -> Element | None:
    kind = split(node.tag)[1]
    found = reader.extensions(node, kind)
    routes = reader.context.message_routes.get(node.get("id", ""), ()) or tuple(found.message_routes)
    if (
        kind == "sendTask" and routes and found.task_type in (None, MESSAGE_TASK_TYPE)
    ):  # no handler: Legato sends it along the file's message flows
        return SendTask(
            **common,  # type: ignore[arg-type]
            **activity_fields(reader, node),  # type: ignore[arg-type]
            task_type=MESSAGE_TASK_TYPE,
            routes=routes,
            retry=_retry(found),
            timeout=found.timeout,
            inputs=found.inputs,
            outputs=found.outputs,
        )
    if found.task_type is None:
        if reader.refused(node):
            return None
        # No implementation: a model drawn to be read, not run (bpmn.io, a process repository).
        # Kept as an abstract task, and the process as one that cannot run until it has one.
        reader.context.cannot_run(
            node,
            f'a {_spaced(kind)} needs a task type, the name of its handler: zeebe:taskDefinition type="..." '
            '(Camunda 8) or camunda:type="external" camunda:topic="..." (Camunda 7)',
        )
        return Task(**common, **activity_fields(reader, node))  # type: ignore[arg-type]
    if kind == "sendTask" and node.get("messageRef"):
        reader.context.warn(node, "send messageRef", "the messageRef of a send task is left out: its handler sends")
    task = SendTask if kind == "sendTask" else ServiceTask
    return task(
        **common,  # type: ignore[arg-type]
        **activity_fields(reader, node),  # type: ignore[arg-type]
        task_type=found.task_type,
        retry=_retry(found),
        timeout=found.timeout,
        inputs=found.inputs,
        outputs=found.outputs,
    )


def business_rule(reader: FlowReader, node: etree._Element, common: dict[str, object]) -> Element | None:
    """A DMN decision: `zeebe:calledDecision` (Camunda 8) or `camunda:decisionRef` (Camunda 7)."""
    found = reader.extensions(node, "businessRuleTask")
    if found.task_type is not None:
        reader.context.refuse(
            node,
            "a business rule task run by a job worker is a service task in Legato: make it a service task of that type",
        )
        return None
    if found.decision is None:
        if not reader.refused(node):
            reader.context.refuse(
                node,
                'a business rule task needs the decision it evaluates: zeebe:calledDecision decisionId="..." '
                '(Camunda 8) or camunda:decisionRef="..." (Camunda 7)',
            )
        return None
    mapping = found.decision_mapping
    if mapping is None and node.get(f"{{{CAMUNDA}}}decisionRef") is not None:
        mapping = "resultList"  # Camunda 7's default mapper
    if mapping is not None and mapping not in DECISION_RESULT_MAPPINGS:
        reader.context.refuse(
            node,
            f"camunda:mapDecisionResult={mapping!r} is no result mapping: use one of "
            + ", ".join(DECISION_RESULT_MAPPINGS),
        )
        return None
    return BusinessRuleTask(
        **common,  # type: ignore[arg-type]
        **activity_fields(reader, node),  # type: ignore[arg-type]
        decision=found.decision,
        result_variable=found.result_variable,
        tenant=found.decision_tenant,
        result_mapping=mapping,
        retry=_retry(found),
        timeout=found.timeout,
        inputs=found.inputs,
        outputs=found.outputs,
    )


def _retry(found: Extensions) -> RetryPolicy:
    retry = found.retry or RetryPolicy()
    if found.retries is not None:
        retry = dataclasses.replace(retry, max_attempts=found.retries)
    return retry


def _spaced(kind: str) -> str:
    return re.sub(r"(?<!^)([A-Z])", lambda match: " " + match.group(1).lower(), kind)


# --- tasks the engine runs itself ---------------------------------------------------------


def script(reader: FlowReader, node: etree._Element, common: dict[str, object]) -> Element | None:
    found = reader.extensions(node, "scriptTask")
    script_format = (node.get("scriptFormat") or "").strip().lower()
    body = node.findtext(f"{{{BPMN}}}script") or ""
    inputs = dict(found.inputs)
    fields = {**common, **activity_fields(reader, node)}
    if found.script is not None:
        expression, result = found.script
    elif script_format in _SCRIPT_DIALECTS:
        if found.result_variable is not None:
            reader.context.warn(
                node, "resultVariable", "camunda:resultVariable is ignored: a Legato script assigns its own variables"
            )
        return ScriptTask(**fields, script=body, inputs=inputs, outputs=found.outputs)  # type: ignore[arg-type]
    elif script_format in _EXPRESSION_SCRIPTS and found.result_variable and body.strip():
        text = body.strip()
        expression = from_camunda(text if script_format == "juel" or text.startswith("=") else f"={text}")
        result = found.result_variable
    else:
        if not reader.refused(node):
            reader.context.refuse(node, _script_refusal(node, script_format, body))
        return None
    if is_path(expression) or expression.startswith('"'):
        text = f"{result} = {expression}"
    else:
        # FEEL and JUEL run as an input mapping, which keeps their dialect; the script
        # then assigns the result variable from it.
        inputs[result] = expression
        text = f"{result} = {result}"
    return ScriptTask(**fields, script=text, inputs=inputs, outputs=found.outputs)  # type: ignore[arg-type]


def _script_refusal(node: etree._Element, script_format: str, body: str) -> str:
    if node.find(f"{{{BPMN}}}extensionElements/{{{ZEEBE}}}taskDefinition") is not None:
        return "a script task run by a job worker is a service task in Legato: make it a service task of that type"
    if script_format in _EXPRESSION_SCRIPTS:
        return f"a {script_format} script needs camunda:resultVariable and an expression"
    if script_format or body.strip():
        shown = script_format or "a script without scriptFormat"
        return (
            f"{shown!s} cannot run in Legato: a model is data, never code. Rewrite it as `name = expression` "
            'lines with scriptFormat="legato" (docs/expressions.md), or move the code into a service task handler'
        )
    return 'a script task needs a script: zeebe:script (Camunda 8) or scriptFormat="legato" and bpmn:script'


def user(reader: FlowReader, node: etree._Element, common: dict[str, object]) -> Element | None:
    found = reader.extensions(node, "userTask")
    return UserTask(
        **common,  # type: ignore[arg-type]
        **activity_fields(reader, node),  # type: ignore[arg-type]
        assignee=found.assignee,
        candidate_groups=found.candidate_groups,
        candidate_users=found.candidate_users,
        due_date=found.due_date,
        follow_up_date=found.follow_up_date,
        priority=found.priority,
        description=found.description,
        form=found.form,
        inputs=found.inputs,
        outputs=found.outputs,
    )


def receive(reader: FlowReader, node: etree._Element, common: dict[str, object]) -> Element | None:
    """Waits for a message, correlated by the key on the message (`zeebe:subscription`)."""
    found = reader.extensions(node, "receiveTask")
    if node.get("instantiate") == "true":
        reader.context.refuse(
            node, "a receive task that starts the process is not supported: use a message start event"
        )
        return None
    received = message(reader, node, reader.context.reference(node, "messageRef"))
    if received is None:
        return None
    return ReceiveTask(
        **common,  # type: ignore[arg-type]
        **activity_fields(reader, node),  # type: ignore[arg-type]
        message=received.message,
        correlation_key=received.correlation_key,
        inputs=found.inputs,
        outputs=found.outputs,
    )


def plain(reader: FlowReader, node: etree._Element, common: dict[str, object]) -> Element | None:
    """An abstract task or a manual task: a token passes through (BPMN 2.0, 10.3.3)."""
    kind = split(node.tag)[1]
    found = reader.extensions(node, kind)
    task = ManualTask if kind == "manualTask" else Task
    return task(
        **common,  # type: ignore[arg-type]
        **activity_fields(reader, node),  # type: ignore[arg-type]
        inputs=found.inputs,
        outputs=found.outputs,
    )


# --- scopes -------------------------------------------------------------------------------


def subprocess(reader: FlowReader, node: etree._Element, common: dict[str, object]) -> Element | None:
    """An embedded subprocess, an event subprocess (`triggeredByEvent="true"`) or a
    transaction (`bpmn:transaction`), BPMN 2.0, 10.3.5."""
    found = reader.extensions(node, "subProcess")
    transaction = split(node.tag)[1] == "transaction"
    if transaction and node.get("method", "##Compensate") not in ("##Compensate", "Compensate"):
        reader.context.refuse(
            node, f"a transaction's method {node.get('method')!r} is not supported: Legato compensates"
        )
    for lanes in node.iterchildren(f"{{{BPMN}}}laneSet"):
        reader.context.warn(lanes, "inner lanes", "lanes inside a subprocess are left out", element=node.get("id"))
    triggered = node.get("triggeredByEvent") == "true"
    if triggered:
        reader.event_subprocesses.add(str(common["id"]))
    fields = activity_fields(reader, node)
    reader.read_scope(node, str(common["id"]))
    return SubProcess(
        **common,  # type: ignore[arg-type]
        **fields,  # type: ignore[arg-type]
        triggered_by_event=triggered,
        transaction=transaction,
        inputs=found.inputs,
        outputs=found.outputs,
    )


def call(reader: FlowReader, node: etree._Element, common: dict[str, object]) -> Element | None:
    """Another deployed process as a child instance (BPMN 2.0, 10.3.6; docs/call-activities.md)."""
    found = reader.extensions(node, "callActivity")
    process = found.called_process or reader.context.reference(node, "calledElement") or ""
    if "${" in process or "#{" in process:
        reader.context.refuse(node, f"calledElement {process!r} is an expression; Legato calls a fixed process key")
        return None
    if not process:
        if not reader.refused(node):
            reader.context.refuse(
                node,
                'a call activity needs the key of the process it calls: zeebe:calledElement processId="..." '
                '(Camunda 8) or calledElement="..." (Camunda 7)',
            )
        return None
    zeebe = node.find(f"{{{BPMN}}}extensionElements/{{{ZEEBE}}}calledElement") is not None
    version = _called_version(reader, node, found)
    inputs, outputs = _zeebe_variables(reader, node, found) if zeebe else _camunda_variables(reader, node, found)
    fields = activity_fields(reader, node)
    if reader.refused(node):
        return None
    return CallActivity(
        **common,  # type: ignore[arg-type]
        **fields,  # type: ignore[arg-type]
        process=process,
        version=version,
        tenant=found.called_tenant,
        inputs=inputs,
        outputs=outputs,
    )


def _called_version(reader: FlowReader, node: etree._Element, found: Extensions) -> int | None:
    """A pinned version (Camunda 7 binding `version`, or `legato:calledElement`), else the latest."""
    binding = found.called_binding or ("version" if found.called_version is not None else "latest")
    if binding == "version":
        if found.called_version is None:
            reader.context.refuse(node, "the called element binding is 'version', but there is no version number")
        return found.called_version
    if binding == "deployment":
        reader.context.warn(
            node,
            "binding deployment",
            "a binding to the version deployed with the caller is not kept: Legato calls the latest version "
            "(pin one with camunda:calledElementVersion)",
        )
    elif binding == "versionTag":
        reader.context.refuse(
            node, "Legato does not keep version tags: call the latest version, or pin a version number instead"
        )
    elif binding != "latest":
        reader.context.refuse(node, f"the called element binding {binding!r} is not one Legato knows")
    return None


def _zeebe_variables(
    reader: FlowReader, node: etree._Element, found: Extensions
) -> tuple[dict[str, str], dict[str, str]]:
    """Camunda 8: input and output mappings, and whether all variables propagate.

    Legato passes all variables when there are no input mappings and only the mapped ones
    when there are (`propagateAllParentVariables="false"`), and brings back all of the
    child's variables without output mappings and only the mapped ones with them.
    """
    if found.inputs and found.all_in:
        reader.context.warn(
            node,
            "propagate parent",
            "with input mappings Legato passes only the mapped variables to the called process, as "
            'propagateAllParentVariables="false" does: map every variable it needs',
        )
    elif not found.inputs and not found.all_in:
        reader.context.warn(
            node,
            "propagate parent none",
            'propagateAllParentVariables="false" without input mappings passes no variables in Camunda 8; '
            "Legato passes all of them",
        )
    if not found.outputs and not found.all_out:
        reader.context.warn(
            node,
            "propagate child none",
            'propagateAllChildVariables="false" without output mappings copies nothing back in Camunda 8; '
            "Legato copies all of the child's variables back",
        )
    return found.inputs, found.outputs


def _camunda_variables(
    reader: FlowReader, node: etree._Element, found: Extensions
) -> tuple[dict[str, str], dict[str, str]]:
    """Camunda 7: `camunda:in` and `camunda:out`, one variable each, or `variables="all"`."""
    mapped = []
    for label, everything, mapping in (
        ("in", found.all_in, found.call_inputs),
        ("out", found.all_out, found.call_outputs),
    ):
        renamed = {target: source for target, source in (mapping or {}).items() if target != source}
        if everything and renamed:
            reader.context.refuse(
                node,
                f'camunda:{label} variables="all" together with mappings that rename or compute ({", ".join(renamed)}) '
                "cannot be said in Legato, which passes either all variables or only the mapped ones",
            )
        elif not everything and mapping is None:
            what = "passes no variables to the called process" if label == "in" else "copies no variables back"
            legato = "passes all of them" if label == "in" else "copies all of the child's variables back"
            reader.context.warn(
                node, f"camunda:{label} none", f"without camunda:{label}, Camunda 7 {what}; Legato {legato}"
            )
        mapped.append({} if everything else dict(mapping or {}))
    return mapped[0], mapped[1]


BUILDERS: Final = {
    "serviceTask": service,
    "sendTask": service,
    "businessRuleTask": business_rule,
    "scriptTask": script,
    "userTask": user,
    "receiveTask": receive,
    "task": plain,
    "manualTask": plain,
    "subProcess": subprocess,
    "transaction": subprocess,
    "callActivity": call,
}
