"""Every `legato` example a user reads parses, and the quick start's examples run as shown.

The examples are read from the README, docs/*.md, each command's `--help` and the server's
banner (doc_examples.py), so a renamed command, a dropped option or an example whose
variables make every instance fail is caught here and not by a new user.
"""

from __future__ import annotations

import shutil
import time
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click
import pytest
from click.testing import CliRunner, Result
from doc_examples import ROOT, Example, banner_examples, doc_examples, help_examples, parse

from legato.api import create_app
from legato.cli import CliContext, cli
from legato.cli import demo as demo_module
from legato.runtime.app import Legato
from legato.runtime.clock import FakeClock
from legato.testing.identity import admin_token

with warnings.catch_warnings():  # starlette asks for httpx2; httpx is what is installed
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

EVERY_EXAMPLE = doc_examples() + help_examples() + banner_examples()

# Run against the quick start's server: these are the commands a reader runs in the second
# terminal. What is not here still parses (test_every_example_names_a_real_command).
NOT_RUN = {
    "server": "serves until stopped (tests/cli/test_cli_end_to_end.py runs it)",
    "worker": "serves until stopped",
    "agent": "serves until stopped, against the reader's server (tests/agent)",
    "login": "asks for the password the server printed; the test holds a token",
    "keys": "works on the reader's key file (tests/cli/test_cli_keys.py)",
    "modify": "names the elements of the reader's own process (tests/cli/test_cli_repair.py runs it)",
    "migrate": "names versions of the reader's own process (tests/cli/test_cli_migrate.py runs it)",
}

PASSWORD = "an-example-password-1"


def _is_path_not_found(error: click.BadParameter) -> bool:
    """`legato deploy order.yaml`: the docs name the reader's own files."""
    return isinstance(getattr(error.param, "type", None), click.Path) and "does not exist" in error.format_message()


def _with_placeholders(example: Example) -> Example:
    """INSTANCE_ID, TASK_ID, INCIDENT_ID stand for ids the reader copies from an answer."""
    instance = "01a2000d6f1c6b0ae1c5e0c2a9f1"
    fake = {"INSTANCE_ID": instance, "TASK_ID": f"{instance}:3", "INCIDENT_ID": "1"}
    return Example(where=example.where, words=tuple(fake.get(word, word) for word in example.words), env=example.env)


def test_the_examples_are_found() -> None:
    """The extraction itself: a broken parser would make the next test pass on nothing."""
    places = {example.where.split(":")[0] for example in EVERY_EXAMPLE}
    assert {"README.md", "docs/cli.md", "docs/repair.md", "docs/security.md", "the server's banner"} <= places
    assert "legato start --help" in places and "legato decide --help" in places
    texts = [example.text for example in EVERY_EXAMPLE]
    assert "legato send order.delivered --key A-1" in texts
    assert "legato show INSTANCE_ID" in texts  # README's <instance-id>
    assert "legato tokens create my-script --days 7" in texts  # inside $(...)
    assert "legato audit export" in texts  # a redirection is not an argument
    port = next(example for example in EVERY_EXAMPLE if example.env)
    assert port.env == (("LEGATO_PORT", "abc"),) and port.words == ("server",)


@pytest.mark.parametrize("example", EVERY_EXAMPLE, ids=lambda example: f"{example.where} {example.text}")
def test_every_example_names_a_real_command(example: Example) -> None:
    try:
        parse(_with_placeholders(example))
    except click.BadParameter as error:
        if not _is_path_not_found(error):
            raise AssertionError(f"{example.where}: {example.text}: {error.format_message()}") from error
    except click.exceptions.Exit:  # --help
        pass
    except click.ClickException as error:
        raise AssertionError(f"{example.where}: {example.text}: {error.format_message()}") from error


class QuickStart:
    """The quick start's server in-process: a new database, the demo deployed with its
    handlers, the worker running on a fake clock (retry backoffs pass at once), and the
    examples directory in the working directory."""

    def __init__(self, legato: Legato, client: TestClient, clock: FakeClock) -> None:
        self.legato, self.client, self.clock = legato, client, clock

    def run(self, example: Example) -> Result | None:
        """The example's result; None when it names what the reader has and we do not: an
        id of something that does not exist here (no open incident yet), or their own file."""
        try:
            words = [self._id(word) for word in example.words]
        except IndexError:
            return None
        if any(word.endswith((".yaml", ".bpmn", ".dmn", ".pdf")) and not Path(word).exists() for word in words):
            return None
        stdin = f"{PASSWORD}\n" if "--password-stdin" in words else None
        context = CliContext(env=dict(example.env), http=self.client, width=200)
        return CliRunner().invoke(cli, words, obj=context, input=stdin, catch_exceptions=False)

    def _id(self, word: str) -> str:
        if word == "INSTANCE_ID":
            return str(self.legato.instances(limit=1)[0]["id"])
        if word == "TASK_ID":
            return str(self.legato.tasks(status="open", limit=1000)[-1]["id"])
        if word == "INCIDENT_ID":
            return str(self.legato.incidents(status="open", limit=1000)[-1]["id"])
        return word

    def settle(self, seconds: float = 20.0) -> None:
        """Let the worker run what is due, moving the clock a little at a time (retry
        backoffs are seconds; the demo's deadlines are days, so none of them fires)."""
        deadline = time.monotonic() + seconds
        quiet = 0
        last: Any = None
        while time.monotonic() < deadline and quiet < 5:
            self.clock.advance(2)
            time.sleep(0.1)
            now = (self.legato.instances(limit=1000), self.legato.incidents(limit=1000))
            quiet = quiet + 1 if now == last else 0
            last = now


@pytest.fixture
def quick_start(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[QuickStart]:
    shutil.copytree(ROOT / "examples", tmp_path / "examples")
    monkeypatch.chdir(tmp_path)
    clock = FakeClock()
    legato = Legato(str(tmp_path / "legato.db"), clock=clock)
    assert demo_module.set_up(legato).deployed
    headers = {"Authorization": f"Bearer {admin_token(legato)}"}
    with TestClient(create_app(legato, worker=True), headers=headers) as client:
        yield QuickStart(legato, client, clock)
    legato.close()


def _runnable(examples: list[Example]) -> list[Example]:
    return [example for example in examples if example.words and example.words[0] not in NOT_RUN]


def _run_all(quick_start: QuickStart, examples: list[Example]) -> list[Example]:
    """Run the examples in order, as a reader would; the ones that ran."""
    failed, ran = [], []
    for example in _runnable(examples):
        result = quick_start.run(example)
        if result is None:
            continue
        ran.append(example)
        if result.exit_code != 0:
            failed.append(f"{example.where}: {example.text}\n{result.output}")
        quick_start.settle()
    assert not failed, "\n".join(failed)
    return ran


def test_the_readme_quick_start_runs_as_written(quick_start: QuickStart) -> None:
    readme = [example for example in doc_examples() if example.where.startswith("README.md")]
    ran = _run_all(quick_start, readme)
    assert {example.words[0] for example in ran} >= {"start", "show", "send", "tasks", "complete", "retry", "decide"}
    orders = {instance["variables"]["order_id"]: instance for instance in quick_start.legato.instances()}
    assert orders["A-1"]["status"] == "completed"  # the carrier's message arrived, it was paid
    assert orders["A-2"]["variables"]["approved"] is True  # approved, now waiting for its carrier
    assert orders["A-3"]["variables"]["amount"] == 300 and orders["A-3"]["variables"]["credit_approved"]
    assert quick_start.legato.incidents() == []
    (incident,) = quick_start.legato.incidents(status="resolved")
    assert incident["instance_id"] == orders["A-3"]["id"]


def test_the_banner_examples_run_and_do_what_they_say(quick_start: QuickStart) -> None:
    ran = _run_all(quick_start, banner_examples())
    assert len(ran) == len(banner_examples())  # every id it names exists by the time it is used
    assert quick_start.legato.incidents() == []
    assert len(quick_start.legato.incidents(status="resolved")) == 1  # A-3's, retried with amount=300


def test_the_help_examples_run_and_leave_no_incident(quick_start: QuickStart) -> None:
    assert quick_start.run(Example(where="setup", words=("deploy", "examples/credit.dmn"))).exit_code == 0
    ran = _run_all(quick_start, help_examples())
    assert {example.words[0] for example in ran} >= {"start", "show", "decide", "cancel", "retry", "variables"}
    assert quick_start.legato.incidents(limit=100) == [], "a --help example started instances that fail"
