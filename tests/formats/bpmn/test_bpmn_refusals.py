"""What the BPMN reader refuses: unsupported elements and code, broken and hostile XML,
dangling references. Every refusal names the element, its line, and what to do instead."""

from __future__ import annotations

import pytest
from bpmn_helpers import around, document, line_of, problem_for, refused

from legato.errors import ModelInvalid, ModelParseError
from legato.formats.bpmn import load_bpmn

UNSUPPORTED_ELEMENTS = [
    ('<bpmn:complexGateway id="X" />', "use exclusive, inclusive and parallel gateways"),
    ('<bpmn:transaction id="X" method="##Image" />', "is not supported: Legato compensates"),
    ('<bpmn:adHocSubProcess id="X" />', "embedded subprocess"),
    ('<bpmn:eventBasedGateway id="X" instantiate="true" />', "use several message start events"),
    ('<bpmn:eventBasedGateway id="X" eventGatewayType="Parallel" />', "the first event wins"),
    ('<bpmn:receiveTask id="X" messageRef="M" instantiate="true" />', "use a message start event"),
    (
        '<bpmn:userTask id="X"><bpmn:standardLoopCharacteristics /></bpmn:userTask>',
        "a loop needs a loop condition or a loop maximum, or it never ends",
    ),
    (
        '<bpmn:userTask id="X"><bpmn:multiInstanceLoopCharacteristics isSequential="true" /></bpmn:userTask>',
        "zeebe:loopCharacteristics inputCollection, or loopDataInputRef) or a loop cardinality",
    ),
    (
        '<bpmn:userTask id="X"><bpmn:multiInstanceLoopCharacteristics><bpmn:loopDataInputRef>no items'
        "</bpmn:loopDataInputRef></bpmn:multiInstanceLoopCharacteristics></bpmn:userTask>",
        "loopDataInputRef 'no items' names no data element of the document, nor a variable",
    ),
    (
        '<bpmn:intermediateThrowEvent id="X"><bpmn:dataInputAssociation id="d"><bpmn:sourceRef>o</bpmn:sourceRef>'
        "<bpmn:assignment><bpmn:from>a</bpmn:from><bpmn:to>b</bpmn:to></bpmn:assignment>"
        "</bpmn:dataInputAssociation></bpmn:intermediateThrowEvent>",
        "map variables with input and output mappings",
    ),
    (
        '<bpmn:intermediateCatchEvent id="X"><bpmn:conditionalEventDefinition /></bpmn:intermediateCatchEvent>',
        "a conditional event needs a condition",
    ),
    (
        '<bpmn:intermediateCatchEvent id="X"><bpmn:conditionalEventDefinition><bpmn:condition language="groovy">'
        "x &gt; 1</bpmn:condition></bpmn:conditionalEventDefinition></bpmn:intermediateCatchEvent>",
        "a condition in 'groovy' cannot run in Legato",
    ),
    (
        '<bpmn:intermediateThrowEvent id="X"><bpmn:messageEventDefinition /></bpmn:intermediateThrowEvent>',
        "needs a messageRef",
    ),
    (
        '<bpmn:intermediateThrowEvent id="X"><bpmn:messageEventDefinition messageRef="M" />'
        "</bpmn:intermediateThrowEvent>",
        'a message throw event is sent by a handler: give it a task type, zeebe:taskDefinition type="..."',
    ),
    (
        '<bpmn:intermediateThrowEvent id="X"><bpmn:messageEventDefinition messageRef="M" camunda:class="a B" />'
        "</bpmn:intermediateThrowEvent>",
        "is not a Java class name",
    ),
    (
        '<bpmn:intermediateCatchEvent id="X"><bpmn:signalEventDefinition /></bpmn:intermediateCatchEvent>',
        "a signal event needs a signalRef",
    ),
    (
        '<bpmn:intermediateCatchEvent id="X"><bpmn:signalEventDefinition signalRef="Nope" />'
        "</bpmn:intermediateCatchEvent>",
        "signalRef 'Nope' names no bpmn:signal",
    ),
    (
        '<bpmn:intermediateThrowEvent id="X"><bpmn:escalationEventDefinition escalationRef="Nope" />'
        "</bpmn:intermediateThrowEvent>",
        "escalationRef 'Nope' names no bpmn:escalation",
    ),
    ('<bpmn:callActivity id="X" />', 'zeebe:calledElement processId="..." (Camunda 8) or calledElement="..."'),
    ('<bpmn:callActivity id="X" calledElement="${which}" />', "is an expression; Legato calls a fixed process key"),
    (
        '<bpmn:callActivity id="X"><bpmn:extensionElements><zeebe:calledElement processId="=kind" />'
        "</bpmn:extensionElements></bpmn:callActivity>",
        "is an expression; Legato calls a fixed process key",
    ),
    (
        '<bpmn:callActivity id="X" calledElement="other" camunda:calledElementBinding="versionTag" '
        'camunda:calledElementVersionTag="v1" />',
        "Legato does not keep version tags",
    ),
    (
        '<bpmn:callActivity id="X" calledElement="other" camunda:calledElementVersion="${v}" />',
        "must be a version number from 1",
    ),
    (
        '<bpmn:callActivity id="X" calledElement="other" camunda:variableMappingClass="com.acme.Mapping" />',
        "runs Java code",
    ),
    (
        '<bpmn:callActivity id="X" calledElement="other"><bpmn:extensionElements><camunda:inputOutput>'
        '<camunda:inputParameter name="a">1</camunda:inputParameter></camunda:inputOutput>'
        "</bpmn:extensionElements></bpmn:callActivity>",
        "pass variables to the called process with camunda:in and camunda:out",
    ),
    (
        '<bpmn:callActivity id="X" calledElement="other"><bpmn:extensionElements><camunda:in variables="all" />'
        '<camunda:in source="a" target="b" /></bpmn:extensionElements></bpmn:callActivity>',
        "passes either all variables or only the mapped ones",
    ),
    ('<bpmn:businessRuleTask id="X" />', 'zeebe:calledDecision decisionId="..." (Camunda 8)'),
    (
        '<bpmn:businessRuleTask id="X"><bpmn:extensionElements><zeebe:taskDefinition type="rules" />'
        "</bpmn:extensionElements></bpmn:businessRuleTask>",
        "make it a service task of that type",
    ),
    ('<bpmn:businessRuleTask id="X" camunda:decisionRef="${rule}" />', "Legato evaluates a fixed decision id"),
    ('<bpmn:businessRuleTask id="X" camunda:expression="${execution.getVariable(1)}" />', "${beanName.method"),
    ('<bpmn:sendTask id="X" camunda:class="com.acme.Mailer()" />', "is not a Java class name"),
    ('<bpmn:receiveTask id="X" />', "needs a messageRef"),
    (
        '<bpmn:serviceTask id="X" camunda:delegateExpression="${factory.create()}" />',
        "write it as ${beanName} and register a Legato handler under the bean's name",
    ),
    ('<bpmn:serviceTask id="X" camunda:expression="${a + b}" />', "Legato cannot bind to a handler"),
    ('<bpmn:serviceTask id="X" camunda:type="mail" />', "use an external task"),
    ('<bpmn:serviceTask id="X" camunda:type="external" />', "needs camunda:topic"),
    (
        '<bpmn:serviceTask id="X"><bpmn:extensionElements><camunda:connector>'
        "<camunda:connectorId>http-connector</camunda:connectorId></camunda:connector>"
        "</bpmn:extensionElements></bpmn:serviceTask>",
        "call the service from a Legato handler",
    ),
    (
        '<bpmn:serviceTask id="X"><bpmn:extensionElements><zeebe:taskDefinition type="=jobType" />'
        "</bpmn:extensionElements></bpmn:serviceTask>",
        "Legato needs a fixed task type",
    ),
    (
        '<bpmn:scriptTask id="X" scriptFormat="groovy"><bpmn:script>x = 1</bpmn:script></bpmn:scriptTask>',
        "groovy cannot run in Legato: a model is data, never code. Rewrite it as `name = expression` lines with "
        'scriptFormat="legato"',
    ),
    (
        '<bpmn:scriptTask id="X" scriptFormat="javascript"><bpmn:script>x = 1</bpmn:script></bpmn:scriptTask>',
        "move the code into a service task handler",
    ),
    ('<bpmn:scriptTask id="X" scriptFormat="groovy" camunda:resource="deployment://a.groovy" />', "from a file"),
    (
        '<bpmn:scriptTask id="X"><bpmn:extensionElements><zeebe:taskDefinition type="script" />'
        "</bpmn:extensionElements></bpmn:scriptTask>",
        "make it a service task of that type",
    ),
    (
        '<bpmn:serviceTask id="X" camunda:type="external" camunda:topic="t"><bpmn:extensionElements>'
        '<camunda:inputOutput><camunda:inputParameter name="items"><camunda:list><camunda:value>a</camunda:value>'
        "</camunda:list></camunda:inputParameter></camunda:inputOutput></bpmn:extensionElements></bpmn:serviceTask>",
        "parameter 'items' is a camunda:list; Legato maps a variable to one expression",
    ),
    (
        '<bpmn:serviceTask id="X" camunda:type="external" camunda:topic="t"><bpmn:extensionElements>'
        "<camunda:failedJobRetryTimeCycle>PT1M,PT5M</camunda:failedJobRetryTimeCycle>"
        "</bpmn:extensionElements></bpmn:serviceTask>",
        "is not R<attempts>/<duration>",
    ),
]


@pytest.mark.parametrize(("snippet", "advice"), UNSUPPORTED_ELEMENTS)
def test_what_legato_cannot_run_is_refused_with_id_line_and_advice(snippet: str, advice: str) -> None:
    text = document(around(snippet, "X"), after='  <bpmn:message id="M" name="m" />\n')
    problem = problem_for(text, "X")
    assert problem.line == line_of(text, 'id="X"')
    assert advice in problem.message


@pytest.mark.parametrize(
    ("event", "advice"),
    [
        (
            '<bpmn:startEvent id="X"><bpmn:escalationEventDefinition /></bpmn:startEvent>',
            "escalation startEvents are not supported: an escalation is thrown by an intermediate or end event",
        ),
        ('<bpmn:endEvent id="X"><bpmn:linkEventDefinition name="a" /></bpmn:endEvent>', "a pair of intermediate"),
        ('<bpmn:endEvent id="X"><bpmn:cancelEventDefinition /></bpmn:endEvent>', "goes inside a transaction"),
        (
            '<bpmn:endEvent id="X"><bpmn:messageEventDefinition messageRef="M" /></bpmn:endEvent>',
            "a message throw event is sent by a handler",
        ),
        (
            '<bpmn:intermediateCatchEvent id="X"><bpmn:cancelEventDefinition /></bpmn:intermediateCatchEvent>',
            "a cancel event is an end event inside a transaction subprocess, or a boundary event on one",
        ),
        (
            '<bpmn:boundaryEvent id="X" attachedToRef="task"><bpmn:compensateEventDefinition /></bpmn:boundaryEvent>',
            "needs one association to its handler",
        ),
        (
            '<bpmn:boundaryEvent id="X" attachedToRef="task"><bpmn:cancelEventDefinition /></bpmn:boundaryEvent>',
            "a cancel boundary event goes on a transaction subprocess",
        ),
        (
            '<bpmn:boundaryEvent id="X" attachedToRef="task"><bpmn:linkEventDefinition name="a" />'
            "</bpmn:boundaryEvent>",
            "link boundaryEvents are not supported",
        ),
        (
            '<bpmn:startEvent id="X" parallelMultiple="true"><bpmn:timerEventDefinition />'
            "<bpmn:messageEventDefinition /></bpmn:startEvent>",
            'parallelMultiple="true") is not supported',
        ),
        (
            '<bpmn:intermediateCatchEvent id="X"><bpmn:signalEventDefinition /><bpmn:messageEventDefinition />'
            "</bpmn:intermediateCatchEvent>",
            "several triggers",
        ),
    ],
)
def test_unsupported_triggers_are_refused(event: str, advice: str) -> None:
    text = document(event + '\n<bpmn:userTask id="task" />', after='  <bpmn:message id="M" name="m" />\n')
    problems = [p for p in refused(text) if p.element == "X"]
    assert problems and all(p.line == line_of(text, 'id="X"') for p in problems)
    assert any(advice in p.message for p in problems), [p.message for p in problems]


def test_a_compensation_event_subprocess_at_process_level_is_refused() -> None:
    text = document("""    <bpmn:startEvent id="start" />
    <bpmn:endEvent id="end" />
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="end" />
    <bpmn:subProcess id="undo" triggeredByEvent="true">
      <bpmn:startEvent id="X"><bpmn:compensateEventDefinition /></bpmn:startEvent>
      <bpmn:endEvent id="undone" />
      <bpmn:sequenceFlow id="f2" sourceRef="X" targetRef="undone" />
    </bpmn:subProcess>""")
    messages = [p.message for p in refused(text) if p.element == "X"]
    assert any("a compensation event subprocess goes inside the embedded subprocess it undoes" in m for m in messages)
    assert any("give its activities compensation handlers instead" in m for m in messages)


def test_a_groovy_condition_is_refused() -> None:
    text = document("""
    <bpmn:startEvent id="start" />
    <bpmn:exclusiveGateway id="gw" />
    <bpmn:endEvent id="end" />
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="gw" />
    <bpmn:sequenceFlow id="f2" sourceRef="gw" targetRef="end">
      <bpmn:conditionExpression xsi:type="bpmn:tFormalExpression" language="groovy">x &gt; 1</bpmn:conditionExpression>
    </bpmn:sequenceFlow>""")
    problem = problem_for(text, "f2")
    assert problem.line == line_of(text, 'id="f2"') and "'groovy' cannot run in Legato" in problem.message


def test_a_condition_loaded_from_a_file_is_refused() -> None:
    text = document("""
    <bpmn:startEvent id="start" />
    <bpmn:endEvent id="end" />
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="end">
      <bpmn:conditionExpression xsi:type="bpmn:tFormalExpression" camunda:resource="cond.js" />
    </bpmn:sequenceFlow>""")
    problem = problem_for(text, "f1")
    assert problem.line == line_of(text, "camunda:resource") and "loads a script from a file" in problem.message


@pytest.mark.parametrize(
    ("snippet", "reason"),
    [
        ('<bpmn:sendTask id="X" />', "'X': a send task needs a task type, the name of its handler"),
        ('<bpmn:serviceTask id="X" />', 'zeebe:taskDefinition type="..."'),
    ],
)
def test_a_task_without_an_implementation_is_kept_but_cannot_run(snippet: str, reason: str) -> None:
    imported = load_bpmn(document(around(snippet, "X")))
    (why,) = imported.definition.not_executable
    assert reason in why
    assert type(imported.definition.elements["X"]).__name__ == "Task"  # kept as what it is without an implementation


def test_every_refusal_is_reported_at_once() -> None:
    body = """    <bpmn:startEvent id="start" />
    <bpmn:callActivity id="call" />
    <bpmn:sendTask id="send" />
    <bpmn:complexGateway id="complex" />
    <bpmn:serviceTask id="java" camunda:class="com.acme.Java()" />"""
    assert [p.element for p in refused(document(body))] == ["call", "complex", "java"]  # a bare send task: see below


def test_dangling_references_are_named() -> None:
    catch = """<bpmn:intermediateCatchEvent id="wait">
      <bpmn:messageEventDefinition messageRef="Message_missing" />
    </bpmn:intermediateCatchEvent>"""
    text = document(around(catch, "wait"))
    problem = problem_for(text, "wait")
    assert problem.line == line_of(text, 'id="wait"')
    assert "messageRef 'Message_missing' names no bpmn:message" in problem.message

    boundary = """<bpmn:userTask id="task" />
    <bpmn:boundaryEvent id="oops" attachedToRef="task"><bpmn:errorEventDefinition errorRef="Error_gone" />
    </bpmn:boundaryEvent><bpmn:endEvent id="after" />
    <bpmn:sequenceFlow id="f3" sourceRef="oops" targetRef="after" />"""
    assert (
        "errorRef 'Error_gone' names no bpmn:error" in problem_for(document(around(boundary, "task")), "oops").message
    )

    nameless = catch.replace("Message_missing", "Message_1")
    text = document(around(nameless, "wait"), after='  <bpmn:message id="Message_1" />\n')
    assert "message 'Message_1' has no name" in problem_for(text, "wait").message
    no_ref = '<bpmn:intermediateCatchEvent id="wait"><bpmn:messageEventDefinition /></bpmn:intermediateCatchEvent>'
    assert "needs a messageRef" in problem_for(document(around(no_ref, "wait")), "wait").message


def test_problems_found_by_validation_carry_the_line_of_their_element() -> None:
    text = document("""    <bpmn:startEvent id="start" />
    <bpmn:userTask id="task" />
    <bpmn:exclusiveGateway id="gw" default="nowhere" />
    <bpmn:endEvent id="end" />
    <bpmn:userTask id="island" />
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="task" />
    <bpmn:sequenceFlow id="f2" sourceRef="task" targetRef="gw" />
    <bpmn:sequenceFlow id="f3" sourceRef="gw" targetRef="missing" />
    <bpmn:sequenceFlow id="f4" sourceRef="island" targetRef="end" />""")
    problems = {p.element: p for p in refused(text)}
    assert problems["f3"].line == line_of(text, 'id="f3"') and "'missing' does not exist" in problems["f3"].message
    assert problems["gw"].line == line_of(text, 'id="gw"') and "default flow 'nowhere'" in problems["gw"].message


def test_an_unreachable_element_is_named_with_its_line() -> None:
    text = document("""    <bpmn:startEvent id="start" />
    <bpmn:endEvent id="end" />
    <bpmn:userTask id="island" />
    <bpmn:endEvent id="island_end" />
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="end" />
    <bpmn:sequenceFlow id="f2" sourceRef="island" targetRef="island_end" />""")
    problem = problem_for(text, "island")
    assert problem.line == line_of(text, 'id="island"') and "unreachable" in problem.message


def test_duplicate_and_missing_ids() -> None:
    text = document('    <bpmn:startEvent id="start" />\n    <bpmn:endEvent id="start" />\n    <bpmn:userTask />')
    problems = refused(text)
    assert problems[0].element == "start" and "duplicate id: line 4 has it already" in problems[0].message
    assert problems[0].line == 5
    assert problems[1].element is None and problems[1].line == 6 and "needs an id" in problems[1].message


def test_several_executable_processes_are_all_imported() -> None:
    second = (
        '  <bpmn:process id="billing" isExecutable="true"><bpmn:startEvent id="s2" /><bpmn:endEvent id="e2" />'
        '<bpmn:sequenceFlow id="f9" sourceRef="s2" targetRef="e2" /></bpmn:process>\n'
    )
    imported = load_bpmn(document(around("<bpmn:userTask id='t' />", "t"), after=second))
    assert imported.definition.id == "p" and [other.definition.id for other in imported.others] == ["billing"]
    assert not imported.definition.not_executable and not imported.others[0].definition.not_executable


def test_several_unmarked_processes_are_refused_naming_them() -> None:
    text = document(around("<bpmn:userTask id='t' />", "t")).replace(' isExecutable="true"', "")
    second = '  <bpmn:process id="billing"><bpmn:startEvent id="s2" /></bpmn:process>\n'
    with pytest.raises(ModelInvalid) as caught:
        load_bpmn(text.replace("</bpmn:definitions>", second + "</bpmn:definitions>"))
    message = caught.value.problems[0].message
    assert "2 processes ('p', 'billing') and none is marked" in message


def test_the_executable_process_of_a_collaboration_comes_first_and_the_others_are_documentation() -> None:
    pools = """  <bpmn:collaboration id="c">
    <bpmn:participant id="ours" name="Ours" processRef="p" />
    <bpmn:participant id="customer" name="Customer" />
    <bpmn:participant id="theirs" name="Theirs" processRef="other" />
    <bpmn:messageFlow id="mf" sourceRef="customer" targetRef="t" />
  </bpmn:collaboration>
"""
    text = document(around('<bpmn:userTask id="t" />', "t")).replace("  <bpmn:process", pools + "  <bpmn:process")
    other = '<bpmn:process id="other" isExecutable="false"><bpmn:task id="look" /></bpmn:process>\n'
    text = text.replace("</bpmn:definitions>", other + "</bpmn:definitions>")
    imported = load_bpmn(text)
    assert imported.definition.id == "p" and not imported.definition.not_executable
    assert imported.definition.participant is not None and imported.definition.participant.name == "Ours"
    warnings = "\n".join(imported.warnings)
    assert "'customer'" in warnings and "a pool without a process (a black box) is drawn only" in warnings
    assert "'mf'" in warnings and "message flows are drawn only" in warnings
    (documented,) = imported.others
    assert documented.definition.id == "other" and documented.definition.participant is not None
    assert documented.definition.not_executable == (
        "'other': the process is not marked isExecutable=\"true\": it is kept for viewing and export; "
        "mark it executable to run it",
    )


def test_broken_xml_names_its_line() -> None:
    text = document(around('<bpmn:userTask id="t">', "t"))
    with pytest.raises(ModelParseError) as caught:
        load_bpmn(text)
    assert caught.value.line is not None and caught.value.line > line_of(text, 'id="t"')
    assert "not well-formed XML" in caught.value.message


@pytest.mark.parametrize(
    "prologue",
    [
        '<!DOCTYPE definitions [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;">]>',
        '<!DOCTYPE definitions [<!ENTITY secret SYSTEM "file:///etc/passwd">]>',
    ],
)
def test_doctypes_and_entities_are_refused(prologue: str) -> None:
    text = document(around('<bpmn:userTask id="t" name="&lol2;" />', "t"))
    text = text.replace("?>\n", f"?>\n{prologue}\n", 1)
    with pytest.raises(ModelParseError, match="DOCTYPE"):
        load_bpmn(text)


def test_documents_that_are_not_bpmn_are_refused() -> None:
    with pytest.raises(ModelParseError, match=r"not a BPMN 2\.0 document: its root is <definitions>") as caught:
        load_bpmn('<?xml version="1.0"?>\n<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/" />')
    assert caught.value.line == 2
    with pytest.raises(ModelInvalid, match="the document has no process"):
        load_bpmn(document("").replace('  <bpmn:process id="p" isExecutable="true">\n\n  </bpmn:process>\n', ""))


def test_unknown_extensions_are_warnings_not_failures() -> None:
    task = """<bpmn:userTask id="t" acme:sla="4h">
      <bpmn:extensionElements>
        <acme:routing queue="gold" />
        <camunda:properties><camunda:property name="a" value="b" /></camunda:properties>
        <camunda:taskListener event="create" class="com.acme.Listener" />
      </bpmn:extensionElements>
    </bpmn:userTask>"""
    text = document(around(task, "t")).replace("<bpmn:definitions ", '<bpmn:definitions xmlns:acme="urn:acme" ')
    imported = load_bpmn(text)
    warnings = "\n".join(imported.warnings)
    assert "extension acme:sla is not one Legato knows" in warnings
    assert f"'t' (line {line_of(text, '<acme:routing')}): extension acme:routing is not one Legato knows" in warnings
    assert "camunda:properties is ignored" in warnings
    assert "camunda:taskListener is ignored: listeners run Java or scripts" in warnings
    assert imported.definition.elements["t"] == imported.definition.elements["t"].__class__(id="t")
