"""How fast expressions evaluate, in every dialect: what the CPU-time bound per evaluation costs.

    python bench/expressions.py            # best of 5 rounds, evaluations per second
    python bench/expressions.py --json     # the same figures as JSON

Each case is compiled once and evaluated many times, as the engine does: conditions in the
Legato dialect, FEEL and JUEL; a FEEL `for` loop over 1,000 numbers (a tick per iteration);
a Legato-dialect script; and a DMN decision table of 20 rules with two inputs, evaluated
through `legato.model.dmn.evaluate`. docs/benchmarks.md ("Expressions") has the figures
before and after the CPU bound.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable
from typing import Any

from legato.expressions import compile_expression, compile_script
from legato.formats.dmn_xml import load_dmn
from legato.model.dmn import evaluate

VARIABLES: dict[str, Any] = {"amount": 1250, "country": "DE", "items": list(range(1000)), "vip": False}

RULES = "\n".join(
    f"""    <rule id="Rule_{n}">
      <inputEntry id="In_{n}_a"><text>[{n * 100}..{n * 100 + 99}]</text></inputEntry>
      <inputEntry id="In_{n}_b"><text>"{"DE" if n % 2 else "FR"}"</text></inputEntry>
      <outputEntry id="Out_{n}"><text>"band {n}"</text></outputEntry>
    </rule>"""
    for n in range(20)
)
TABLE = f"""<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/" id="Definitions_1" name="Bench" namespace="urn:b">
  <decision id="Band" name="Band">
    <decisionTable id="Table_1" hitPolicy="FIRST">
      <input id="Input_a"><inputExpression typeRef="number"><text>amount</text></inputExpression></input>
      <input id="Input_b"><inputExpression typeRef="string"><text>country</text></inputExpression></input>
      <output id="Output_1" name="band" typeRef="string" />
{RULES}
    </decisionTable>
  </decision>
</definitions>
"""


def cases() -> dict[str, tuple[Callable[[], Any], int]]:
    """Each case: a call that evaluates once, and how many calls make a round."""
    legato = compile_expression("amount > 1000 and country == 'DE' and not vip")
    feel = compile_expression('= amount > 1000 and country = "DE" and not(vip)')
    juel = compile_expression("${amount > 1000 && country == 'DE' && !vip}")
    feel_loop = compile_expression("= count(for x in items return x * 2) > 0")
    script = compile_script("total = amount * 2\nlabel = 'order ' + str(total)\nbig = total > 2000")
    table = load_dmn(TABLE)
    return {
        "legato condition": (lambda: legato.evaluate_condition(VARIABLES), 50_000),
        "FEEL condition": (lambda: feel.evaluate_condition(VARIABLES), 50_000),
        "JUEL condition": (lambda: juel.evaluate_condition(VARIABLES), 50_000),
        "FEEL for over 1,000 items": (lambda: feel_loop.evaluate_condition(VARIABLES), 200),
        "legato script, 3 lines": (lambda: script.run(VARIABLES), 20_000),
        "DMN table, 20 rules": (lambda: evaluate(table, "Band", VARIABLES), 2_000),
    }


def measure(rounds: int) -> dict[str, float]:
    """Evaluations per second for each case, the best of `rounds`."""
    results: dict[str, float] = {}
    for name, (call, count) in cases().items():
        best = float("inf")
        for _ in range(rounds):
            started = time.perf_counter()
            for _ in range(count):
                call()
            best = min(best, time.perf_counter() - started)
        results[name] = count / best
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--json", action="store_true", help="print JSON")
    arguments = parser.parse_args()
    results = measure(arguments.rounds)
    if arguments.json:
        print(json.dumps(results, indent=2))
        return
    for name, per_second in results.items():
        print(f"{name:<28} {per_second:>12,.0f} /s   {1e6 / per_second:>9.2f} µs each")


if __name__ == "__main__":
    main()
