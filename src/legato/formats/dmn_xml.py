"""DMN XML (1.1 to 1.5, as Camunda Modeler and other tools write it) -> a DecisionModel.

What is read: decisions whose logic is a decision table or a literal FEEL expression, the
decision requirements between them (`informationRequirement/requiredDecision href="#id"`),
and of a table its hit policy and aggregation, inputs (`inputExpression` and `typeRef`),
outputs (name, `typeRef`, `outputValues`, `defaultOutputEntry`), rules with their entries,
descriptions and annotation entries.

What is skipped on purpose: the diagram (DMNDI, and the `biodi` bounds of older Camunda
files), input data and knowledge sources (documentation: an input data element names a
variable that the caller passes), and vendor extensions, of which `camunda:` ones are
reported as warnings because they would change behaviour in Camunda (`camunda:inputVariable`,
`camunda:historyTimeToLive`) and do nothing here. An element in the DMN namespace that is
no element of DMN 1.1 to 1.5 (a typo, a later version's element) is skipped with a warning
naming it, as the BPMN reader does.

Lenient import, strict evaluation: a decision Legato cannot run (boxed logic other than a
table or a literal expression, a business knowledge model it requires, an expression language
other than FEEL, FEEL it cannot read) does not refuse the file. It is deployed with
`UnsupportedLogic` and reported as a warning naming the element, its line and the construct;
evaluating it, or a decision that requires it, is an EvaluationError saying why. Business
knowledge models, decision services and imports are left out with a warning. What is still
refused, as ModelInvalid naming the element and line: XML that is not well-formed, a root that
is not DMN, two decisions with one id, a requirement that is missing or circular, and a file
none of whose decisions can run.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from lxml import etree

from legato.errors import ModelInvalid, Problem
from legato.formats.xml_safety import local_name, parse_xml
from legato.model.dmn import (
    Aggregation,
    Decision,
    DecisionModel,
    DecisionTable,
    HitPolicy,
    InputClause,
    LiteralExpression,
    OutputClause,
    Rule,
    UnsupportedLogic,
)

__all__ = ["DmnDocument", "load_dmn", "read_dmn"]

DMN_NAMESPACES = {
    "www.omg.org/spec/DMN/20151101/dmn.xsd": "1.1",
    "www.omg.org/spec/DMN/20180521/MODEL/": "1.2",
    "www.omg.org/spec/DMN/20191111/MODEL/": "1.3",
    "www.omg.org/spec/DMN/20211108/MODEL/": "1.4",
    "www.omg.org/spec/DMN/20230324/MODEL/": "1.5",
}
"""DMN model namespaces by version, without the scheme: tools write both http and https."""
CAMUNDA_NAMESPACE = "http://camunda.org/schema/1.0/dmn"
_QUIET_NAMESPACES = (
    "/DMNDI/",
    "/DC/",
    "/DI/",
    "bpmn.io/schema/dmn/biodi",
    "camunda.org/schema/modeler",
    "www.w3.org/2001/XMLSchema-instance",
    "www.w3.org/XML/1998/namespace",
)
"""Diagram, modeler and XML bookkeeping: skipped without a word."""
_FEEL_LANGUAGES = ("feel",)
"""An expression language URI containing one of these is FEEL (DMN 1.1 to 1.5, Camunda's `feel`)."""
_LOGIC = {"decisionTable", "literalExpression"}
_UNSUPPORTED_LOGIC = {
    "context",
    "invocation",
    "relation",
    "list",
    "functionDefinition",
    "conditional",
    "filter",
    "for",
    "every",
    "some",
}
_UNSUPPORTED_TOP = {
    "businessKnowledgeModel": "a business knowledge model",
    "decisionService": "a decision service",
    "import": "an import of another model",
}
_VOCABULARY = frozenset(
    """
    definitions import itemDefinition typeRef allowedValues typeConstraint itemComponent functionItem parameters
    elementCollection drgElement decision question allowedAnswers variable informationRequirement requiredDecision
    requiredInput knowledgeRequirement requiredKnowledge authorityRequirement requiredDecision requiredAuthority
    supportedObjective impactedPerformanceIndicator decisionMaker decisionOwner usingProcess usingTask
    businessKnowledgeModel encapsulatedLogic decisionService outputDecision encapsulatedDecision inputDecision
    inputData knowledgeSource type owner performanceIndicator organizationUnit decisionMade decisionOwned
    impactingDecision textAnnotation text association sourceRef targetRef group description extensionElements
    decisionTable input inputExpression inputValues output outputValues defaultOutputEntry annotation rule
    inputEntry outputEntry annotationEntry literalExpression importedValues importedElement context contextEntry
    invocation binding parameter relation column row list functionDefinition formalParameter conditional if then
    else filter in match for return every some satisfies
    """.split()  # noqa: SIM905 - the names read as a paragraph
)
"""Every element name of DMN 1.1 to 1.5. One in the DMN namespace outside it (a typo such as
`decisionTabel`, an element of a later version) is left out with a warning, as the BPMN reader
does, rather than silently."""
_SUPPORTED = "Legato evaluates decision tables and literal FEEL expressions, linked by required decisions"


@dataclass(frozen=True, kw_only=True, slots=True)
class DmnDocument:
    """An imported DMN file: its model, and what was ignored on the way (as warnings)."""

    model: DecisionModel
    version: str
    warnings: tuple[Problem, ...] = ()


def load_dmn(source: str | bytes) -> DecisionModel:
    """The decision model of a DMN file; ModelParseError or ModelInvalid if it cannot be one."""
    return read_dmn(source).model


def read_dmn(source: str | bytes) -> DmnDocument:
    """The decision model of a DMN file, with the DMN version and warnings about what was ignored."""
    root = parse_xml(source, what="DMN document")
    namespace = etree.QName(root).namespace or ""
    version = DMN_NAMESPACES.get(namespace.split("://", 1)[-1])
    if local_name(root) != "definitions" or version is None:
        known = ", ".join(f"DMN {v}" for v in DMN_NAMESPACES.values())
        message = f"the root element is {root.tag!r}, not a DMN definitions element ({known})"
        raise ModelInvalid([Problem(element=None, message=message, line=root.sourceline)])
    reader = _Reader(namespace)
    model = reader.read(root)
    warnings = tuple(sorted(reader.warnings, key=lambda warning: warning.line or 0))
    return DmnDocument(model=model, version=version, warnings=warnings)


class _Reader:
    """One import: walks the definitions, collecting every problem before raising them together."""

    def __init__(self, namespace: str) -> None:
        self.namespace = namespace
        self.problems: list[Problem] = []
        self.warnings: list[Problem] = []
        self.unrunnable: list[Problem] = []
        """The problems that made decisions unsupported (each is a warning too)."""
        self.construct: str | None = None
        """What the decision being read uses that Legato cannot run, once a problem says so."""

    # --- the document ---------------------------------------------------------------------

    def read(self, root: etree._Element) -> DecisionModel:
        self._language(root, root.get("id"))  # the default for every expression of the file
        if self.problems:  # the file's own default language: nothing in it can be read
            raise ModelInvalid(self.problems)
        self._scan_extensions(root)
        definitions_namespace = root.get("namespace")
        decisions: dict[str, Decision] = {}
        for child in self._children(root):
            name = local_name(child)
            if name == "decision":
                decision = self._decision(child, definitions_namespace, len(decisions) + 1)
                if decision.id in decisions:
                    self._problem(decision.id, child, "another decision has the same id")
                decisions[decision.id] = decision
            elif name in _UNSUPPORTED_TOP:
                message = f"{_UNSUPPORTED_TOP[name]} is not supported and is left out; {_SUPPORTED}"
                self._warn(child.get("id") or child.get("name"), child, message)
            elif name == "itemDefinition":
                self._warn(child.get("id"), child, "item definitions are not checked: values are not typed by them")
        if self.problems:
            raise ModelInvalid(self.problems)
        model = DecisionModel(
            id=root.get("id") or "definitions",
            name=root.get("name"),
            namespace=definitions_namespace,
            decisions=decisions,
        )
        if decisions and not any(_runs(model, decision_id) for decision_id in decisions):
            raise ModelInvalid(self.unrunnable)  # nothing would run: surely not what was meant
        return model

    def _decision(self, element: etree._Element, definitions_namespace: str | None, ordinal: int) -> Decision:
        """The decision; one Legato cannot run keeps `UnsupportedLogic` and its problems become warnings."""
        # DMN 1.3, 6.3.1: `id` is optional; a reference needs it, evaluation by name does not.
        decision_id = element.get("id") or element.get("name") or f"decision{ordinal}"
        before = len(self.problems)
        self.construct = None
        required: list[str] = []
        logic: list[etree._Element] = []
        for child in self._children(element):
            name = local_name(child)
            if name == "informationRequirement":
                required.extend(self._required_decisions(child, decision_id, definitions_namespace))
            elif name == "knowledgeRequirement":
                message = f"requires a business knowledge model, which is not supported; {_SUPPORTED}"
                self._unsupported(decision_id, child, message, "business knowledge model")
            elif name in _LOGIC or name in _UNSUPPORTED_LOGIC:
                logic.append(child)
        built: DecisionTable | LiteralExpression | None = None
        if len(logic) != 1:
            found = "none" if not logic else ", ".join(local_name(item) for item in logic)
            message = f"a decision needs one decision logic element, found {found}"
            self._unsupported(decision_id, element, message, "decision logic")
        elif local_name(logic[0]) in _UNSUPPORTED_LOGIC:
            message = f"a boxed {local_name(logic[0])} is not supported; {_SUPPORTED}"
            self._unsupported(decision_id, logic[0], message, f"boxed {local_name(logic[0])}")
        elif len(self.problems) == before:
            try:
                if local_name(logic[0]) == "decisionTable":
                    built = self._table(logic[0], decision_id)
                else:
                    built = self._literal(logic[0], decision_id)
            except ModelInvalid as error:
                for problem in error.problems:
                    if problem.element is None:
                        problem = Problem(element=decision_id, message=problem.message, line=problem.line)
                    elif problem.element != decision_id:
                        message = f"decision {decision_id!r}, {problem.message}"
                        problem = Problem(element=problem.element, message=message, line=problem.line)
                    self.problems.append(problem)
                feel = any(" entry " in p.message or "expression" in p.message for p in error.problems)
                self.construct = self.construct or ("FEEL" if feel else "decision table")
        failed = self.problems[before:]
        if failed or built is None:
            del self.problems[before:]
            self.warnings.extend(failed)
            self.unrunnable.extend(failed)
            reason = "; ".join(problem.message for problem in failed)
            line = failed[0].line if failed else element.sourceline
            built_logic: DecisionTable | LiteralExpression | UnsupportedLogic = UnsupportedLogic(
                construct=self.construct or "decision logic", reason=reason, line=line
            )
        else:
            built_logic = built
            self._feel_warnings(decision_id, built)
        return Decision(
            id=decision_id,
            name=element.get("name"),
            logic=built_logic,
            required_decisions=tuple(required),
            line=element.sourceline,
        )

    def _required_decisions(
        self, element: etree._Element, decision_id: str, definitions_namespace: str | None
    ) -> list[str]:
        required = []
        for child in self._children(element):
            if local_name(child) != "requiredDecision":
                continue  # requiredInput: input data are variables the caller passes
            href = child.get("href") or ""
            document, _, target = href.rpartition("#")
            if not target or (document and document != definitions_namespace):
                message = (
                    f"requiredDecision href {href!r} does not point to a decision of this file ('#id'); "
                    "imported decisions are not supported"
                )
                self._unsupported(decision_id, child, message, "imported decision")
            else:
                required.append(target)
        return required

    # --- decision logic -----------------------------------------------------------------

    def _table(self, element: etree._Element, decision_id: str) -> DecisionTable:
        table_id = element.get("id")
        hit_policy = self._hit_policy(element, decision_id)
        aggregation = self._aggregation(element, decision_id)
        inputs: list[InputClause] = []
        outputs: list[OutputClause] = []
        annotations: list[str] = []
        rules: list[Rule] = []
        problems: list[Problem] = []
        for child in self._children(element):
            name = local_name(child)
            try:
                if name == "input":
                    inputs.append(self._input(child, decision_id))
                elif name == "output":
                    outputs.append(self._output(child))
                elif name == "annotation":
                    annotations.append(child.get("name") or "")
                elif name == "rule":
                    rules.append(self._rule(child, f"{decision_id}.rule{len(rules) + 1}"))
            except ModelInvalid as error:
                problems.extend(error.problems)
        if problems:
            raise ModelInvalid(problems)
        return DecisionTable(
            id=table_id,
            inputs=tuple(inputs),
            outputs=tuple(outputs),
            rules=tuple(rules),
            hit_policy=hit_policy,
            aggregation=aggregation,
            annotation_names=tuple(annotations),
            line=element.sourceline,
        )

    def _hit_policy(self, element: etree._Element, decision_id: str) -> HitPolicy:
        text = (element.get("hitPolicy") or "UNIQUE").strip()
        try:
            return HitPolicy(text.upper().replace("_", " "))
        except ValueError:
            known = ", ".join(policy.value for policy in HitPolicy)
            self.construct = self.construct or "hit policy"
            self._problem(decision_id, element, f"unknown hit policy {text!r}; the hit policies are {known}")
            return HitPolicy.UNIQUE

    def _aggregation(self, element: etree._Element, decision_id: str) -> Aggregation | None:
        text = element.get("aggregation")
        if text is None:
            return None
        try:
            return Aggregation(text.strip().upper())
        except ValueError:
            known = ", ".join(aggregation.value for aggregation in Aggregation)
            self.construct = self.construct or "aggregation"
            self._problem(decision_id, element, f"unknown aggregation {text!r}; the aggregations are {known}")
            return None

    def _input(self, element: etree._Element, decision_id: str) -> InputClause:
        expression = self._child(element, "inputExpression")
        if expression is None:
            owner = element.get("id") or decision_id
            raise ModelInvalid(
                [Problem(element=owner, message="an input needs an inputExpression", line=element.sourceline)]
            )
        self._language(expression, element.get("id"))
        return InputClause(
            id=element.get("id"),
            label=element.get("label"),
            expression=self._text(expression),
            type_ref=expression.get("typeRef"),
            line=expression.sourceline,
        )

    def _output(self, element: etree._Element) -> OutputClause:
        values = self._child(element, "outputValues")
        default = self._child(element, "defaultOutputEntry")
        if default is not None:
            self._language(default, element.get("id"))
        return OutputClause(
            id=element.get("id"),
            name=element.get("name"),
            label=element.get("label"),
            type_ref=element.get("typeRef"),
            output_values=None if values is None else self._text(values),
            default=None if default is None else self._text(default),
            line=element.sourceline,
        )

    def _rule(self, element: etree._Element, fallback_id: str) -> Rule:
        rule_id = element.get("id") or fallback_id
        inputs: list[str] = []
        outputs: list[str] = []
        annotations: list[str] = []
        description = None
        for child in self._children(element):
            name = local_name(child)
            if name == "inputEntry":
                self._language(child, rule_id)
                inputs.append(self._text(child))
            elif name == "outputEntry":
                self._language(child, rule_id)
                outputs.append(self._text(child))
            elif name == "annotationEntry":
                annotations.append(self._text(child))
            elif name == "description":
                description = (child.text or "").strip() or None
        return Rule(
            id=rule_id,
            input_entries=tuple(inputs),
            output_entries=tuple(outputs),
            description=description,
            annotations=tuple(annotations),
            line=element.sourceline,
        )

    def _literal(self, element: etree._Element, decision_id: str) -> LiteralExpression:
        self._language(element, decision_id)
        if self._child(element, "importedValues") is not None:
            self._problem(decision_id, element, "imported values are not supported; write the FEEL in <text>")
        type_ref = element.get("typeRef")
        if type_ref is None:  # DMN 1.2+: the decision's <variable typeRef>
            parent = element.getparent()
            variable = None if parent is None else self._child(parent, "variable")
            type_ref = None if variable is None else variable.get("typeRef")
        return LiteralExpression(
            id=element.get("id"), text=self._text(element), type_ref=type_ref, line=element.sourceline
        )

    # --- helpers ------------------------------------------------------------------------

    def _children(self, element: etree._Element) -> list[etree._Element]:
        """Child elements in the DMN namespace (extensions and diagram are others')."""
        return [
            child for child in element if isinstance(child.tag, str) and etree.QName(child).namespace == self.namespace
        ]

    def _child(self, element: etree._Element, name: str) -> etree._Element | None:
        return next((child for child in self._children(element) if local_name(child) == name), None)

    def _text(self, element: etree._Element) -> str:
        text = self._child(element, "text")
        return "" if text is None else "".join(text.itertext()).strip()

    def _language(self, element: etree._Element, owner: str | None) -> None:
        language = element.get("expressionLanguage")
        if language is None or any(name in language.lower() for name in _FEEL_LANGUAGES):
            return
        self.construct = self.construct or f"expression language {language}"
        self._problem(owner, element, f"expression language {language!r} is not supported; Legato reads FEEL")

    def _scan_extensions(self, root: etree._Element) -> None:
        """A warning for each vendor extension element or attribute that is ignored (the diagram's are quiet)."""
        for element in root.iter():
            if not isinstance(element.tag, str):
                continue
            namespace = etree.QName(element).namespace or ""
            parent = element.getparent()
            parent_namespace = "" if parent is None else etree.QName(parent).namespace or ""
            owner = _owner(element)
            if namespace != self.namespace:
                if parent_namespace == self.namespace and not _quiet(namespace):
                    self._warn(owner, element, f"extension element {_prefixed(element, element.tag)} is ignored")
                continue
            if local_name(element) not in _VOCABULARY:
                self._warn(owner, element, f"<{local_name(element)}> is not a DMN element Legato knows; it is left out")
            for attribute in element.attrib:
                attribute_namespace = etree.QName(attribute).namespace
                if attribute_namespace and not _quiet(attribute_namespace):
                    self._warn(owner, element, f"extension attribute {_prefixed(element, attribute)} is ignored")

    def _unsupported(self, element_id: str | None, element: etree._Element, message: str, construct: str) -> None:
        self.construct = self.construct or construct
        self._problem(element_id, element, message)

    def _feel_warnings(self, decision_id: str, logic: DecisionTable | LiteralExpression) -> None:
        """FEEL that is null at run time by the spec (a wrong number of arguments, ...), as warnings."""
        for where, line, compiled in _compiled_parts(logic):
            for warning in getattr(compiled, "warnings", ()):
                self.warnings.append(Problem(element=decision_id, message=f"{where}: {warning}", line=line))

    def _problem(self, element_id: str | None, element: etree._Element, message: str) -> None:
        self.problems.append(Problem(element=element_id, message=message, line=element.sourceline))

    def _warn(self, element_id: str | None, element: etree._Element, message: str) -> None:
        self.warnings.append(Problem(element=element_id, message=message, line=element.sourceline))


def _runs(model: DecisionModel, decision_id: str) -> bool:
    """Whether the decision and every decision it requires can be evaluated."""
    needed = (decision_id, *model.requirements(decision_id))
    return all(model.decisions[needed_id].runnable for needed_id in needed)


def _compiled_parts(logic: DecisionTable | LiteralExpression) -> list[tuple[str, int | None, object]]:
    """Every compiled FEEL of a decision's logic, with what and where it is."""
    if isinstance(logic, LiteralExpression):
        return [("literal expression", logic.line, logic.compiled)]
    parts: list[tuple[str, int | None, object]] = []
    for number, clause in enumerate(logic.inputs, 1):
        parts.append((f"input expression {number}", clause.line, clause.compiled))
    for number, output in enumerate(logic.outputs, 1):
        if output.compiled_default is not None:
            parts.append((f"default output {number}", output.line, output.compiled_default))
    for rule in logic.rules:
        parts.extend((f"rule {rule.id!r}, input entry {n}", rule.line, test) for n, test in enumerate(rule.tests, 1))
        parts.extend((f"rule {rule.id!r}, output entry {n}", rule.line, out) for n, out in enumerate(rule.outputs, 1))
    return parts


def _quiet(namespace: str) -> bool:
    return any(marker in namespace for marker in _QUIET_NAMESPACES)


def _owner(element: etree._Element) -> str | None:
    """The id of the element or of its nearest ancestor that has one."""
    current: Any = element
    while current is not None:
        if current.get("id"):
            return str(current.get("id"))
        current = current.getparent()
    return None


def _prefixed(element: etree._Element, name: str) -> str:
    """`{http://camunda.org/schema/1.0/dmn}inputVariable` as the file spells it: `camunda:inputVariable`."""
    qualified = etree.QName(name)
    prefixes = {uri: prefix for prefix, uri in element.nsmap.items() if prefix}
    prefix = prefixes.get(qualified.namespace or "")
    return f"{prefix}:{qualified.localname}" if prefix else qualified.localname
