"""FEEL's cost in the common case: a 100-rule decision table and a condition, in microseconds.

    python bench/decision_table_speed.py

The table has two inputs (a number tested by ranges such as `[120..130)`, a string by
`"silver","gold"`) and 100 rules whose outputs are decimals (`0.05`); the input matches rule
95, so nearly every cell is tested. The condition is a Camunda 8 one with arithmetic on a
decimal (`=amount * 1.2 > 1000 and customer.vip = true`). Each figure is the best of eleven
rounds (timeit), so it is FEEL's own cost, not the machine's noise.
"""

from __future__ import annotations

import timeit

from legato.expressions.feel import compile_feel
from legato.model.dmn import (
    Decision,
    DecisionModel,
    DecisionTable,
    HitPolicy,
    InputClause,
    OutputClause,
    Rule,
    evaluate,
)

CATEGORIES = ('"bronze"', '"silver","gold"', '"platinum"', "-")


def table_model() -> DecisionModel:
    rules = [
        Rule(
            id=f"rule{n}",
            input_entries=(f"[{n * 10}..{n * 10 + 10})", CATEGORIES[n % len(CATEGORIES)]),
            output_entries=(f"0.{n:02d}5",),
        )
        for n in range(100)
    ]
    table = DecisionTable(
        inputs=(InputClause(expression="amount", type_ref="number"), InputClause(expression="category")),
        outputs=(OutputClause(name="rate", type_ref="number"),),
        rules=tuple(rules),
        hit_policy=HitPolicy.UNIQUE,
    )
    return DecisionModel(id="rates", decisions={"rate": Decision(id="rate", logic=table)})


def main() -> None:
    model = table_model()
    variables = {"amount": 955.5, "category": "platinum"}
    assert evaluate(model, "rate", variables).matched_rules == ("rule95",)
    rounds = 500
    best = min(timeit.repeat(lambda: evaluate(model, "rate", variables), number=rounds, repeat=11)) / rounds
    print(f"{best * 1e6:.1f} µs per evaluation of a 100-rule decision table (match at rule 95)")

    condition = compile_feel("=amount * 1.2 > 1000 and customer.vip = true")
    data = {"amount": 955.5, "customer": {"vip": True}}
    assert condition.evaluate_condition(data) is True
    rounds = 20_000
    best = min(timeit.repeat(lambda: condition.evaluate_condition(data), number=rounds, repeat=11)) / rounds
    print(f"{best * 1e6:.2f} µs per FEEL condition (=amount * 1.2 > 1000 and customer.vip = true)")


if __name__ == "__main__":
    main()
