"""What the CLI prints of sensitive variables: the server's masked answers, for a viewer."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from legato.api import create_app
from legato.cli import CliContext, cli
from legato.runtime.app import Legato
from legato.testing.identity import admin_token
from sensitive_support import (
    API,
    IBAN,
    PASSWORD,
    PAY_YAML,
    TestClient,
    bearer,
    pay_legato,
    pay_until_incident,
    token_with,
)


@pytest.fixture
def legato(tmp_path: Path) -> Iterator[Legato]:
    app = pay_legato(str(tmp_path / "cli-sensitive.db"))
    yield app
    app.close()


def run(client: TestClient, *args: str) -> str:
    result = CliRunner().invoke(cli, list(args), obj=CliContext(env={}, http=client, width=200), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def test_show_instances_tasks_and_incidents_print_masks_for_a_viewer(legato: Legato) -> None:
    app = create_app(legato, worker=True)
    with TestClient(app, headers=bearer(admin_token(legato))) as admin:
        assert admin.post(f"{API}/definitions", files={"file": ("pay.yaml", PAY_YAML)}).status_code == 201
        instance_id = pay_until_incident(admin)
        viewer = TestClient(app, headers=bearer(token_with(legato, "vera", role="viewer")))
        operator = TestClient(app, headers=bearer(token_with(legato, "otto", role="operator")))
        for args in (("show", instance_id), ("show", instance_id, "--json"), ("instances", "--json", "--variables")):
            shown = run(viewer, *args)
            assert IBAN not in shown and PASSWORD not in shown, args
            assert "***" in shown, args
            assert IBAN in run(operator, *args), args
        incidents = run(viewer, "incidents", "--json")
        assert IBAN not in incidents and "Traceback" not in incidents and '"details_hidden": true' in incidents
        assert "Traceback" in run(operator, "incidents", "--json")
