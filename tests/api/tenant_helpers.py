"""A Legato with two tenants and one user in each, on SQLite and PostgreSQL, for the tenant tests.

`alice` belongs to tenant `a` (directly), `bob` to tenant `b` (through the group `b-staff`);
both are operators and modelers, so what stops them is their tenant, never a permission.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from api_helpers import API, TestClient

from legato.access.authenticator import Authenticator
from legato.api import create_app
from legato.runtime.app import Legato
from legato.testing.identity import admin_token

WAITING_YAML = """\
process: {key}
name: {name}
steps:
  - start: begin
  - user: review
    name: Review
  - catch_message: paid
    message: {message}
    correlation_key: order_id
  - end: done
"""


def waiting_yaml(key: str = "order", name: str = "Order", message: str = "order.paid") -> str:
    return WAITING_YAML.format(key=key, name=name, message=message)


@dataclass
class Tenanted:
    legato: Legato
    admin: TestClient
    alice: TestClient
    bob: TestClient

    def deploy(self, client: TestClient, text: str, tenant: str | None = None) -> Any:
        params = {"tenant": tenant} if tenant else {}
        return client.post(
            f"{API}/definitions", params=params, content=text, headers={"Content-Type": "application/yaml"}
        )


def token_for(legato: Legato, username: str) -> str:
    authenticator = Authenticator(legato.store, clock=legato.clock)
    user = authenticator.directory.user(username)
    return authenticator.issue_token(name="t", kind="personal", creator=authenticator.principal_of(user)).token


def tenanted(legato: Legato) -> Iterator[Tenanted]:
    """Create tenants a and b and their users, then yield clients for admin, alice and bob."""
    admin_headers = {"Authorization": f"Bearer {admin_token(legato)}"}
    app = create_app(legato, worker=True)
    with TestClient(app, headers=admin_headers) as admin:
        for body in ({"tenant": "a", "name": "Tenant A"}, {"tenant": "b"}):
            assert admin.post(f"{API}/tenants", json=body).status_code == 201
        for user in ("alice", "bob"):
            response = admin.post(
                f"{API}/users", json={"username": user, "password": "long-enough-1", "roles": ["operator", "modeler"]}
            )
            assert response.status_code == 201, response.text
        assert admin.post(f"{API}/groups", json={"group": "b-staff"}).status_code == 201
        assert admin.put(f"{API}/groups/b-staff/members/user/bob").status_code == 200
        assert admin.put(f"{API}/tenants/a/members/user/alice").status_code == 200
        assert admin.put(f"{API}/tenants/b/members/group/b-staff").status_code == 200
        alice = TestClient(app, headers={"Authorization": f"Bearer {token_for(legato, 'alice')}"})
        bob = TestClient(app, headers={"Authorization": f"Bearer {token_for(legato, 'bob')}"})
        yield Tenanted(legato=legato, admin=admin, alice=alice, bob=bob)
