"""DMN files as Camunda Modeler writes them (1.1, 1.2, 1.3), imported and evaluated."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest

from legato.errors import EvaluationError, ModelInvalid, ModelParseError
from legato.formats.dmn_xml import load_dmn, read_dmn
from legato.model.dmn import (
    Aggregation,
    DecisionModel,
    DecisionTable,
    HitPolicy,
    LiteralExpression,
    UnsupportedLogic,
    evaluate,
)

FILES = Path(__file__).parent / "dmn"
DMN13 = "https://www.omg.org/spec/DMN/20191111/MODEL/"


def load(name: str) -> DecisionModel:
    return load_dmn((FILES / f"{name}.dmn").read_bytes())


def definitions(body: str, *, namespace: str = DMN13, attributes: str = "") -> str:
    """A small DMN document around `body`, for the cases a file would only obscure."""
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<definitions xmlns="{namespace}" id="Definitions_0t1e2s" name="Test" '
        f'namespace="http://camunda.org/schema/1.0/dmn" {attributes}>\n{body}\n</definitions>'
    )


def one_rule_table(table_attributes: str = "", *, entry: str = "&lt; 10", output: str = '"small"') -> str:
    return definitions(
        f"""  <decision id="Decision_1x2y" name="Size">
    <decisionTable id="DecisionTable_1" {table_attributes}>
      <input id="Input_1">
        <inputExpression id="InputExpression_1" typeRef="number"><text>x</text></inputExpression>
      </input>
      <output id="Output_1" name="size" typeRef="string" />
      <rule id="DecisionRule_1a2b">
        <inputEntry id="UnaryTests_1"><text>{entry}</text></inputEntry>
        <outputEntry id="LiteralExpression_1"><text>{output}</text></outputEntry>
      </rule>
    </decisionTable>
  </decision>"""
    )


# --- DMN 1.3: a requirements graph, FIRST and UNIQUE, the unary test forms -------------------


def test_the_shipping_model_is_read_with_its_tables_and_requirements() -> None:
    document = read_dmn((FILES / "shipping.dmn").read_text(encoding="utf-8"))
    model = document.model
    assert document.version == "1.3"
    assert (model.id, model.name, model.namespace) == (
        "Definitions_1shp4x",
        "Shipping",
        "http://camunda.org/schema/1.0/dmn",
    )
    assert list(model.decisions) == ["Decision_0zn7k2", "Decision_1cst8v", "Decision_0grs5w"]
    cost = model.decisions["Decision_1cst8v"]
    assert cost.name == "Shipping cost" and cost.required_decisions == ("Decision_0zn7k2",)
    assert isinstance(cost.logic, DecisionTable)
    assert cost.logic.hit_policy is HitPolicy.FIRST
    assert [(i.label, i.expression, i.type_ref) for i in cost.logic.inputs] == [
        ("Zone", "Zone", "string"),
        ("Weight (kg)", "weight", "number"),
        ("Order total", "order.total", "number"),
    ]
    assert [(o.name, o.type_ref) for o in cost.logic.outputs] == [("cost", "number")]
    free = cost.logic.rules[0]
    assert (free.id, free.input_entries, free.output_entries) == ("DecisionRule_0free1", ("-", "", ">= 100"), ("0",))
    assert free.annotations == ("free shipping from 100",) and cost.logic.annotation_names == ("Why",)
    zone = model.decisions["Decision_0zn7k2"].logic
    assert isinstance(zone, DecisionTable) and zone.hit_policy is HitPolicy.UNIQUE  # the default
    assert zone.rules[0].description == "home market" and zone.rules[0].line == 11
    gross = model.decisions["Decision_0grs5w"].logic
    assert isinstance(gross, LiteralExpression) and gross.type_ref == "number"


def test_camunda_extensions_are_ignored_with_warnings_and_the_diagram_silently() -> None:
    warnings = read_dmn((FILES / "shipping.dmn").read_bytes()).warnings
    assert [(w.element, w.line, w.message) for w in warnings] == [
        ("Decision_0zn7k2", 3, "extension attribute camunda:historyTimeToLive is ignored"),
        ("Decision_1cst8v", 38, "extension attribute camunda:versionTag is ignored"),
        ("InputClause_1wgt2a", 54, "extension attribute camunda:inputVariable is ignored"),
    ]


@pytest.mark.parametrize(
    ("variables", "zone", "cost", "rule", "gross"),
    [
        ({"country": "DE", "weight": 1.5, "order": {"total": 40}}, "domestic", 4.5, "DecisionRule_1dom2k", 5.5),
        ({"country": "DE", "weight": 3, "order": {"total": 40}}, "domestic", 6.5, "DecisionRule_0dom3m", 7.5),
        ({"country": "NL", "weight": 5, "order": {"total": 40}}, "eu", 12.5, "DecisionRule_1eu4pq", 13.5),
        ({"country": "IT", "weight": 8, "order": {"total": 40}}, "eu", 19, "DecisionRule_0eu5rt", 20),
        ({"country": "US", "weight": 30, "order": {"total": 40}}, "world", 39, "DecisionRule_1ww6sv", 40),
        ({"country": "US", "weight": 32, "order": {"total": 40}}, "world", 42, "DecisionRule_0ww7hx", 43),
        ({"country": "US", "weight": 32, "order": {"total": 250}}, "world", 0, "DecisionRule_0free1", 1),
    ],
)
def test_one_decision_feeds_another(variables: dict[str, Any], zone: str, cost: float, rule: str, gross: float) -> None:
    result = evaluate(load("shipping"), "Decision_0grs5w", {**variables, "handling": 1})
    assert result.value == gross and result.decision_name == "Gross cost"
    zone_result, cost_result = result.required
    assert (zone_result.decision_id, zone_result.value) == ("Decision_0zn7k2", zone)
    assert (cost_result.value, cost_result.matched_rules) == (cost, (rule,))


def test_no_match_gives_null() -> None:
    result = evaluate(load("shipping"), "Decision_1cst8v", {"country": "US", "weight": 0, "order": {"total": 1}})
    assert result.value is None and result.matched_rules == ()


def test_unique_with_overlapping_rules_fails_evaluation_naming_the_rules() -> None:
    model = load("overlap")
    assert evaluate(model, "Decision_1lvl3q", {"spend": 20}).value == "basic"
    assert evaluate(model, "Decision_1lvl3q", {"spend": 500}).matched_rules == ("DecisionRule_1std2m",)
    with pytest.raises(EvaluationError) as caught:
        evaluate(model, "Decision_1lvl3q", {"spend": 75})
    assert "decision 'Decision_1lvl3q': hit policy UNIQUE allows one matching rule, but 2 match" in caught.value.message
    assert caught.value.details["rules"] == ["DecisionRule_0bas1k", "DecisionRule_1std2m"]


# --- PRIORITY, OUTPUT ORDER, ANY --------------------------------------------------------------

APPLICANTS = [
    ({"age": 40, "debtRatio": 0.1}, "accept", "DecisionRule_1low0a"),
    ({"age": 19, "debtRatio": 0.1}, "refer", "DecisionRule_0yng1b"),
    ({"age": 19, "debtRatio": 0.9}, "decline", "DecisionRule_1hgh2c"),
    ({"age": 45, "debtRatio": 0.5}, "refer", "DecisionRule_0mid3d"),
    ({"age": 80, "debtRatio": 0.5}, None, None),
]


@pytest.mark.parametrize(("applicant", "rating", "rule"), APPLICANTS)
def test_priority_takes_the_highest_ranked_output_value(applicant: dict[str, Any], rating: str, rule: str) -> None:
    result = evaluate(load("risk"), "Decision_1rtg0p", {"applicant": applicant})
    assert result.value == rating
    assert result.matched_rules == ((rule,) if rule else ())


def test_output_order_lists_every_match_by_output_value_priority() -> None:
    model = load("risk")
    result = evaluate(model, "Risk reasons", {"applicant": {"age": 19, "debtRatio": 0.9}})
    assert result.value == [
        {"rating": "decline", "reason": "debt too high"},
        {"rating": "refer", "reason": "young applicant"},
    ]
    assert result.matched_rules == ("DecisionRule_0rs3c", "DecisionRule_1rs2b")
    assert evaluate(model, "Risk reasons", {"applicant": {"age": 40, "debtRatio": 0.5}}).value == []


def test_any_needs_the_matching_rules_to_agree() -> None:
    model = load("risk")
    agreed = evaluate(model, "Decision_1mnl5f", {"applicant": {"age": 19}, "amount": 60000})
    assert agreed.value is True and agreed.matched_rules == ("DecisionRule_1mr1a", "DecisionRule_0mr2b")
    with pytest.raises(EvaluationError, match="ANY needs the matching rules to agree") as caught:
        evaluate(model, "Decision_1mnl5f", {"applicant": {"age": 20}, "amount": 500})
    assert caught.value.details["rules"] == ["DecisionRule_1mr1a", "DecisionRule_0mr4d"]


# --- DMN 1.2: COLLECT and its aggregations, RULE ORDER -----------------------------------------

GOLD_BIG_ORDER = {"order": {"total": 1500}, "customer": {"tier": "gold"}}
SILVER_SMALL_ORDER = {"order": {"total": 20}, "customer": {"tier": "silver"}}
NOTHING = {"order": {"total": 0}, "customer": {"tier": "new"}}


@pytest.mark.parametrize(
    ("decision", "policy", "aggregation", "gold", "silver", "nothing"),
    [
        ("Decision_0col1a", HitPolicy.COLLECT, None, [2.5, 10, -5, -1], [2.5, -1], []),
        ("Decision_1sum2b", HitPolicy.COLLECT, Aggregation.SUM, 6.5, 1.5, None),
        ("Decision_0min3c", HitPolicy.COLLECT, Aggregation.MIN, -5, -1, None),
        ("Decision_1max4d", HitPolicy.COLLECT, Aggregation.MAX, 10, 2.5, None),
        ("Decision_0cnt5e", HitPolicy.COLLECT, Aggregation.COUNT, 4, 2, 0),
        ("Decision_1ord6f", HitPolicy.RULE_ORDER, None, [2.5, 10, -5, -1], [2.5, -1], []),
    ],
)
def test_multiple_hit_policies(
    decision: str, policy: HitPolicy, aggregation: Aggregation | None, gold: Any, silver: Any, nothing: Any
) -> None:
    document = read_dmn((FILES / "fees.dmn").read_bytes())
    assert document.version == "1.2"
    logic = document.model.decisions[decision].logic
    assert isinstance(logic, DecisionTable) and (logic.hit_policy, logic.aggregation) == (policy, aggregation)
    assert evaluate(document.model, decision, GOLD_BIG_ORDER).value == gold
    assert evaluate(document.model, decision, SILVER_SMALL_ORDER).value == silver
    assert evaluate(document.model, decision, NOTHING).value == nothing
    assert len(evaluate(document.model, decision, GOLD_BIG_ORDER).matched_rules) == 4


# --- DMN 1.1, as older Camunda Modelers wrote it ----------------------------------------------


def test_a_dmn_1_1_file_with_a_requirement_and_several_outputs() -> None:
    document = read_dmn((FILES / "support_dmn11.dmn").read_bytes())
    assert document.version == "1.1"
    assert [w.message for w in document.warnings] == ["extension attribute camunda:inputVariable is ignored"]
    model = document.model
    urgent = evaluate(model, "Decision_1team2", {"plan": "enterprise"})
    assert urgent.value == [
        {"team": "account team", "page": True},
        {"team": "second level", "page": None},
        {"team": "first level", "page": False},
    ]
    assert urgent.required[0].value == 1
    routine = evaluate(model, "Decision_1team2", {"plan": "basic", "severity": 4})
    assert routine.required[0].matched_rules == ("Decision_0prio1.rule2",)  # the rule has no id in the file
    assert [row["team"] for row in routine.value] == ["second level", "first level"]


# --- what is refused, and where -------------------------------------------------------------


def test_broken_feel_in_rules_is_refused_naming_each_rule_and_line() -> None:
    with pytest.raises(ModelInvalid) as caught:
        load("broken_feel")
    problems = caught.value.problems
    assert [(p.element, p.line) for p in problems] == [("DecisionRule_0bad5w", 19), ("DecisionRule_1bad6x", 27)]
    assert problems[0].message.startswith("decision 'Decision_0dsc7t', input entry 1: ")
    assert problems[1].message.startswith("decision 'Decision_0dsc7t', output entry 1: ")
    assert caught.value.details["problems"][0]["line"] == 19


def test_a_cycle_in_the_requirements_graph_is_refused() -> None:
    with pytest.raises(ModelInvalid) as caught:
        load("cycle")
    (problem,) = caught.value.problems
    assert (problem.element, problem.line) == ("Decision_0aaa1a", 3)
    assert "Decision_0aaa1a -> Decision_1ccc3c -> Decision_1bbb2b -> Decision_0aaa1a" in problem.message


def test_a_file_where_no_decision_can_run_is_refused_saying_what_is_supported() -> None:
    with pytest.raises(ModelInvalid) as caught:
        load("unsupported")
    found = [(p.element, p.line, p.message.split(";")[0]) for p in caught.value.problems]
    assert found == [
        ("Decision_1inv5g", 12, "requires a business knowledge model, which is not supported"),
        ("Decision_1inv5g", 15, "a boxed invocation is not supported"),
        ("Decision_0ctx9k", 22, "a boxed context is not supported"),
    ]
    assert all("decision tables and literal FEEL expressions" in p.message for p in caught.value.problems)


# --- lenient import, strict evaluation ------------------------------------------------------


def test_unsupported_decisions_are_warnings_and_the_rest_of_the_file_deploys() -> None:
    document = read_dmn((FILES / "partly_supported.dmn").read_bytes())
    assert document.version == "1.5"
    warnings = [(w.element, w.line, w.message.split(";")[0]) for w in document.warnings]
    assert warnings == [
        ("BusinessKnowledgeModel_1ann2b", 3, "a business knowledge model is not supported and is left out"),
        ("Decision_1pay2q", 39, "requires a business knowledge model, which is not supported"),
        ("Decision_1pay2q", 42, "a boxed invocation is not supported"),
        (
            "Greeting",
            67,
            "literal expression: upper case() takes 1 argument (2 given), so it is null (at character 42)",
        ),
        ("DecisionService_0svc3b", 71, "a decision service is not supported and is left out"),
    ]
    model = document.model
    assert [decision.runnable for decision in model.decisions.values()] == [True, False, True, True]
    payment = model.decisions["Decision_1pay2q"]
    assert isinstance(payment.logic, UnsupportedLogic)
    assert (payment.logic.construct, payment.logic.line) == ("business knowledge model", 39)
    # what runs, runs
    assert evaluate(model, "Risk", {"score": 720}).value == "low"
    # a decision without an id goes by its name; a call with the wrong arity is null, as FEEL says
    assert evaluate(model, "Greeting", {"score": 720}).value == "Welcome back"
    assert evaluate(model, "Greeting", {"score": 500}).value is None


def test_evaluating_an_unsupported_decision_or_one_that_requires_it_names_the_cause() -> None:
    model = load("partly_supported")
    with pytest.raises(EvaluationError) as caught:
        evaluate(model, "Decision_1pay2q", {"amount": 1200})
    assert caught.value.message.startswith(
        "decision 'Decision_1pay2q' cannot run: requires a business knowledge model, which is not supported"
    )
    assert caught.value.details["construct"] == "business knowledge model"
    with pytest.raises(EvaluationError) as caught:
        evaluate(model, "Offer", {"amount": 1200})
    assert caught.value.message.startswith(
        "decision 'Decision_0off9x' cannot run: it requires decision 'Decision_1pay2q', which cannot run: "
    )
    assert "(line 39)" in caught.value.message
    assert caught.value.details["unsupported"] == "Decision_1pay2q"


def test_an_unsupported_decision_survives_the_stored_form() -> None:
    model = load("partly_supported")
    again = DecisionModel.from_dict(orjson.loads(orjson.dumps(model.to_dict())))
    assert again == model
    logic = again.decisions["Decision_1pay2q"].logic
    assert isinstance(logic, UnsupportedLogic) and logic.construct == "business knowledge model"
    with pytest.raises(EvaluationError, match="cannot run"):
        evaluate(again, "Offer", {})


def test_broken_feel_in_one_decision_leaves_the_others_deployable() -> None:
    broken = (FILES / "broken_feel.dmn").read_text(encoding="utf-8")
    healthy = """  <decision id="Decision_1ok2" name="Fine">
    <literalExpression id="LiteralExpression_1ok3"><text>1 + 1</text></literalExpression>
  </decision>
  <dmndi:DMNDI>"""
    document = read_dmn(broken.replace("  <dmndi:DMNDI>", healthy, 1))
    found = [(w.element, w.line) for w in document.warnings]
    assert found == [("DecisionRule_0bad5w", 19), ("DecisionRule_1bad6x", 27)]
    assert evaluate(document.model, "Fine", {}).value == 2
    logic = document.model.decisions["Decision_0dsc7t"].logic
    assert isinstance(logic, UnsupportedLogic) and logic.construct == "FEEL"
    cause = "decision 'Decision_0dsc7t' cannot run: decision 'Decision_0dsc7t', input entry 1"
    with pytest.raises(EvaluationError, match=cause):
        evaluate(document.model, "Discount", {"quantity": 5})


def test_an_unknown_hit_policy_is_refused_listing_the_known_ones() -> None:
    with pytest.raises(
        ModelInvalid, match="unknown hit policy 'SOMETIMES'; the hit policies are UNIQUE, FIRST"
    ) as caught:
        load_dmn(one_rule_table('hitPolicy="SOMETIMES"'))
    assert (caught.value.problems[0].element, caught.value.problems[0].line) == ("Decision_1x2y", 4)
    with pytest.raises(ModelInvalid, match="unknown aggregation 'AVG'"):
        load_dmn(one_rule_table('hitPolicy="COLLECT" aggregation="AVG"'))
    with pytest.raises(ModelInvalid, match="aggregation SUM goes only with hit policy COLLECT"):
        load_dmn(one_rule_table('hitPolicy="FIRST" aggregation="SUM"'))


def test_a_doctype_is_refused() -> None:
    document = one_rule_table().replace("<definitions", '<!DOCTYPE definitions [<!ENTITY x "y">]>\n<definitions', 1)
    with pytest.raises(ModelParseError, match="DOCTYPE"):
        load_dmn(document)


def test_documents_that_are_not_dmn_are_refused() -> None:
    with pytest.raises(ModelInvalid, match="not a DMN definitions element"):
        load_dmn('<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL" id="x"/>')
    with pytest.raises(ModelParseError, match="not well-formed"):
        load_dmn(one_rule_table()[:-5])


@pytest.mark.parametrize(
    ("namespace", "version"),
    [
        ("http://www.omg.org/spec/DMN/20151101/dmn.xsd", "1.1"),
        ("http://www.omg.org/spec/DMN/20180521/MODEL/", "1.2"),
        (DMN13, "1.3"),
        (DMN13.replace("https", "http"), "1.3"),
        ("https://www.omg.org/spec/DMN/20211108/MODEL/", "1.4"),
        ("https://www.omg.org/spec/DMN/20230324/MODEL/", "1.5"),
    ],
)
def test_each_dmn_namespace_is_read(namespace: str, version: str) -> None:
    document = read_dmn(one_rule_table('hitPolicy="rule order"').replace(DMN13, namespace))
    logic = document.model.decisions["Decision_1x2y"].logic
    assert document.version == version
    assert isinstance(logic, DecisionTable) and logic.hit_policy is HitPolicy.RULE_ORDER
    assert evaluate(document.model, "Size", {"x": 3}).value == ["small"]


def test_item_definitions_and_unknown_extensions_are_reported_as_warnings() -> None:
    body = """  <itemDefinition id="ItemDefinition_0amt" name="amount"><typeRef>number</typeRef></itemDefinition>
  <decision id="Decision_0lit1" name="Literal" xmlns:acme="urn:acme">
    <extensionElements><acme:owner name="risk team" /></extensionElements>
    <literalExpression id="LiteralExpression_0lit2"><text>1 + 1</text></literalExpression>
  </decision>"""
    document = read_dmn(definitions(body))
    assert [(w.element, w.line, w.message) for w in document.warnings] == [
        ("ItemDefinition_0amt", 3, "item definitions are not checked: values are not typed by them"),
        ("Decision_0lit1", 5, "extension element acme:owner is ignored"),
    ]
    assert evaluate(document.model, "Decision_0lit1", {}).value == 2


@pytest.mark.parametrize(
    ("body", "message", "element", "line"),
    [
        (
            '<decision id="D_1"><literalExpression expressionLanguage="juel"><text>${x}</text></literalExpression>'
            "</decision>",
            "expression language 'juel' is not supported; Legato reads FEEL",
            "D_1",
            3,
        ),
        (
            '<decision id="D_1">\n<informationRequirement><requiredDecision href="other.dmn#D_2"/>'
            "</informationRequirement><literalExpression><text>1</text></literalExpression></decision>",
            "imported decisions are not supported",
            "D_1",
            4,
        ),
        (
            '<decision id="D_1"><informationRequirement><requiredDecision href="#D_9"/></informationRequirement>'
            "<literalExpression><text>1</text></literalExpression></decision>",
            "requires decision 'D_9', which this model does not define",
            "D_1",
            3,
        ),
        ('<decision id="D_1" name="Empty"></decision>', "needs one decision logic element, found none", "D_1", 3),
        (
            '<decision id="D_1"><literalExpression><text>1</text></literalExpression></decision>\n'
            '<decision id="D_1"><literalExpression><text>2</text></literalExpression></decision>',
            "another decision has the same id",
            "D_1",
            4,
        ),
        (
            '<decision id="D_1"><decisionTable><input><inputExpression><text>(x</text></inputExpression></input>'
            '<output name="o"/></decisionTable></decision>',
            "input expression: ",
            "D_1",
            3,
        ),
    ],
)
def test_constructs_that_cannot_run_are_refused_with_their_line(
    body: str, message: str, element: str, line: int
) -> None:
    with pytest.raises(ModelInvalid, match=message) as caught:
        load_dmn(definitions(body))
    assert (caught.value.problems[0].element, caught.value.problems[0].line) == (element, line)


def test_an_imported_model_round_trips_through_its_stored_form() -> None:
    for name in ("shipping", "risk", "fees", "support_dmn11"):
        model = load(name)
        stored = orjson.loads(orjson.dumps(model.to_dict()))
        assert DecisionModel.from_dict(stored) == model, name
    reloaded = DecisionModel.from_dict(load("shipping").to_dict())
    assert evaluate(reloaded, "Decision_1cst8v", {"country": "DE", "weight": 1, "order": {"total": 1}}).value == 4.5


def test_a_dmn_element_legato_does_not_know_is_left_out_with_a_warning() -> None:
    """A typo or a later version's element in the DMN namespace is named, as the BPMN reader names one."""
    body = """  <inputData id="InputData_0amt" name="amount" />
  <decision id="Decision_0lit1" name="Literal">
    <decisionOwnerr id="Owner_1" />
    <literalExpression id="LiteralExpression_0lit2"><text>1 + 1</text></literalExpression>
  </decision>
  <decisionTabel id="Tabel_1" />"""
    document = read_dmn(definitions(body))
    assert [(w.element, w.line, w.message) for w in document.warnings] == [
        ("Owner_1", 5, "<decisionOwnerr> is not a DMN element Legato knows; it is left out"),
        ("Tabel_1", 8, "<decisionTabel> is not a DMN element Legato knows; it is left out"),
    ]
    assert evaluate(document.model, "Decision_0lit1", {}).value == 2


def test_every_element_of_our_own_dmn_files_is_known() -> None:
    for path in sorted(FILES.glob("*.dmn")):
        try:
            document = read_dmn(path.read_bytes())
        except ModelInvalid:
            continue  # the files that show refusals
        assert not [w for w in document.warnings if "not a DMN element" in w.message], path.name


def test_names_with_spaces_are_read_without_backticks() -> None:
    """DMN 1.5, 10.3.1.2: a required decision's name is a variable as written, spaces and all."""
    model = load_dmn(
        definitions(
            """  <decision id="Decision_0pay1" name="Monthly payment">
    <literalExpression id="LiteralExpression_0pay2"><text>Loan amount / 12</text></literalExpression>
  </decision>
  <decision id="Decision_0off3" name="Offer">
    <informationRequirement id="InformationRequirement_0off4">
      <requiredDecision href="#Decision_0pay1" />
    </informationRequirement>
    <literalExpression id="LiteralExpression_0off5">
      <text>{rate: function(x) decimal(x, 2), r: "pay " + string(rate(Monthly payment))}.r</text>
    </literalExpression>
  </decision>"""
        )
    )
    assert evaluate(model, "Offer", {"Loan amount": 1000}).value == "pay 83.33"


TYPED = """  <decision id="Decision_0typ1" name="Season">
    <decisionTable id="DecisionTable_0typ2" hitPolicy="FIRST">
      <input id="Input_0typ3" label="Day">
        <inputExpression id="InputExpression_0typ4" typeRef="date"><text>day</text></inputExpression>
      </input>
      <input id="Input_0typ5" label="Region">
        <inputExpression id="InputExpression_0typ6" typeRef="string"><text>region</text></inputExpression>
      </input>
      <output id="Output_0typ7" name="season" typeRef="string" />
      <output id="Output_0typ8" name="weight" typeRef="number" />
      <rule id="DecisionRule_0sum9">
        <inputEntry id="UnaryTests_0sum1"><text>[date("2024-06-01")..date("2024-08-31")]</text></inputEntry>
        <inputEntry id="UnaryTests_0sum2"><text>"north"</text></inputEntry>
        <outputEntry id="LiteralExpression_0sum3"><text>"summer"</text></outputEntry>
        <outputEntry id="LiteralExpression_0sum4"><text>1.5</text></outputEntry>
      </rule>
      <rule id="DecisionRule_0oth5">
        <inputEntry id="UnaryTests_0oth6"><text>-</text></inputEntry>
        <inputEntry id="UnaryTests_0oth7"><text>-</text></inputEntry>
        <outputEntry id="LiteralExpression_0oth8"><text>"other"</text></outputEntry>
        <outputEntry id="LiteralExpression_0oth9"><text>"heavy"</text></outputEntry>
      </rule>
    </decisionTable>
  </decision>
  <decision id="Decision_1cnt1" name="Count">
    <variable id="InformationItem_1cnt2" name="Count" typeRef="number" />
    <literalExpression id="LiteralExpression_1cnt3"><text>[size]</text></literalExpression>
  </decision>"""


def test_type_refs_convert_iso_text_and_singleton_lists_and_null_what_does_not_fit() -> None:
    """DMN 1.5, 10.3.2.9.4: a value is converted to its typeRef where the spec says, else null with a warning."""
    model = load_dmn(definitions(TYPED))
    summer = evaluate(model, "Season", {"day": "2024-07-14", "region": ["north"]})
    assert summer.value == {"season": "summer", "weight": 1.5}  # ISO text is a date; [x] is x
    assert summer.warnings == ()
    other = evaluate(model, "Season", {"day": "2024-07-14", "region": 7})
    assert other.value == {"season": "other", "weight": None}
    assert other.warnings == (
        "input 2 ('Region'): 7 is not a string ('string'), so it is null",
        "rule 'DecisionRule_0oth5': 'heavy' is not a number ('number'), so it is null",
    )
    assert other.to_dict()["warnings"] == list(other.warnings)
    bad_day = evaluate(model, "Season", {"day": "14.07.2024", "region": "north"})
    assert bad_day.value["season"] == "other"
    assert bad_day.warnings[0] == "input 1 ('Day'): '14.07.2024' is not a date ('date'), so it is null"
    assert evaluate(model, "Count", {"size": 3}).value == 3  # a singleton list where a number is wanted
    assert "warnings" not in evaluate(model, "Count", {"size": 3}).to_dict()
