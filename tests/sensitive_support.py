"""A process with sensitive variables, callers with and without `variables:read-sensitive`
(shared by the API, CLI and store tests of sensitive data)."""

from __future__ import annotations

import secrets
import warnings
from typing import Any

from legato.access.authenticator import Authenticator
from legato.runtime.app import Legato
from support import eventually

with warnings.catch_warnings():  # starlette asks for httpx2; httpx is what is installed
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

API = "/api/v1"

IBAN = "DE89370400440532013000"
API_TOKEN = "tok-5f1c0a77e2"
PASSWORD = "hunter2-correct-horse"
CARD = "4111111111111111"

PAY_YAML = """\
process: pay
sensitive: [iban, card*]
steps:
  - start: received
  - user: approve
    inputs:
      account: iban
      amount: amount
  - service: charge
    task_type: pay.charge
    retry:
      max_attempts: 1
  - end: paid
"""
"""`iban` and `card*` declared by the process; `*_token` and `password` come from the settings."""

SETTINGS_PATTERNS = ("*_token", "PASSWORD", "fee")


def charge(job: Any) -> dict[str, Any]:
    """Fails the way handlers do: with a message (and a stack) that quotes the data."""
    raise ValueError(f"the bank refused account {job.variables.get('account', IBAN)} for {IBAN}")


def pay_legato(path: str) -> Legato:
    legato = Legato(path, sensitive=SETTINGS_PATTERNS)
    legato.register("pay.charge", charge)
    return legato


def token_with(
    legato: Legato,
    username: str,
    *,
    role: str | None = None,
    permissions: tuple[str, ...] = (),
    processes: tuple[str, ...] | None = None,
    also: tuple[str, ...] = (),
    password: str | None = None,
) -> str:
    """A personal token of a new user holding `role`, or a custom role of `permissions`."""
    authenticator = Authenticator(legato.store, clock=legato.clock)
    user = authenticator.create_user(username, password or secrets.token_urlsafe(16))
    if role is None:
        role = f"{username}-role"
        authenticator.directory.create_role(role, permissions, now=authenticator.now(), description=None)
    authenticator.directory.grant(role, "user", user.id, now=authenticator.now(), process_keys=processes)
    for other in also:  # more roles, for every process
        authenticator.directory.grant(other, "user", user.id, now=authenticator.now())
    principal = authenticator.principal_of(user)
    return authenticator.issue_token(name="tests", kind="personal", creator=principal, expires_in_days=30).token


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


VARIABLES = {
    "iban": IBAN,
    "amount": 120,
    "api_token": API_TOKEN,
    "customer": {"name": "Ada", "password": PASSWORD, "cards": [{"number": CARD}]},
    "card_holder": {"name": "Ada L.", "since": 2019},
}


def start_pay(client: TestClient) -> str:
    response = client.post(f"{API}/definitions/pay/instances", json={"variables": VARIABLES})
    assert response.status_code == 201, response.text
    return str(response.json()["instance_id"])


def pay_until_incident(client: TestClient) -> str:
    """A `pay` instance whose user task is done and whose charge failed into an incident."""
    instance_id = start_pay(client)
    task = eventually(lambda: client.get(f"{API}/tasks", params={"instance_id": instance_id}).json()["items"])[0]
    done = client.post(f"{API}/tasks/{task['id']}/complete", json={"variables": {"approved": True}})
    assert done.status_code == 200, done.text
    eventually(lambda: client.get(f"{API}/incidents", params={"instance_id": instance_id}).json()["items"])
    return instance_id
