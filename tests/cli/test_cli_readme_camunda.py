"""The README's "Coming from Camunda" commands, parsed out of README.md and run as written.

The commands are read from the README itself, so the section and this test cannot drift:
a renamed decision id or a missing example file fails here.
"""

from __future__ import annotations

import re
import shlex
import shutil
from pathlib import Path

import pytest
from cli_helpers import Run

ROOT = Path(__file__).resolve().parents[2]


def _camunda_commands() -> list[list[str]]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    match = re.search(r"### Coming from Camunda\s*```bash\n(.*?)```", text, re.S)
    assert match, "README.md has no bash block under 'Coming from Camunda'"
    commands = [shlex.split(line, comments=True) for line in match.group(1).splitlines()]
    return [words for words in commands if words]


def test_section_lists_the_commands_it_promises() -> None:
    verbs = [words[1] for words in _camunda_commands()]
    assert verbs == ["deploy", "definitions", "export", "decide"]
    assert all(words[0] == "legato" for words in _camunda_commands())


def test_every_command_runs_as_written(run: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    shutil.copytree(ROOT / "examples", tmp_path / "examples")
    monkeypatch.chdir(tmp_path)
    outputs: dict[str, str] = {}
    for words in _camunda_commands():
        result = run(*words[1:])
        assert result.exit_code == 0, f"{shlex.join(words)}\n{result.output}"
        outputs[words[1]] = result.output
    assert "invoice_approval" in outputs["definitions"]
    exported = (tmp_path / "invoice-exported.bpmn").read_text(encoding="utf-8")
    assert "BPMNDiagram" in exported and "invoice.check" in exported
    assert "medium" in outputs["decide"]


def test_the_decision_answers_by_its_rules(run: Run, tmp_path: Path) -> None:
    assert run("deploy", str(ROOT / "examples" / "credit.dmn")).exit_code == 0
    low = run("decide", "credit_risk", "--var", "amount=10")
    high = run("decide", "credit_risk", "--var", "amount=20000")
    assert "low" in low.output and "high" not in low.output
    assert "high" in high.output
    unknown = run("decide", "no_such_decision", "--var", "amount=10")
    assert unknown.exit_code != 0
