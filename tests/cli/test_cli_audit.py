"""`legato audit list | export | verify`, through the server and with --database on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import orjson
from cli_helpers import Run, TestClient
from sqlalchemy import text

from legato.runtime.app import Legato
from legato.store import Store
from legato.store.audit import AuditEntry


def test_list_shows_what_was_done_newest_first(run: Run, deployed: Path) -> None:
    result = run("audit", "list")
    assert result.exit_code == 0, result.output
    assert "definition.deploy" in result.output and "admin" in result.output and "definition:order" in result.output

    as_json = orjson.loads(run("audit", "list", "--json").output)
    assert as_json["items"][0]["action"] == "definition.deploy"

    run("users", "create", "ann", "--no-password")
    run("users", "create", "bob", "--no-password")
    only_users = orjson.loads(run("audit", "list", "--action", "user.*", "--json").output)["items"]
    assert [row["target"]["id"] for row in only_users] == ["bob", "ann"]
    one = orjson.loads(run("audit", "list", "--target", "user:ann", "--json").output)["items"]
    assert [row["action"] for row in one] == ["user.create"]

    paged = run("audit", "list", "--action", "user.*", "--limit", "1")
    assert "more: legato audit list --cursor" in paged.output
    cursor = paged.output.rsplit("--cursor ", 1)[1].split()[0]
    older = orjson.loads(run("audit", "list", "--action", "user.*", "--cursor", cursor, "--json").output)["items"]
    assert [row["target"]["id"] for row in older] == ["ann"]


def test_export_writes_json_lines_and_verify_names_a_changed_row(run: Run, deployed: Path, legato: Legato) -> None:
    run("users", "create", "ann", "--no-password")
    exported = run("audit", "export")
    assert exported.exit_code == 0, exported.output
    lines = [orjson.loads(line) for line in exported.output.splitlines()]
    assert [line["action"] for line in lines] == ["definition.deploy", "user.create"]
    assert lines[1]["prev_hash"] == lines[0]["hash"]

    verified = run("audit", "verify")
    assert verified.exit_code == 0, verified.output
    assert "the audit log holds: 3 rows" in verified.output  # the export was recorded too

    with legato.store.database.write() as conn:
        conn.execute(text("UPDATE audit_log SET actor = 'somebody-else' WHERE seq = 2"))
    broken = run("audit", "verify")
    assert broken.exit_code == 1
    assert "AUDIT_CHAIN_BROKEN" in broken.output and "row 2 changed" in broken.output


def test_verify_list_and_export_straight_from_the_database(run: Run, database_url: str) -> None:
    store = Store(database_url)
    for index in range(3):
        store.audit.append(
            AuditEntry(
                action="instance.cancel", actor="ann", actor_kind="user", target_kind="instance", target_id=f"i{index}"
            ),
            now=1_700_000_000.0 + index,
        )
    store.close()

    verified = run("audit", "verify", "--database", database_url)
    assert verified.exit_code == 0, verified.output
    assert "3 rows" in verified.output
    listed = orjson.loads(run("audit", "list", "--database", database_url, "--json").output)["items"]
    assert [row["target"]["id"] for row in listed] == ["i2", "i1", "i0"]
    since = run("audit", "list", "--database", database_url, "--since", "2023-11-14T22:13:21+00:00", "--json")
    assert [row["seq"] for row in orjson.loads(since.output)["items"]] == [3, 2]
    exported = run("audit", "export", "--database", database_url, "--target", "instance:i1")
    assert [orjson.loads(line)["seq"] for line in exported.output.splitlines()] == [2]

    store = Store(database_url)
    with store.database.write() as conn:
        conn.execute(text("DELETE FROM audit_log WHERE seq = 2"))
    store.close()
    broken = run("audit", "verify", "--database", database_url, "--json")
    assert broken.exit_code == 1
    assert "row 2 missing" in broken.output
    assert orjson.loads(broken.output.split("\nerror")[0])["broken"]["reason"] == "missing"


def test_bad_options_are_refused(run: Run, tmp_path: Path) -> None:
    bad_time = run("audit", "list", "--database", str(tmp_path / "x.db"), "--since", "yesterday")
    assert bad_time.exit_code == 2 and "--since must be an ISO 8601" in bad_time.output
    over_http = run("audit", "list", "--since", "yesterday")
    assert over_http.exit_code == 1 and "INVALID_INPUT" in over_http.output
    not_legato = tmp_path / "plain.db"
    not_legato.write_bytes(b"")
    missing = run("audit", "verify", "--database", str(not_legato))
    assert missing.exit_code == 1 and "DATABASE_UNAVAILABLE" in missing.output


def test_a_user_kept_to_a_tenant_lists_only_its_tenants_rows(
    run: Run, order_file: Path, legato: Legato, server: TestClient
) -> None:
    from legato.access.authenticator import Authenticator

    assert run("tenants", "create", "acme").exit_code == 0
    assert run("users", "create", "ann", "--no-password", "--role", "operator").exit_code == 0
    assert run("tenants", "add", "acme", "user", "ann").exit_code == 0
    assert run("deploy", str(order_file), "--tenant", "acme").exit_code == 0
    assert run("deploy", str(order_file)).exit_code == 0  # the shared tenant's

    table = run("audit", "list", "--tenant", "acme").output
    assert "tenant" in table and "acme" in table and "definition.deploy" in table
    only = orjson.loads(run("audit", "list", "--tenant", "acme", "--json").output)["items"]
    assert [(row["action"], row["tenant"]) for row in only] == [("definition.deploy", "acme")]

    authenticator = Authenticator(legato.store, clock=legato.clock)
    ann = authenticator.principal_of(authenticator.directory.user("ann"))
    token = authenticator.issue_token(name="cli", kind="personal", creator=ann).token
    as_ann = TestClient(server.app, headers={"Authorization": f"Bearer {token}"})
    mine = orjson.loads(run("audit", "list", "--json", http=as_ann).output)["items"]
    assert sorted(row["tenant"] for row in mine) == ["", "acme"]  # no user, tenant or login rows
    lines = [orjson.loads(line) for line in run("audit", "export", http=as_ann).output.splitlines()]
    assert sorted(row["tenant"] for row in lines) == ["", "acme"]
    refused = run("audit", "list", "--tenant", "other", http=as_ann)
    assert refused.exit_code == 1 and "TENANT_DENIED" in refused.output

    direct = run("audit", "list", "--database", str(legato.store.database.url).removeprefix("sqlite:///"), "--json")
    assert direct.exit_code == 0, direct.output
    shared = run(
        "audit", "export", "--database", str(legato.store.database.url).removeprefix("sqlite:///"), "--tenant", ""
    )
    assert [orjson.loads(line)["tenant"] for line in shared.output.splitlines()] == [""]
