"""Camunda 7 (`camunda:`), Camunda 8 (`zeebe:`) and Legato (`legato:`) extensions.

BPMN 2.0 leaves how a task is executed to extensions (8.2.3, "Extensibility"), and the
modelers disagree on the spelling: Camunda 7 puts an external task's topic in attributes
(`camunda:type="external" camunda:topic="..."`), Camunda 8 in an extension element
(`zeebe:taskDefinition type="..." retries="3"`). `read_extensions` reads both into one
`Extensions` record per element, binds Java delegates to handlers by class or bean name,
refuses what Legato cannot run (scripts in Groovy, connectors), and warns about what it
leaves out (listeners, priorities, async continuations) without failing the import. An
extension from any other namespace is kept out of the model and reported as a warning.
What each known extension means is in `extension_handlers`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Final

from lxml import etree

from legato.formats.bpmn.context import Context, Delegate
from legato.formats.bpmn.extension_handlers import ELEMENT_KEYS, HANDLERS
from legato.formats.bpmn.namespaces import BPMN, CAMUNDA, LEGATO, PRESENTATION, ZEEBE, split
from legato.model.elements import MessageRoute, RetryPolicy

_PREFIX: Final = {CAMUNDA: "camunda", ZEEBE: "zeebe", LEGATO: "legato"}
_ACTIVITY: Final = frozenset({"camunda:asyncBefore", "camunda:asyncAfter", "camunda:exclusive"})
_MAPPINGS: Final = frozenset({"camunda:inputOutput", "zeebe:ioMapping", "legato:ioMapping"})

_HANDLED: Final = (
    _ACTIVITY
    | _MAPPINGS
    | {
        "camunda:type",
        "camunda:topic",
        "camunda:class",
        "camunda:delegateExpression",
        "camunda:expression",
        "camunda:resultVariable",
        "camunda:connector",
        "camunda:failedJobRetryTimeCycle",
        "zeebe:taskDefinition",
        "legato:retry",
        "legato:timeout",
        "legato:messageRoute",
    }
)

ACCEPTED: Final[dict[str, frozenset[str]]] = {
    "serviceTask": _HANDLED,
    "sendTask": _HANDLED,
    "userTask": _ACTIVITY
    | _MAPPINGS
    | {
        "camunda:assignee",
        "camunda:candidateGroups",
        "camunda:candidateUsers",
        "camunda:dueDate",
        "camunda:followUpDate",
        "camunda:priority",
        "camunda:formKey",
        "camunda:formRef",
        "camunda:formRefBinding",
        "camunda:formRefVersion",
        "zeebe:assignmentDefinition",
        "zeebe:taskSchedule",
        "zeebe:priorityDefinition",
        "zeebe:formDefinition",
        "zeebe:userTask",
        "legato:form",
        "legato:description",
    },
    "scriptTask": _ACTIVITY | _MAPPINGS | {"camunda:resultVariable", "camunda:resource", "zeebe:script"},
    "subProcess": _ACTIVITY | _MAPPINGS,
    "task": _ACTIVITY | _MAPPINGS,
    "manualTask": _ACTIVITY | _MAPPINGS,
    "receiveTask": _ACTIVITY | _MAPPINGS,
    "callActivity": _ACTIVITY
    | _MAPPINGS
    | {
        "camunda:in",
        "camunda:out",
        "camunda:calledElementBinding",
        "camunda:calledElementVersion",
        "camunda:calledElementVersionTag",
        "camunda:calledElementTenantId",
        "camunda:variableMappingClass",
        "camunda:variableMappingDelegateExpression",
        "zeebe:calledElement",
        "legato:calledElement",
    },
    "businessRuleTask": _ACTIVITY
    | _MAPPINGS
    | {
        "camunda:decisionRef",
        "camunda:decisionRefBinding",
        "camunda:decisionRefVersion",
        "camunda:decisionRefVersionTag",
        "camunda:decisionRefTenantId",
        "camunda:mapDecisionResult",
        "camunda:resultVariable",
        "camunda:type",
        "camunda:topic",
        "camunda:class",
        "camunda:delegateExpression",
        "camunda:expression",
        "camunda:failedJobRetryTimeCycle",
        "zeebe:calledDecision",
        "legato:calledDecision",
        "zeebe:taskDefinition",
        "legato:retry",
        "legato:timeout",
    },
    "startEvent": _ACTIVITY | _MAPPINGS,
    "intermediateThrowEvent": _ACTIVITY | {"zeebe:taskDefinition", "legato:messageRoute"},
    "endEvent": _ACTIVITY | {"zeebe:taskDefinition", "legato:messageRoute"},
    "messageEventDefinition": frozenset(
        {"camunda:type", "camunda:topic", "camunda:class", "camunda:delegateExpression", "camunda:expression"}
    ),
    "multiInstanceLoopCharacteristics": _ACTIVITY
    | {"camunda:collection", "camunda:elementVariable", "zeebe:loopCharacteristics", "legato:loopCharacteristics"},
    "message": frozenset({"zeebe:subscription", "legato:subscription"}),
    "error": frozenset({"camunda:errorMessage", "legato:message"}),
    "signal": frozenset(),
    "escalation": frozenset(),
    "conditionExpression": frozenset({"camunda:resource"}),
    "process": frozenset({"legato:sensitive", "camunda:properties", "zeebe:properties"}),
}
"""The extensions each BPMN element kind takes; events and gateways take `_ACTIVITY`."""

_IGNORED: Final[dict[str, str]] = {
    "camunda:asyncBefore": "Legato commits at every wait state, so asynchronous continuations are ignored",
    "camunda:asyncAfter": "Legato commits at every wait state, so asynchronous continuations are ignored",
    "camunda:priority": "priorities are kept on user tasks only",
    "camunda:jobPriority": "job priorities are not kept",
    "camunda:taskPriority": "external task priorities are not kept",
    "camunda:initiator": "the starting user is not stored in a variable; pass it as a start variable",
    "camunda:executionListener": "listeners run Java or scripts, which a Legato model cannot: use a service task",
    "camunda:taskListener": "listeners run Java or scripts, which a Legato model cannot: use a service task",
    "camunda:properties": "extension properties are not kept",
    "camunda:formData": "generated forms (camunda:formData) are not imported; give the task a form key",
    "camunda:errorEventDefinition": "error event definitions on external tasks are ignored: raise BpmnError "
    "in the handler",
    "camunda:field": "field injection is not kept: a Legato handler reads process variables; pass constants as "
    "camunda:inputParameter",
    "zeebe:taskHeaders": "task headers are not kept; pass constants to the handler as inputs",
    "zeebe:priorityDefinition": "priorities are kept on user tasks only",
    "zeebe:properties": "extension properties are not kept",
    "zeebe:executionListeners": "execution listeners are ignored: model the work as a service task",
    "zeebe:taskListeners": "task listeners are ignored: model the work as a service task",
    "zeebe:userTaskForm": "embedded Camunda Forms are not imported; user tasks keep their form key",
    "zeebe:versionTag": "version tags are not kept: Legato numbers versions itself",
    "camunda:versionTag": "version tags are not kept: Legato numbers versions itself",
    "camunda:historyTimeToLive": "history time to live is not kept: Legato keeps history until it is purged",
    "camunda:variableName": "Legato checks a condition after every step that changes variables, whichever they are",
    "camunda:variableEvents": "Legato checks a condition after every step that changes variables, whichever they are",
}
_SILENT: Final = frozenset({"camunda:exclusive", "zeebe:userTask", "camunda:formRefBinding", "camunda:formRefVersion"})
_DELEGATES: Final = ("camunda:class", "camunda:delegateExpression", "camunda:expression")
_RUN_BY_HANDLERS: Final = frozenset({"serviceTask", "sendTask", "businessRuleTask", "messageEventDefinition"})


@dataclass
class Extensions:
    """What the extensions of one element say, in Legato's terms."""

    task_type: str | None = None
    message_routes: list[MessageRoute] = field(default_factory=list)  # legato:messageRoute, as Legato writes it
    retry: RetryPolicy | None = None
    retries: int | None = None  # zeebe:taskDefinition retries: the attempts a modeler set
    timeout: float | None = None
    inputs: dict[str, str] = field(default_factory=dict)
    outputs: dict[str, str] = field(default_factory=dict)
    assignee: str | None = None
    candidate_groups: tuple[str, ...] = ()
    candidate_users: tuple[str, ...] = ()
    due_date: str | None = None  # camunda:dueDate, zeebe:taskSchedule dueDate
    follow_up_date: str | None = None
    priority: str | None = None  # camunda:priority, zeebe:priorityDefinition
    description: str | None = None  # legato:description (else the task's documentation)
    form: dict[str, object] | None = None
    script: tuple[str, str] | None = None  # zeebe:script (expression, result variable)
    result_variable: str | None = None  # camunda:resultVariable
    correlation_key: str | None = None
    error_message: str | None = None
    async_continuation: bool = False
    # multiInstanceLoopCharacteristics: camunda:collection, zeebe:loopCharacteristics
    collection: str | None = None
    element_variable: str | None = None
    output_collection: str | None = None
    output_element: str | None = None
    # callActivity: Camunda 7 attributes and camunda:in/out, zeebe:calledElement
    called_process: str | None = None
    called_version: int | None = None
    called_binding: str | None = None  # latest, deployment, version, versionTag
    called_tenant: str | None = None  # camunda:calledElementTenantId, a fixed tenant
    all_in: bool = False  # camunda:in variables="all", or Zeebe's propagateAllParentVariables
    all_out: bool = False  # camunda:out variables="all", or Zeebe's propagateAllChildVariables
    call_inputs: dict[str, str] | None = None  # camunda:in, None when there is none
    call_outputs: dict[str, str] | None = None  # camunda:out, None when there is none
    # businessRuleTask: camunda:decisionRef, zeebe:calledDecision
    decision: str | None = None
    decision_mapping: str | None = None  # camunda:mapDecisionResult
    decision_tenant: str | None = None  # camunda:decisionRefTenantId, a fixed tenant
    sensitive: tuple[str, ...] = ()  # process: legato:sensitive, or a property named "sensitive"


@dataclass
class ExtensionReader:
    context: Context
    node: etree._Element
    kind: str
    element: str | None
    found: Extensions = field(default_factory=Extensions)

    def refuse(self, message: str) -> None:
        self.context.refuse(self.node, message, element=self.element)

    def warn(self, key: str, message: str) -> None:
        self.context.warn(self.node, f"{key}:{message}", f"{key} is ignored: {message}", element=self.element)

    def read(self) -> Extensions:
        accepted = ACCEPTED.get(self.kind, _ACTIVITY)
        for name, value in self.node.attrib.items():
            namespace, local = split(name)
            if namespace in ("", BPMN) or namespace in PRESENTATION:
                continue
            self.dispatch(namespace, local, value, accepted)
        for container in self.node.iterchildren(f"{{{BPMN}}}extensionElements"):
            for child in container.iterchildren(etree.Element):
                namespace, local = split(child.tag)
                self.dispatch(namespace, local, child, accepted)
        if self.found.task_type is None:
            self.bind_delegates()
        return self.found

    def dispatch(self, namespace: str, local: str, value: etree._Element | str, accepted: frozenset[str]) -> None:
        prefix = _PREFIX.get(namespace)
        is_element = isinstance(value, etree._Element)
        if prefix is None:
            written = self.context.name(f"{{{namespace}}}{local}")
            self.context.warn(
                value if isinstance(value, etree._Element) else self.node,
                f"unknown:{namespace}:{local}",
                f"extension {written} is not one Legato knows; it is left out of the model",
                element=self.element,
            )
            return
        key = f"{prefix}:{local}"
        if key in HANDLERS and is_element != (key in ELEMENT_KEYS):
            self.warn(key, f"Legato expects it as an {'element' if key in ELEMENT_KEYS else 'attribute'}")
            return
        if key in _SILENT:
            return
        if key in _IGNORED and not (key in accepted and key in HANDLERS):  # camunda:properties on a process
            if key in ("camunda:asyncBefore", "camunda:asyncAfter"):
                self.found.async_continuation = True
            self.warn(key, _IGNORED[key])
            return
        handler = HANDLERS.get(key)
        if handler is None or key not in accepted:
            article = "an" if self.kind[0] in "aeiou" else "a"
            self.warn(key, f"it has no meaning on {article} {self.kind} in Legato")
            return
        handler(self, value)

    def bind_delegates(self) -> None:
        """A Java delegate becomes the task type of a Legato handler, named as Camunda names it.

        `camunda:class="com.acme.ChargeCard"` is task type `com.acme.ChargeCard`,
        `camunda:delegateExpression="${chargeCard}"` and `camunda:expression=
        "${chargeCard.charge(execution)}"` are task type `chargeCard` (the bean). A team
        moving from Camunda 7 registers a Python handler under that name, one class at a
        time; until one is registered, the task's jobs wait (as an external task waits for
        its worker), and the deployment says so (`Context.delegates`).
        """
        for key in _DELEGATES:
            local = key.split(":")[1]
            value = self.node.get(f"{{{CAMUNDA}}}{local}")
            if value is None or self.kind not in _RUN_BY_HANDLERS:
                continue
            task_type, problem = delegate_task_type(local, value.strip())
            if task_type is None:
                self.refuse(f"{key}={value!r} {problem}")
                return
            self.found.task_type = task_type
            written = f"{key}={value!r}"
            self.context.delegates.append(Delegate(element=self.element, written=written, task_type=task_type))
            self.context.warn(
                self.node,
                f"delegate:{task_type}",
                f"{key}={value!r} runs as Legato task type {task_type!r}: register a handler under that name "
                f"(@app.handler({task_type!r})); until one is registered its jobs wait",
                element=self.element,
            )
            return


_JAVA_CLASS: Final = re.compile(r"^[A-Za-z_$][\w$]*(\.[A-Za-z_$][\w$]*)*$")
_BEAN: Final = re.compile(r"^[$#]\{\s*([A-Za-z_]\w*)\s*\}$")
_BEAN_CALL: Final = re.compile(r"^[$#]\{\s*([A-Za-z_]\w*)\s*\.\s*[A-Za-z_]\w*\s*(\(.*\))?\s*\}$", re.DOTALL)
_NOT_BEANS: Final = frozenset({"execution", "task", "authenticatedUserId", "true", "false", "null"})


def delegate_task_type(attribute: str, value: str) -> tuple[str | None, str]:
    """The task type a Java delegate binds to, or None and why it cannot bind."""
    if attribute == "class":
        if _JAVA_CLASS.match(value):
            return value, ""
        return None, "is not a Java class name"
    match = (_BEAN if attribute == "delegateExpression" else _BEAN_CALL).match(value) or _BEAN.match(value)
    if match is not None and match.group(1) not in _NOT_BEANS:
        return match.group(1), ""
    shape = "${beanName}" if attribute == "delegateExpression" else "${beanName.method(...)}"
    return None, (
        f"computes its work in an expression Legato cannot bind to a handler; write it as {shape} and register "
        "a Legato handler under the bean's name, or make it an external task (camunda:topic)"
    )


def read_extensions(context: Context, node: etree._Element, kind: str, element: str | None = None) -> Extensions:
    """The extensions of `node` (a BPMN element of `kind`), refusing and warning in `context`."""
    return ExtensionReader(context, node, kind, element if element is not None else node.get("id")).read()
