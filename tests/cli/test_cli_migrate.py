"""`legato migrate KEY --from N --to M [--map A=B]`: the plan, a dry run, progress, a line per failure."""

from __future__ import annotations

import json

from cli_helpers import Run

from legato.formats.builder import Process
from legato.model.process import ProcessDefinition
from legato.runtime.app import Legato


def claim(review: str, *, approve: bool = False) -> ProcessDefinition:
    p = Process("claim")
    step = p.start("filed").then(p.user(review))
    if approve:
        step = step.then(p.user("approve"))
    step.then(p.end("settled"))
    return p.build()


def test_a_dry_run_shows_the_plan_and_who_would_fail_then_the_migration_moves_them(run: Run, legato: Legato) -> None:
    legato.deploy(claim("assess"))
    ids = [legato.start("claim", {}).instance_id for _ in range(3)]
    legato.deploy(claim("triage", approve=True))
    dry = run("migrate", "claim", "--from", "1", "--to", "2", "--dry-run")
    assert dry.exit_code == 0, dry.stderr
    lines = dry.stdout.splitlines()
    assert lines[0] == "plan claim 1 -> 2: filed, settled"
    assert lines[1] == "3 instances match; nothing changed (dry run)"
    assert lines[2].startswith(f"would fail: instance {ids[0]}: MIGRATION_INVALID: ")
    assert "'assess': a token is at this element, which the plan does not map" in lines[2]
    assert all(legato.instance(i)["version"] == 1 for i in ids)

    done = run("migrate", "claim", "--from", "1", "--to", "2", "--map", "assess=triage", "--batch", "2")
    assert done.exit_code == 0, done.stderr
    assert done.stdout.splitlines()[-1] == "migrated 3 instances, 0 skipped, 0 failed"
    assert all(legato.instance(i)["waiting_at"] == ["triage"] for i in ids)
    nothing = run("migrate", "claim", "--from", "1", "--to", "2", "--map", "assess=triage")
    assert nothing.stdout == "no instances match: nothing to migrate\n"


def test_instances_that_cannot_move_are_named_and_the_exit_status_is_1(run: Run, legato: Legato) -> None:
    legato.deploy(claim("assess"))
    instance_id = legato.start("claim", {}).instance_id
    legato.deploy(claim("triage"))
    failed = run("migrate", "claim", "--from", "1", "--to", "2", "--json")
    assert failed.exit_code == 1
    [answer] = json.loads(failed.stdout)
    assert answer["failed"] == 1 and answer["items"][0]["instance_id"] == instance_id
    assert answer["items"][0]["problems"][0]["element"] == "assess"


def test_a_bad_plan_or_map_is_refused_with_the_element_named(run: Run, legato: Legato) -> None:
    legato.deploy(claim("assess"))
    legato.start("claim", {})
    legato.deploy(claim("triage"))
    wrong = run("migrate", "claim", "--from", "1", "--to", "2", "--map", "assess=settled")
    assert wrong.exit_code == 1
    assert wrong.stderr.startswith("error MIGRATION_INVALID: the migration plan cannot be applied: 'assess': ")
    usage = run("migrate", "claim", "--from", "1", "--to", "2", "--map", "assess")
    assert usage.exit_code == 1 and "--map takes SOURCE=TARGET" in usage.stderr
    missing = run("migrate", "claim", "--to", "2")
    assert missing.exit_code == 2
