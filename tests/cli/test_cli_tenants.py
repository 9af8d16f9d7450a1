"""`legato tenants` and `--tenant` on deploy, start, definitions and instances."""

from __future__ import annotations

import json
from pathlib import Path

from cli_helpers import Run


def test_tenants_are_created_filled_and_worked_in(run: Run, order_file: Path) -> None:
    assert run("tenants", "list").output.startswith("no tenants")
    assert run("tenants", "create", "acme", "--name", "ACME").exit_code == 0
    assert run("users", "create", "ann", "--no-password").exit_code == 0
    assert "user ann is in tenant acme" in run("tenants", "add", "acme", "user", "ann").output
    listed = json.loads(run("tenants", "list", "--json").output)
    assert [(t["tenant"], t["name"], t["users"]) for t in listed] == [("acme", "ACME", ["ann"])]

    deployed = run("deploy", str(order_file), "--tenant", "acme")
    assert deployed.exit_code == 0, deployed.output
    assert "version 1 in tenant acme" in deployed.output
    assert "version 1 " in run("deploy", str(order_file)).output  # the shared tenant counts its own versions
    table = run("definitions", "--all-versions").output
    assert "TENANT" in table and "acme" in table
    only = json.loads(run("definitions", "--tenant", "acme", "--json").output)
    assert [(d["key"], d["tenant"]) for d in only] == [("order", "acme")]

    started = run("start", "order", "--tenant", "acme", "--var", "amount=5")
    assert started.exit_code == 0, started.output
    assert "in tenant acme" in started.output
    assert run("start", "order", "--var", "amount=5").exit_code == 0
    in_acme = json.loads(run("instances", "--tenant", "acme", "--json").output)
    assert [i["tenant"] for i in in_acme] == ["acme"]
    assert len(json.loads(run("instances", "--json").output)) == 2

    missing = run("deploy", str(order_file), "--tenant", "nowhere")
    assert missing.exit_code == 1 and "TENANT_NOT_FOUND" in missing.output
    assert "no longer in tenant acme" in run("tenants", "remove", "acme", "user", "ann").output
    busy = run("tenants", "delete", "acme")
    assert busy.exit_code == 1 and "IDENTITY_CONFLICT" in busy.output
