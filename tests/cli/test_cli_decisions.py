"""`legato deploy FILE.dmn`, `legato decisions` and `legato decide` against the real API."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cli_helpers import Run

RATES_DMN = """\
<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/" xmlns:camunda="http://camunda.org/schema/1.0/dmn"
    id="Definitions_rates" name="Rates" namespace="http://camunda.org/schema/1.0/dmn">
  <decision id="Decision_zone" name="Zone">
    <decisionTable id="DecisionTable_zone">
      <input id="Input_country" label="Country">
        <inputExpression id="InputExpression_country" typeRef="string"><text>country</text></inputExpression>
      </input>
      <output id="Output_zone" name="zone" typeRef="string" />
      <rule id="Rule_home">
        <inputEntry id="UnaryTests_home"><text>"DE"</text></inputEntry>
        <outputEntry id="LiteralExpression_home"><text>"home"</text></outputEntry>
      </rule>
      <rule id="Rule_abroad">
        <inputEntry id="UnaryTests_abroad"><text>not("DE")</text></inputEntry>
        <outputEntry id="LiteralExpression_abroad"><text>"abroad"</text></outputEntry>
      </rule>
    </decisionTable>
  </decision>
  <decision id="Decision_rate" name="Rate" camunda:historyTimeToLive="30">
    <informationRequirement id="InformationRequirement_zone">
      <requiredDecision href="#Decision_zone" />
    </informationRequirement>
    <decisionTable id="DecisionTable_rate" hitPolicy="FIRST">
      <input id="Input_zone" label="Zone">
        <inputExpression id="InputExpression_zone" typeRef="string"><text>Zone</text></inputExpression>
      </input>
      <input id="Input_weight" label="Weight">
        <inputExpression id="InputExpression_weight" typeRef="number"><text>weight</text></inputExpression>
      </input>
      <output id="Output_rate" name="rate" typeRef="number" />
      <output id="Output_carrier" name="carrier" typeRef="string" />
      <rule id="Rule_light">
        <inputEntry id="UnaryTests_light_zone"><text>"home"</text></inputEntry>
        <inputEntry id="UnaryTests_light_weight"><text>&lt; 5</text></inputEntry>
        <outputEntry id="LiteralExpression_light_rate"><text>4.5</text></outputEntry>
        <outputEntry id="LiteralExpression_light_carrier"><text>"post"</text></outputEntry>
      </rule>
      <rule id="Rule_other">
        <inputEntry id="UnaryTests_other_zone"><text>-</text></inputEntry>
        <inputEntry id="UnaryTests_other_weight"><text>-</text></inputEntry>
        <outputEntry id="LiteralExpression_other_rate"><text>19</text></outputEntry>
        <outputEntry id="LiteralExpression_other_carrier"><text>"freight"</text></outputEntry>
      </rule>
    </decisionTable>
  </decision>
</definitions>
"""


@pytest.fixture
def rates_file(tmp_path: Path) -> Path:
    path = tmp_path / "rates.dmn"
    path.write_text(RATES_DMN)
    return path


def test_deploy_reports_the_decisions_of_a_dmn_file(run: Run, rates_file: Path) -> None:
    first = run("deploy", str(rates_file))
    assert first.exit_code == 0, first.output
    assert first.stdout == (
        f"deployed  decisions Definitions_rates version 1 (Decision_zone, Decision_rate) from {rates_file}\n"
    )
    assert "warning: 'Decision_rate' (line 20): extension attribute camunda:historyTimeToLive is ignored" in (
        first.stderr
    )
    again = run("deploy", "--json", str(rates_file))
    [answer] = json.loads(again.stdout)
    assert (answer["kind"], answer["created"], answer["file"]) == ("decisions", False, str(rates_file))


def test_decisions_lists_the_models(run: Run, rates_file: Path) -> None:
    assert run("decisions").stdout == "no decisions deployed: try `legato deploy FILE.dmn`\n"
    run("deploy", str(rates_file))
    header, row = run("decisions").stdout.splitlines()[:2]
    assert header.split() == ["KEY", "VERSION", "NAME", "DECISIONS", "DEPLOYED"]
    assert row.split()[:5] == ["Definitions_rates", "1", "Rates", "Decision_zone,", "Decision_rate"]
    [model] = json.loads(run("decisions", "--json").stdout)
    assert model["decisions"] == [{"id": "Decision_zone", "name": "Zone"}, {"id": "Decision_rate", "name": "Rate"}]


def test_decide_prints_the_value_and_the_rules_that_matched(run: Run, rates_file: Path) -> None:
    run("deploy", str(rates_file))
    result = run("decide", "Decision_rate", "--var", "country=DE", "--var", "weight=2")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        "Rate (Decision_rate), Definitions_rates version 1",
        'value          {"rate": 4.5, "carrier": "post"}',
        "matched rules  Rule_light",
        'required       Zone = "home" (rules: Rule_home)',
    ]
    as_json = json.loads(run("decide", "Decision_zone", "--vars-json", '{"country": "FR"}', "--json").stdout)
    assert (as_json["value"], as_json["matched_rules"], as_json["version"]) == ("abroad", ["Rule_abroad"], 1)


def test_decide_fails_with_the_error_code(run: Run, rates_file: Path) -> None:
    unknown = run("decide", "Decision_tax")
    assert unknown.exit_code == 1
    assert unknown.stderr.startswith("error DECISION_NOT_FOUND: no decision 'Decision_tax' is deployed")
    run("deploy", str(rates_file))
    bad = run("decide", "Decision_rate", "--vars-json", "[1]")
    assert bad.exit_code == 2
    assert "must be a JSON object" in bad.stderr
