"""Decision models in the store: versioned deploys, lookup by decision id, evaluation, audit.

Every test runs on SQLite and on PostgreSQL (the `database_url` fixture).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text

from legato.errors import DecisionNotFound, EvaluationError, ModelInvalid
from legato.model.dmn import Decision, DecisionModel, DecisionTable, HitPolicy, InputClause, OutputClause, Rule
from legato.store import Database, Store, migrate
from legato.store.decisions import checksum

NOW = datetime(2030, 1, 1, 9, 0, tzinfo=UTC)


@pytest.fixture
def store(database_url: str) -> Iterator[Store]:
    opened = Store(database_url)
    yield opened
    opened.close()


def fees(*, large: str = ">= 1000", key: str = "fees", line: int | None = None) -> DecisionModel:
    """A UNIQUE fee table; `large` is the second rule's test, so a test can make it overlap."""
    table = DecisionTable(
        inputs=(InputClause(label="Total", expression="total"),),
        outputs=(OutputClause(name="fee"),),
        rules=(
            Rule(id="small", input_entries=("< 1000",), output_entries=("2.5",), line=line),
            Rule(id="large", input_entries=(large,), output_entries=("10",)),
        ),
        hit_policy=HitPolicy.UNIQUE,
    )
    return DecisionModel(id=key, name="Fees", decisions={"fee": Decision(id="fee", name="Fee", logic=table)})


def test_a_first_deploy_is_version_1_and_an_unchanged_one_is_a_no_op(store: Store) -> None:
    first = store.decisions.deploy(fees(), source="<definitions/>", now=NOW)
    assert (first.created, first.key, first.version, first.decisions) == (True, "fees", 1, ("fee",))
    assert str(first) == "deployed decisions fees version 1: fee"
    again = store.decisions.deploy(fees(), source="<definitions />", now=NOW + timedelta(hours=1))
    assert (again.created, again.version, again.stored.id) == (False, 1, first.stored.id)
    assert again.stored.deployed_at == NOW
    assert str(again) == "unchanged decisions fees version 1: fee"


def test_lines_and_the_order_of_decisions_do_not_make_a_new_version() -> None:
    moved = fees(line=42)
    assert checksum(moved) == checksum(fees())
    assert checksum(fees(large="> 1000")) != checksum(fees())


def test_a_changed_model_is_the_next_version_and_becomes_the_latest(store: Store) -> None:
    store.decisions.deploy(fees(), source="v1", now=NOW)
    second = store.decisions.deploy(fees(large=">= 2000"), source="v2", now=NOW)
    assert (second.created, second.version) == (True, 2)
    assert store.decisions.latest("fee").version == 2
    assert store.decisions.source("fees") == "v2"
    assert store.decisions.source("fees", 1) == "v1"
    assert [(m.key, m.version) for m in store.decisions.list()] == [("fees", 2)]
    assert [(m.key, m.version) for m in store.decisions.list(all_versions=True)] == [("fees", 1), ("fees", 2)]
    summary = store.decisions.list()[0].summary()
    assert summary["decisions"] == [{"id": "fee", "name": "Fee"}]
    assert summary["deployed_at"] == NOW.isoformat()


def test_evaluate_gives_the_value_the_matched_rules_and_the_version(store: Store) -> None:
    store.decisions.deploy(fees(), source="<definitions/>", now=NOW)
    result = store.decisions.evaluate("fee", {"total": 1500})
    assert result == {
        "decision": "fee",
        "name": "Fee",
        "key": "fees",
        "tenant": None,
        "version": 1,
        "value": 10,
        "matched_rules": ["large"],
        "required": [],
        "entries": [{"fee": 10}],
    }


def test_an_unknown_decision_is_decision_not_found(store: Store) -> None:
    store.decisions.deploy(fees(), source="<definitions/>", now=NOW)
    with pytest.raises(DecisionNotFound) as caught:
        store.decisions.evaluate("tax", {})
    assert caught.value.code == "DECISION_NOT_FOUND"
    assert caught.value.status == 404
    assert caught.value.details == {"decision": "tax"}
    with pytest.raises(DecisionNotFound):
        store.decisions.source("taxes")


def test_overlapping_rules_fail_naming_the_rules_and_the_version(store: Store) -> None:
    store.decisions.deploy(fees(large=">= 500"), source="<definitions/>", now=NOW)
    with pytest.raises(EvaluationError) as caught:
        store.decisions.evaluate("fee", {"total": 700})
    error = caught.value
    assert "'small', 'large'" in error.message
    assert "decision model 'fees' version 1" in error.message
    assert error.details["rules"] == ["small", "large"]
    assert (error.details["decision"], error.details["key"], error.details["version"]) == ("fee", "fees", 1)


def test_the_newest_deployment_holding_a_decision_wins_and_a_dropped_decision_stays(store: Store) -> None:
    store.decisions.deploy(fees(key="fees"), source="a", now=NOW)
    store.decisions.deploy(fees(key="pricing", large=">= 5000"), source="b", now=NOW)
    assert (store.decisions.latest("fee").key, store.decisions.evaluate("fee", {"total": 6000})["value"]) == (
        "pricing",
        10,
    )
    other = DecisionModel(
        id="fees",
        decisions={"rate": Decision(id="rate", logic=fees().decisions["fee"].logic)},
    )
    store.decisions.deploy(other, source="c", now=NOW)  # fees v2 no longer has "fee"
    assert store.decisions.latest("rate").version == 2
    assert store.decisions.latest("fee").key == "pricing"


def test_a_model_without_decisions_is_refused(store: Store) -> None:
    with pytest.raises(ModelInvalid, match="defines no decision"):
        store.decisions.deploy(DecisionModel(id="empty", decisions={}), source="<definitions/>", now=NOW)
    assert store.decisions.list() == []


def test_another_store_loads_the_stored_model_and_evaluates_the_same(store: Store, database_url: str) -> None:
    store.decisions.deploy(fees(), source="<definitions/>", now=NOW)
    other = Store(database_url)
    try:
        assert other.decisions.evaluate("fee", {"total": 10}) == store.decisions.evaluate("fee", {"total": 10})
        assert other.decisions.latest("fee") is other.decisions.latest("fee")  # cached: models are immutable
    finally:
        other.close()


def test_recorded_evaluations_are_listed_per_instance_oldest_first(store: Store) -> None:
    store.decisions.deploy(fees(), source="<definitions/>", now=NOW)
    for instance_id, total in (("i-1", 10), ("i-2", 2000), ("i-1", 5000)):
        result = store.decisions.evaluate("fee", {"total": total})
        store.decisions.record(
            result, instance_id=instance_id, element="rate", job_id=f"{instance_id}:3", attempt=1, now=NOW
        )
    first = store.decisions.evaluations(instance_id="i-1")
    assert [(e["value"], e["matched_rules"]) for e in first] == [(2.5, ["small"]), (10, ["large"])]
    assert first[0] == {
        "id": first[0]["id"],
        "decision": "fee",
        "name": "Fee",
        "key": "fees",
        "tenant": None,
        "version": 1,
        "instance_id": "i-1",
        "element": "rate",
        "job_id": "i-1:3",
        "attempt": 1,
        "value": 2.5,
        "matched_rules": ["small"],
        "required": [],
        "evaluated_at": NOW.isoformat(),
    }
    assert [e["instance_id"] for e in store.decisions.evaluations(limit=2)] == ["i-2", "i-1"]


def test_0004_upgrades_a_database_that_holds_processes(database_url: str) -> None:
    database = Database(database_url)
    migrate.upgrade(database, "0003")
    with database.write() as conn:
        conn.execute(
            text(
                "INSERT INTO definitions (key, version, checksum, source_format, source, model, deployed_at) "
                "VALUES ('p', 1, 'x', 'yaml', 's', '{}', 0)"
            )
        )
    migrate.upgrade(database)
    assert migrate.current(database) == migrate.head()
    with database.read() as conn:
        assert conn.execute(text("SELECT key FROM definitions")).scalar_one() == "p"
        assert conn.execute(text("SELECT COUNT(*) FROM decision_models")).scalar_one() == 0
    database.dispose()
