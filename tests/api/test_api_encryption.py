"""Encryption at rest through the API, on SQLite and PostgreSQL: transparent for who may read,
masked for who may not, and a missing key or a changed value a 503 problem, never a 500 or ciphertext."""

from __future__ import annotations

from collections.abc import Iterator

import orjson
import pytest
from api_helpers import API, TestClient, assert_problem
from sqlalchemy import text

from legato.api import create_app
from legato.runtime.app import Legato
from legato.store import Store
from legato.store.sealing import Keyring, new_key
from legato.testing.identity import admin_token
from sensitive_support import IBAN, PAY_YAML, SETTINGS_PATTERNS, bearer, charge, pay_until_incident, token_with


def serve(url: str, keys: Keyring | None) -> tuple[Legato, TestClient]:
    legato = Legato(Store(url, sensitive=SETTINGS_PATTERNS, encryption_keys=keys))
    legato.register("pay.charge", charge)
    client = TestClient(create_app(legato, worker=True), headers=bearer(admin_token(legato)))
    return legato, client


@pytest.fixture
def ring() -> Keyring:
    return Keyring(keys=(new_key(),))


@pytest.fixture
def served(database_url: str, ring: Keyring) -> Iterator[tuple[Legato, TestClient]]:
    legato, client = serve(database_url, ring)
    with client:
        yield legato, client
    legato.close()


def test_readers_see_plaintext_or_masks_as_without_encryption(served: tuple[Legato, TestClient]) -> None:
    legato, client = served
    assert (
        client.post(f"{API}/definitions", content=PAY_YAML, headers={"Content-Type": "application/yaml"}).status_code
        == 201
    )
    instance_id = pay_until_incident(client)
    detail = client.get(f"{API}/instances/{instance_id}").json()
    assert detail["variables"]["iban"] == IBAN
    incident = client.get(f"{API}/incidents", params={"instance_id": instance_id}).json()["items"][0]
    assert IBAN in incident["message"]
    viewer = bearer(token_with(legato, "vera", role="viewer"))
    masked = client.get(f"{API}/instances/{instance_id}", headers=viewer).json()
    assert masked["variables"]["iban"] == "***" and "/variables/iban" in masked["masked"]
    with legato.store.database.read() as conn:
        assert IBAN not in conn.execute(text("SELECT variables FROM instances")).scalar_one()


def test_a_missing_key_or_a_changed_value_is_a_503_problem(
    database_url: str, served: tuple[Legato, TestClient]
) -> None:
    legato, client = served
    client.post(f"{API}/definitions", content=PAY_YAML, headers={"Content-Type": "application/yaml"})
    instance_id = pay_until_incident(client)
    with legato.store.database.write() as conn:
        stored = orjson.loads(conn.execute(text("SELECT variables FROM instances")).scalar_one())
        token = stored["iban"]["$sealed"]
        stored["iban"]["$sealed"] = token[:-4] + ("AAAA" if token[-4:] != "AAAA" else "BBBB")
        conn.execute(text("UPDATE instances SET variables = :v"), {"v": orjson.dumps(stored).decode()})
    tampered = assert_problem(client.get(f"{API}/instances/{instance_id}"), 503, "SEALED_VALUE_TAMPERED")
    assert "does not open" in tampered["detail"] and tampered["key_id"]
    assert IBAN not in orjson.dumps(tampered).decode()

    other, stranger = serve(database_url, Keyring(keys=(new_key(),)))
    try:
        with stranger:
            problem = assert_problem(stranger.get(f"{API}/incidents"), 503, "ENCRYPTION_KEY_MISSING")
            assert problem["key_id"] and "LEGATO_ENCRYPTION_KEY_FILE" in problem["detail"]
            assert stranger.get(f"{API}/instances").status_code == 200  # lists without variables still work
    finally:
        other.close()
