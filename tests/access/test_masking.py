"""Masking decisions on plain dictionaries: names, nesting, equal values, text, pointers."""

from __future__ import annotations

from legato.access import Principal
from legato.access.masking import (
    MASK,
    Secrets,
    Visibility,
    mask_event,
    mask_incident,
    mask_instance,
    mask_variables,
    secrets_of,
)
from legato.model.sensitive import SensitiveNames, parse_patterns

NAMES = SensitiveNames(("iban", "*_token", "Card*"))
HIDDEN = Visibility(sensitive=False, stacks=False)


def test_patterns_are_globs_matched_without_regard_to_case() -> None:
    assert NAMES.matches("IBAN") and NAMES.matches("api_token") and NAMES.matches("cardNumber")
    assert not NAMES.matches("iban2") and not NAMES.matches("token") and not NAMES.matches("discard")
    assert not SensitiveNames().matches("iban")
    assert parse_patterns(" password, *_token ,, iban*") == ("password", "*_token", "iban*")
    assert NAMES.including(["pin"]).matches("PIN") and not NAMES.matches("pin")


def test_nested_values_are_masked_whole_and_nested_keys_by_name() -> None:
    variables = {
        "iban": {"country": "DE", "digits": [1, 2]},
        "customer": {"name": "Ada", "api_token": "t-1234", "list": [{"card": 1}]},
        "amount": 5,
    }
    masked, pointers = mask_variables(variables, NAMES)
    assert masked == {
        "iban": MASK,
        "customer": {"name": "Ada", "api_token": MASK, "list": [{"card": MASK}]},
        "amount": 5,
    }
    assert pointers == ["/variables/iban", "/variables/customer/api_token", "/variables/customer/list/0/card"]
    assert variables["iban"] == {"country": "DE", "digits": [1, 2]}, "the input is not changed"


def test_values_equal_to_a_secret_are_masked_wherever_they_are_and_text_is_scrubbed() -> None:
    secrets = secrets_of({"iban": "DE123456", "pin": "12", "api_token": 98765432, "other": "DE123456x"}, NAMES)
    assert secrets.values == frozenset({"DE123456", "98765432"})
    masked, _ = mask_variables({"account": "DE123456", "n": 98765432, "ok": "DE1234"}, NAMES, secrets)
    assert masked == {"account": MASK, "n": MASK, "ok": "DE1234"}
    assert secrets.scrub("refused DE123456 and DE1234567") == "refused *** and ***7"
    assert Secrets(frozenset({"abcd", "abcdef"})).scrub("abcdefg") == "***g", "the longest secret goes first"


def test_pointers_escape_slashes_and_tildes() -> None:
    _, pointers = mask_variables({"a/b": {"x~_token": 1}}, NAMES)
    assert pointers == ["/variables/a~1b/x~0_token"]


def test_an_instance_with_history_tasks_and_incidents() -> None:
    secrets = secrets_of({"iban": "DE123456"}, NAMES)
    instance = {
        "id": "i",
        "variables": {"iban": "DE123456"},
        "history": [{"seq": 1, "data": {"variables": {"iban": "DE123456"}, "message": "DE123456 bad"}}],
        "tasks": [{"payload": {"to": "DE123456"}}],
        "incidents": [{"message": "no DE123456", "details": "Traceback DE123456"}],
    }
    shown = mask_instance(instance, NAMES, secrets, HIDDEN)
    assert shown["variables"] == {"iban": MASK} and shown["masked"] == ["/variables/iban"]
    assert shown["history"][0]["data"] == {"variables": {"iban": MASK}, "message": "*** bad"}
    assert shown["history"][0]["masked"] == ["/data/message", "/data/variables/iban"]
    assert shown["tasks"][0]["payload"] == {"to": MASK}
    assert shown["incidents"][0] == {
        "message": "no ***",
        "details": None,
        "details_hidden": True,
        "masked": ["/message"],
    }
    everything = mask_instance(instance, NAMES, secrets, Visibility(sensitive=True, stacks=True))
    assert everything["variables"] == {"iban": "DE123456"} and everything["masked"] == []
    assert everything["incidents"][0]["details"] == "Traceback DE123456"


def test_a_stack_without_read_sensitive_is_scrubbed_and_an_event_without_data_passes() -> None:
    secrets = secrets_of({"iban": "DE123456"}, NAMES)
    incident = mask_incident(
        {"message": "m", "details": "at DE123456"}, secrets, Visibility(sensitive=False, stacks=True)
    )
    assert incident["details"] == "at ***" and incident["masked"] == ["/details"]
    assert mask_incident({"message": "m", "details": None}, secrets, HIDDEN)["details_hidden"] is False
    assert mask_event({"seq": 1, "data": None}, NAMES, secrets, HIDDEN) == {"seq": 1, "data": None, "masked": []}


def test_visibility_follows_the_principals_grants() -> None:
    viewer = Principal(name="v", kind="user", permissions=frozenset({"instances:read"}))
    narrowed = Principal(
        name="n", kind="user", permissions=frozenset(), scoped={"variables:read-sensitive": frozenset({"pay"})}
    )
    operator = Principal(name="o", kind="user", permissions=frozenset({"variables:*", "incidents:*"}))
    assert Visibility.of(viewer) == HIDDEN
    assert Visibility.of(narrowed, "pay").sensitive and not Visibility.of(narrowed, "other").sensitive
    assert Visibility.of(operator) == Visibility(sensitive=True, stacks=True)
