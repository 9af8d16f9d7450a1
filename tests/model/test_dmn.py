"""DMN 1.3 decision tables built as data: hit policies, results, the requirements graph, storage."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from legato.errors import EvaluationError, ModelInvalid
from legato.model import dmn
from legato.model.dmn import (
    Aggregation,
    Decision,
    DecisionModel,
    DecisionResult,
    DecisionTable,
    HitPolicy,
    InputClause,
    LiteralExpression,
    OutputClause,
    Rule,
    evaluate,
    from_dict,
    to_dict,
)


def table(
    rules: list[tuple[str, ...]],
    *,
    hit_policy: HitPolicy = HitPolicy.UNIQUE,
    aggregation: Aggregation | None = None,
    inputs: tuple[str, ...] = ("x",),
    outputs: tuple[OutputClause, ...] = (OutputClause(name="out"),),
) -> DecisionTable:
    """A table whose rules are written as rows: input entries, then output entries."""
    return DecisionTable(
        id="Table",
        inputs=tuple(InputClause(id=f"Input_{name}", expression=name) for name in inputs),
        outputs=outputs,
        rules=tuple(
            Rule(id=f"r{number}", input_entries=row[: len(inputs)], output_entries=row[len(inputs) :], line=number)
            for number, row in enumerate(rules, 1)
        ),
        hit_policy=hit_policy,
        aggregation=aggregation,
    )


def single(logic: DecisionTable | LiteralExpression, **variables: Any) -> DecisionResult:
    model = DecisionModel(id="m", decisions={"d": Decision(id="d", name="D", logic=logic)})
    return evaluate(model, "d", variables)


RATINGS = OutputClause(name="rating", output_values='"decline","refer","accept"')


# --- single-hit policies ------------------------------------------------------------------


def test_unique_gives_the_one_matching_rule_and_names_it() -> None:
    grades = table([("< 50", '"fail"'), ("[50..100]", '"pass"')])
    result = single(grades, x=72)
    assert (result.value, result.matched_rules, result.decision_id) == ("pass", ("r2",), "d")


def test_unique_with_overlapping_rules_fails_naming_the_rules() -> None:
    overlapping = table([("< 60", '"low"'), ("[50..100]", '"high"'), ("> 90", '"top"')])
    assert single(overlapping, x=20).value == "low"
    with pytest.raises(EvaluationError) as caught:
        single(overlapping, x=55)
    message = caught.value.message
    assert "UNIQUE" in message and "'r1'" in message and "'r2'" in message and "'r3'" not in message
    assert "decision 'd'" in message
    assert caught.value.details["rules"] == ["r1", "r2"]
    assert caught.value.code == "EVALUATION_ERROR"


@pytest.mark.parametrize("policy", [HitPolicy.UNIQUE, HitPolicy.FIRST, HitPolicy.ANY, HitPolicy.PRIORITY])
def test_a_single_hit_table_without_a_match_gives_null(policy: HitPolicy) -> None:
    outputs = (RATINGS,) if policy is HitPolicy.PRIORITY else (OutputClause(name="out"),)
    result = single(table([("> 10", '"accept"')], hit_policy=policy, outputs=outputs), x=3)
    assert result.value is None and result.matched_rules == ()


def test_first_takes_the_first_match_in_rule_order() -> None:
    rates = table([("> 100", "0.1"), ("> 10", "0.05"), ("-", "0")], hit_policy=HitPolicy.FIRST)
    assert single(rates, x=500).matched_rules == ("r1",)
    assert single(rates, x=50).matched_rules == ("r2",)
    assert single(rates, x=1).value == 0


def test_priority_ranks_by_output_values_not_rule_order() -> None:
    rating = table(
        [("-", '"accept"'), ("< 21", '"refer"'), ("> 90", '"decline"')],
        hit_policy=HitPolicy.PRIORITY,
        outputs=(RATINGS,),
    )
    assert single(rating, x=40).value == "accept"
    assert (single(rating, x=18).value, single(rating, x=18).matched_rules) == ("refer", ("r2",))
    assert single(rating, x=95).matched_rules == ("r3",)


def test_priority_with_several_outputs_ranks_by_the_first_ranked_output_then_the_next() -> None:
    outputs = (
        OutputClause(name="level", output_values='"gold","silver"'),
        OutputClause(name="note"),  # not ranked: has no output values
        OutputClause(name="channel", output_values='"phone","mail"'),
    )
    rows = [
        ("-", '"silver"', '"a"', '"phone"'),
        ("-", '"gold"', '"b"', '"mail"'),
        ("-", '"gold"', '"c"', '"phone"'),
        ("-", '"gold"', '"d"', '"phone"'),
    ]
    result = single(table(rows, hit_policy=HitPolicy.PRIORITY, outputs=outputs), x=1)
    assert result.value == {"level": "gold", "note": "c", "channel": "phone"}
    assert result.matched_rules == ("r3",)  # r4 ranks the same; the earlier rule wins the tie


def test_a_value_missing_from_the_output_values_ranks_last() -> None:
    rating = table([("-", '"unknown"'), ("-", '"accept"')], hit_policy=HitPolicy.PRIORITY, outputs=(RATINGS,))
    assert single(rating, x=1).value == "accept"


def test_any_accepts_agreeing_rules_and_names_disagreeing_ones() -> None:
    review = table([("< 21", "true"), ("> 65", "true"), ("[18..25]", "false")], hit_policy=HitPolicy.ANY)
    assert single(review, x=70).value is True
    assert single(review, x=30).value is None
    with pytest.raises(EvaluationError, match=r"ANY.*'r1', 'r3'") as caught:
        single(review, x=19)
    assert caught.value.details["rules"] == ["r1", "r3"]


def test_any_does_not_take_true_for_one() -> None:
    mixed = table([("> 0", "true"), ("> 0", "1")], hit_policy=HitPolicy.ANY)
    with pytest.raises(EvaluationError, match="different outputs"):
        single(mixed, x=5)


# --- multiple-hit policies ----------------------------------------------------------------

FEES = [("> 0", "2.5"), (">= 1000", "10"), ("< 0", "1"), ("-", "-1")]


def test_collect_gives_the_outputs_of_every_match() -> None:
    result = single(table(FEES, hit_policy=HitPolicy.COLLECT), x=1500)
    assert result.value == [2.5, 10, -1] and result.matched_rules == ("r1", "r2", "r4")


@pytest.mark.parametrize(
    ("aggregation", "many", "one", "none"),
    [
        (Aggregation.SUM, 11.5, 7, None),
        (Aggregation.MIN, -1, 7, None),
        (Aggregation.MAX, 10, 7, None),
        (Aggregation.COUNT, 3, 1, 0),
    ],
)
def test_collect_aggregations(aggregation: Aggregation, many: Any, one: Any, none: Any) -> None:
    fees = table(FEES, hit_policy=HitPolicy.COLLECT, aggregation=aggregation)
    assert single(fees, x=1500).value == many
    assert single(table([("> 0", "7")], hit_policy=HitPolicy.COLLECT, aggregation=aggregation), x=1).value == one
    assert single(table([("> 0", "7")], hit_policy=HitPolicy.COLLECT, aggregation=aggregation), x=-1).value == none


def test_sum_skips_empty_outputs_and_refuses_text() -> None:
    with_blank = table(
        [("> 0", "4"), ("> 1", ""), ("> 2", "1")], hit_policy=HitPolicy.COLLECT, aggregation=Aggregation.SUM
    )
    assert single(with_blank, x=5).value == 5
    assert single(table([("> 0", "")], hit_policy=HitPolicy.COLLECT, aggregation=Aggregation.SUM), x=5).value is None
    assert single(table([("> 0", "")], hit_policy=HitPolicy.COLLECT, aggregation=Aggregation.COUNT), x=5).value == 1
    with pytest.raises(EvaluationError, match="SUM adds numbers"):
        single(table([("> 0", "4"), ("> 0", '"four"')], hit_policy=HitPolicy.COLLECT, aggregation=Aggregation.SUM), x=5)
    with pytest.raises(EvaluationError, match="cannot compare"):
        single(table([("> 0", "4"), ("> 0", '"four"')], hit_policy=HitPolicy.COLLECT, aggregation=Aggregation.MAX), x=5)


def test_multiple_hit_tables_without_a_match_give_an_empty_list() -> None:
    for policy in (HitPolicy.COLLECT, HitPolicy.RULE_ORDER):
        assert single(table([("> 10", "1")], hit_policy=policy), x=1).value == []
    assert single(table([("> 10", '"accept"')], hit_policy=HitPolicy.OUTPUT_ORDER, outputs=(RATINGS,)), x=1).value == []


def test_rule_order_keeps_the_rules_order_and_output_order_the_output_values_order() -> None:
    rows = [("-", '"accept"', '"income"'), ("< 21", '"refer"', '"age"'), ("> 90", '"decline"', '"age"')]
    outputs = (RATINGS, OutputClause(name="reason"))
    by_rule = single(table(rows, hit_policy=HitPolicy.RULE_ORDER, outputs=outputs), x=18)
    assert by_rule.value == [{"rating": "accept", "reason": "income"}, {"rating": "refer", "reason": "age"}]
    by_output = single(table(rows, hit_policy=HitPolicy.OUTPUT_ORDER, outputs=outputs), x=95)
    assert [row["rating"] for row in by_output.value] == ["decline", "accept"]
    assert by_output.matched_rules == ("r3", "r1")


# --- results: outputs, defaults, input entries --------------------------------------------


def test_several_outputs_give_a_dict_and_an_empty_output_entry_is_null() -> None:
    outputs = (OutputClause(name="team"), OutputClause(name="page"))
    routing = table([("> 3", '"on call"', "true"), ("<= 3", '"queue"', "")], outputs=outputs)
    assert single(routing, x=5).value == {"team": "on call", "page": True}
    assert single(routing, x=1).value == {"team": "queue", "page": None}


def test_output_entries_and_input_expressions_are_computed_from_variables() -> None:
    pricing = DecisionTable(
        inputs=(InputClause(expression="order.quantity * order.price"),),
        outputs=(OutputClause(name="discount"),),
        rules=(
            Rule(id="bulk", input_entries=("> limit",), output_entries=("order.quantity * 2",)),
            Rule(id="none", input_entries=("<= limit",), output_entries=("0",)),
        ),
    )
    assert single(pricing, order={"quantity": 10, "price": 50}, limit=100).value == 20
    assert single(pricing, order={"quantity": 1, "price": 50}, limit=100).matched_rules == ("none",)


def test_default_output_entries_apply_when_no_rule_matches() -> None:
    outputs = (OutputClause(name="level", default='"standard"'), OutputClause(name="reason"))
    levels = table([("> 100", '"high"', '"volume"')], outputs=outputs)
    assert single(levels, x=500).value == {"level": "high", "reason": "volume"}
    assert single(levels, x=5).value == {"level": "standard", "reason": None}
    assert single(levels, x=5).matched_rules == ()


@pytest.mark.parametrize(
    ("entry", "matching", "not_matching"),
    [
        ("-", ["A", 3, None], []),
        ("", ["A", None], []),
        ('"A","B"', ["A", "B"], ["C", None]),
        ('not("A")', ["B"], ["A"]),
        ("< 10", [9, -1], [10, 11]),
        ("<= 10", [10], [11]),
        (">= 10", [10, 11], [9]),
        ("[1..10]", [1, 5, 10], [0, 11]),
        ("]1..10[", [2, 9], [1, 10]),
        ("(1..10]", [10], [1]),
        ("? > 5", [6], [5]),
        ("7", [7], [8]),
        ("true", [True], [False]),
    ],
)
def test_unary_test_forms_in_input_entries(entry: str, matching: list[Any], not_matching: list[Any]) -> None:
    check = table([(entry, '"hit"')])
    for value in matching:
        assert single(check, x=value).value == "hit", value
    for value in not_matching:
        assert single(check, x=value).value is None, value


def test_a_missing_variable_is_null_and_matches_only_dash() -> None:
    check = table([("> 5", '"big"'), ("-", '"any"')], hit_policy=HitPolicy.RULE_ORDER)
    assert single(check).value == ["any"]


def test_input_values_keep_their_feel_type_for_the_tests() -> None:
    """A date input is compared as a date, not as the ISO text a decision result becomes."""
    deadline = DecisionTable(
        inputs=(InputClause(expression="date(day)"),),
        outputs=(OutputClause(name="on_time"),),
        rules=(
            Rule(id="early", input_entries=('< date("2025-01-01")',), output_entries=("true",)),
            Rule(id="late", input_entries=('>= date("2025-01-01")',), output_entries=("false",)),
        ),
    )
    assert single(deadline, day="2024-12-31").value is True
    assert single(deadline, day="2025-03-01").value is False


def test_a_failure_at_run_time_names_the_decision_and_the_rule_or_input() -> None:
    guarded = table([("> 0", 'assert(x, x < 100, "x is too large")')])
    with pytest.raises(EvaluationError, match=r"decision 'd', rule 'r1' \(line 1\): .*x is too large") as caught:
        single(guarded, x=500)
    assert caught.value.details["where"] == "decision 'd', rule 'r1' (line 1)"
    failing_input = DecisionTable(
        inputs=(InputClause(label="Checked", expression='assert(x, x != null, "x is missing")'),),
        outputs=(OutputClause(name="out"),),
        rules=(Rule(id="r", input_entries=("-",), output_entries=("1",)),),
    )
    with pytest.raises(EvaluationError, match=r"decision 'd', input 1 \('Checked'\): .*x is missing"):
        single(failing_input)


def test_a_literal_expression_decision() -> None:
    result = single(LiteralExpression(text="price * quantity", type_ref="number"), price=5, quantity=3)
    assert result.value == 15 and result.matched_rules == ()


# --- the decision requirements graph ------------------------------------------------------


def literal(decision_id: str, text: str, *requires: str, name: str | None = None) -> Decision:
    return Decision(id=decision_id, name=name, logic=LiteralExpression(text=text), required_decisions=requires)


def model_of(*decisions: Decision) -> DecisionModel:
    return DecisionModel(id="drg", decisions={decision.id: decision for decision in decisions})


def test_a_required_decision_feeds_its_dependant_by_name_and_by_id() -> None:
    zone = Decision(
        id="Decision_zone",
        name="Zone",
        logic=table([('"DE"', '"domestic"'), ('not("DE")', '"abroad"')], inputs=("country",)),
    )
    cost = Decision(
        id="Decision_cost",
        name="Cost",
        logic=table([('"domestic"', "5"), ('"abroad"', "20")], inputs=("Zone",)),
        required_decisions=("Decision_zone",),
    )
    label = literal("Decision_label", "Decision_cost + 1", "Decision_cost")
    model = model_of(label, cost, zone)
    result = evaluate(model, "Decision_label", {"country": "FR"})
    assert result.value == 21
    assert [(r.decision_id, r.value, r.matched_rules) for r in result.required] == [
        ("Decision_zone", "abroad", ("r2",)),
        ("Decision_cost", 20, ("r2",)),
    ]
    assert evaluate(model, "Cost", {"country": "DE"}).value == 5  # found by its name too


def test_each_decision_of_a_diamond_is_evaluated_once_and_before_its_dependants() -> None:
    model = model_of(
        literal("top", "left + right", "left", "right"),
        literal("left", "base * 2", "base"),
        literal("right", "base * 3", "base"),
        literal("base", "seed + 1"),
    )
    result = evaluate(model, "top", {"seed": 1})
    assert result.value == 10
    assert [r.decision_id for r in result.required] == ["base", "left", "right"]


def test_a_decision_sees_only_the_results_it_requires_and_they_win_over_variables() -> None:
    model = model_of(literal("a", "1"), literal("b", "a + 1", "a"), literal("c", "[b, a]", "b"))
    assert evaluate(model, "c", {"a": 100}).value == [2, 100]
    assert evaluate(model, "b", {"a": 100}).value == 2


def test_a_long_chain_of_requirements_does_not_exhaust_the_stack() -> None:
    chain = [literal("d0", "0")] + [literal(f"d{n}", f"d{n - 1} + 1", f"d{n - 1}") for n in range(1, 1500)]
    assert evaluate(model_of(*chain), "d1499", {}).value == 1499


def test_missing_required_decisions_and_cycles_are_refused() -> None:
    with pytest.raises(ModelInvalid, match="requires decision 'nowhere', which this model does not define"):
        model_of(literal("a", "1", "nowhere"))
    with pytest.raises(ModelInvalid, match="a -> c -> b -> a") as caught:
        model_of(literal("a", "c", "c"), literal("b", "a", "a"), literal("c", "b", "b"), literal("d", "1"))
    assert [problem.element for problem in caught.value.problems] == ["a"]
    with pytest.raises(ModelInvalid, match="self -> self"):
        model_of(literal("self", "self", "self"))


def test_an_unknown_decision_is_an_evaluation_error_listing_the_decisions() -> None:
    with pytest.raises(EvaluationError, match="no decision 'nope'; its decisions are 'a'"):
        evaluate(model_of(literal("a", "1")), "nope", {})


# --- checks when the model is built -------------------------------------------------------


def test_broken_feel_in_a_rule_names_the_rule_the_entry_and_the_line() -> None:
    with pytest.raises(ModelInvalid) as caught:
        Rule(id="Rule_7", input_entries=("< 10", ">> 3"), output_entries=('"open',), line=42)
    problems = caught.value.problems
    assert [(p.element, p.line) for p in problems] == [("Rule_7", 42), ("Rule_7", 42)]
    assert problems[0].message.startswith("input entry 2: ")
    assert problems[1].message.startswith("output entry 1: ")
    assert caught.value.code == "MODEL_INVALID"


def test_broken_input_expressions_and_literal_expressions_are_refused() -> None:
    with pytest.raises(ModelInvalid, match="input expression"):
        InputClause(id="Input_1", expression="(a +", line=3)
    with pytest.raises(ModelInvalid, match="input expression: the expression is empty"):
        InputClause(id="Input_1", expression="  ")
    with pytest.raises(ModelInvalid, match="literal expression"):
        LiteralExpression(id="Literal_1", text="1 +")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"rules": [("1", "2", "3")]}, "has 1 input entries for 1 inputs|has 2 output entries for 1 outputs"),
        ({"outputs": (OutputClause(name="a"), OutputClause())}, "several outputs needs a name"),
        ({"outputs": (OutputClause(name="a"), OutputClause(name="a"))}, "repeat: 'a'"),
        ({"outputs": ()}, "at least one output"),
        ({"aggregation": Aggregation.SUM}, "only with hit policy COLLECT"),
        ({"hit_policy": HitPolicy.PRIORITY}, "PRIORITY ranks rules by the outputs' output values"),
        ({"hit_policy": HitPolicy.OUTPUT_ORDER}, "OUTPUT ORDER ranks rules"),
    ],
)
def test_inconsistent_tables_are_refused(change: dict[str, Any], message: str) -> None:
    arguments: dict[str, Any] = {"rules": [("1", "2")]}
    arguments.update(change)
    with pytest.raises(ModelInvalid, match=message):
        table(**arguments)


def test_aggregating_several_outputs_and_repeating_rule_ids_are_refused() -> None:
    outputs = (OutputClause(name="a"), OutputClause(name="b"))
    with pytest.raises(ModelInvalid, match="needs exactly one output"):
        table([("1", "2", "3")], hit_policy=HitPolicy.COLLECT, aggregation=Aggregation.SUM, outputs=outputs)
    rule = Rule(id="same", input_entries=("1",), output_entries=("2",))
    with pytest.raises(ModelInvalid, match="rule ids must differ"):
        DecisionTable(inputs=(InputClause(expression="x"),), outputs=(OutputClause(),), rules=(rule, rule))


def test_unknown_hit_policies_and_aggregations_are_refused() -> None:
    with pytest.raises(ModelInvalid, match="'SOMETIMES' is not a valid HitPolicy; the hit policies and aggregations"):
        table([("1", "2")], hit_policy="SOMETIMES")  # type: ignore[arg-type]
    with pytest.raises(ModelInvalid, match="'AVERAGE' is not a valid Aggregation"):
        table([("1", "2")], hit_policy=HitPolicy.COLLECT, aggregation="AVERAGE")  # type: ignore[arg-type]
    assert table([("1", "2")], hit_policy="RULE ORDER").hit_policy is HitPolicy.RULE_ORDER  # type: ignore[arg-type]


# --- storage ------------------------------------------------------------------------------


def test_a_model_round_trips_through_its_json_form() -> None:
    zone = Decision(
        id="zone",
        name="Zone",
        logic=DecisionTable(
            id="t",
            inputs=(InputClause(id="i", label="Country", expression="country", type_ref="string", line=7),),
            outputs=(OutputClause(id="o", name="zone", output_values='"eu","world"', default='"world"'),),
            rules=(
                Rule(id="r", input_entries=('"FR"',), output_entries=('"eu"',), description="d", annotations=("n",)),
            ),
            hit_policy=HitPolicy.PRIORITY,
            annotation_names=("Notes",),
            line=5,
        ),
        line=3,
    )
    model = DecisionModel(
        id="defs",
        name="Shipping",
        namespace="urn:x",
        decisions={"zone": zone, "label": literal("label", "Zone", "zone")},
    )
    stored = orjson.loads(orjson.dumps(model.to_dict()))
    assert stored["format"] == 1 and stored == to_dict(model)
    loaded = DecisionModel.from_dict(stored)
    assert loaded == model and from_dict(stored) == model
    assert evaluate(loaded, "label", {"country": "FR"}).value == "eu"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ([], "expected an object"),
        ({"format": 99, "id": "x"}, "unknown decision model format version 99"),
        ({"id": "x", "decisions": [{"id": "d"}]}, "decision_table or a literal_expression"),
        ({"id": "x", "decisions": {"d": {}}}, "decisions must be a list"),
        ({"id": "x", "decisions": [{"id": "d", "decision_table": {"hit_policy": "OFTEN"}}]}, "unknown value 'OFTEN'"),
        ({"id": "x", "decisions": [{"id": "d", "literal_expression": {"text": 5}}]}, "text must be text"),
        ({"id": "x", "decisions": [{"id": "d", "literal_expression": {"text": "(1"}}]}, "literal expression"),
        ({"id": "x", "decisions": [{"id": "d", "literal_expression": {"text": "1"}, "line": "3"}]}, "line must be"),
    ],
)
def test_malformed_stored_models_are_refused(data: Any, message: str) -> None:
    with pytest.raises(ModelInvalid, match=message):
        from_dict(data)


def test_a_result_is_a_plain_dict_for_the_audit_trail() -> None:
    model = model_of(
        literal("a", "2"), Decision(id="b", logic=table([("> 1", '"yes"')], inputs=("a",)), required_decisions=("a",))
    )
    assert evaluate(model, "b", {}).to_dict() == {
        "decision_id": "b",
        "decision_name": None,
        "value": "yes",
        "matched_rules": ["r1"],
        "required": [{"decision_id": "a", "decision_name": None, "value": 2, "matched_rules": [], "required": []}],
    }


def test_the_public_names_are_frozen() -> None:
    assert set(dmn.__all__) == {
        "FORMAT_VERSION",
        "Aggregation",
        "Decision",
        "DecisionModel",
        "DecisionResult",
        "DecisionTable",
        "HitPolicy",
        "InputClause",
        "LiteralExpression",
        "OutputClause",
        "Rule",
        "UnsupportedLogic",
        "evaluate",
        "from_dict",
        "to_dict",
    }
