"""The inbox's lists on SQLite and PostgreSQL: filters, the three orders, keyset pages, totals,
and the query plans of the common lists."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import event, text

from legato.errors import InvalidCursor, InvalidFilter
from legato.formats.builder import Process
from legato.runtime.app import Legato
from legato.runtime.clock import FakeClock
from legato.store import Store
from legato.store.search import VariableFilter
from legato.store.task_search import TaskFilter, TaskSearch

START = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)


@pytest.fixture(params=["sqlite", "postgres"])
def app(request: pytest.FixtureRequest, tmp_path: Any) -> Iterator[Legato]:
    url = str(tmp_path / "search.db") if request.param == "sqlite" else str(request.getfixturevalue("postgres_url"))
    legato = Legato(Store(url), clock=FakeClock(START))
    directory = legato.store.directory
    for user in ("ada", "bob"):
        directory.create_user(user, password_hash=None, now=0)
    directory.create_group("accounting", now=0)
    directory.create_group("juniors", now=0)
    directory.add_member("accounting", "group", "juniors")
    directory.add_member("juniors", "user", "bob")
    for key, groups in (("invoice", ["accounting"]), ("leave", ["hr"])):
        p = Process(key)
        p.start("s").then(
            p.user("review", candidate_groups=groups, due_date="=due", priority="=prio", candidate_users=["=who"])
        ).then(p.end("e"))
        legato.deploy(p.build())
    yield legato
    legato.close()


def open_tasks(app: Legato) -> dict[str, dict[str, Any]]:
    """Six tasks, a minute apart: name -> task."""
    specs = [
        ("a", "invoice", "PT1H", 50, None, 100),
        ("b", "invoice", "P2D", 90, "ada", 5),
        ("c", "leave", None, 10, None, 7),
        ("d", "invoice", "PT30M", 90, None, 100),
        ("e", "leave", "P10D", 50, None, 42),
        ("f", "invoice", None, 70, "ada", 100),
    ]
    tasks = {}
    for name, process, due, prio, who, amount in specs:
        started = app.start(process, {"due": due, "prio": prio, "who": who, "amount": amount, "name": name})
        tasks[name] = app.task_for(started.instance_id)
        app.clock.advance(seconds=60)  # type: ignore[attr-defined]
    app.claim_task(tasks["f"]["id"], "ada")
    return tasks


def names(app: Legato, tasks: dict[str, dict[str, Any]], where: TaskFilter, sort: str = "created") -> list[str]:
    by_id = {task["id"]: name for name, task in tasks.items()}
    page = app.store.task_search.tasks(where, sort=sort)
    assert page.total == len(page.items)
    return [by_id[item["id"]] for item in page.items]


def test_filters_each_narrow_the_list(app: Legato) -> None:
    tasks = open_tasks(app)
    assert names(app, tasks, TaskFilter()) == ["a", "b", "c", "d", "e", "f"]
    assert names(app, tasks, TaskFilter(assignee="ada")) == ["f"]
    assert names(app, tasks, TaskFilter(unassigned=True)) == ["a", "b", "c", "d", "e"]
    assert names(app, tasks, TaskFilter(process="leave")) == ["c", "e"]
    # offered to bob: unassigned tasks of accounting (bob is in juniors, within accounting)
    assert names(app, tasks, TaskFilter(offered_to=("bob", frozenset({"juniors", "accounting"})))) == ["a", "b", "d"]
    # offered to ada: by name (b), through no group; f is hers already
    assert names(app, tasks, TaskFilter(offered_to=("ada", frozenset()))) == ["b"]
    assert names(app, tasks, TaskFilter(candidate_group="HR")) == ["c", "e"]
    assert names(app, tasks, TaskFilter(candidate_user="ada")) == ["b", "f"]
    now = app.clock.now()  # six minutes after the first task opened
    assert names(app, tasks, TaskFilter(due_before=START + timedelta(hours=1))) == ["d"]  # a: due exactly then
    assert names(app, tasks, TaskFilter(due_before=now + timedelta(days=3))) == ["a", "b", "d"]
    assert names(app, tasks, TaskFilter(due_after=now + timedelta(days=3))) == ["e"]
    assert names(app, tasks, TaskFilter(priority_min=70)) == ["b", "d", "f"]
    assert names(app, tasks, TaskFilter(priority_min=20, priority_max=60)) == ["a", "e"]
    amount = (VariableFilter(name="amount", value=100),)
    assert names(app, tasks, TaskFilter(variables=amount)) == ["a", "d", "f"]
    assert names(app, tasks, TaskFilter(variables=amount, process="invoice", assignee="ada")) == ["f"]
    app.complete_task(tasks["a"]["id"], {})
    assert names(app, tasks, TaskFilter(status="completed")) == ["a"]
    assert names(app, tasks, TaskFilter(status=None, process="invoice")) == ["a", "b", "d", "f"]


def test_the_three_orders(app: Legato) -> None:
    tasks = open_tasks(app)
    assert names(app, tasks, TaskFilter(), sort="due") == ["d", "a", "b", "e", "c", "f"]  # undated last
    assert names(app, tasks, TaskFilter(), sort="priority") == ["b", "d", "f", "a", "e", "c"]  # oldest first within
    assert names(app, tasks, TaskFilter(due_before=START + timedelta(days=5)), sort="due") == ["d", "a", "b"]


@pytest.mark.parametrize("sort", ["created", "due", "priority"])
def test_keyset_pages_walk_every_order_without_gaps_or_repeats(app: Legato, sort: str) -> None:
    tasks = open_tasks(app)
    whole = names(app, tasks, TaskFilter(), sort=sort)
    by_id = {task["id"]: name for name, task in tasks.items()}
    seen: list[str] = []
    cursor = None
    while True:
        page = app.store.task_search.tasks(TaskFilter(), sort=sort, limit=2, cursor=cursor)
        assert page.total == 6
        seen.extend(by_id[item["id"]] for item in page.items)
        cursor = page.next_cursor
        if cursor is None:
            break
    assert seen == whole
    with pytest.raises(InvalidCursor):  # a cursor of one order is not one of another
        other = "priority" if sort != "priority" else "created"
        first = app.store.task_search.tasks(TaskFilter(), sort=sort, limit=2)
        assert first.next_cursor is not None
        app.store.task_search.tasks(TaskFilter(), sort=other, cursor=first.next_cursor)


def test_bad_filters_name_their_field(app: Legato) -> None:
    search = app.store.task_search
    for kwargs, field in (({"sort": "name"}, "sort"), ({"limit": 0}, "limit")):
        with pytest.raises(InvalidFilter) as caught:
            search.tasks(TaskFilter(), **kwargs)
        assert caught.value.details["field"] == field
    with pytest.raises(InvalidFilter) as caught:
        search.tasks(TaskFilter(status="done"))
    assert caught.value.details["field"] == "status"


# -- query plans -------------------------------------------------------------------------------

PLANS = [
    pytest.param(TaskFilter(assignee="ada"), "created", "ix_user_tasks_status_assignee", id="my-tasks"),
    pytest.param(TaskFilter(process="invoice"), "created", "ix_user_tasks_status_process", id="by-process"),
    pytest.param(TaskFilter(due_before=START), "due", "ix_user_tasks_status_due", id="overdue"),
    pytest.param(TaskFilter(), "priority", "ix_user_tasks_status_priority", id="by-priority"),
    pytest.param(
        TaskFilter(offered_to=("bob", frozenset({"accounting"}))), "created", "pk_task_candidates", id="offered"
    ),
]


@pytest.mark.parametrize(("where", "sort", "index"), PLANS)
def test_the_common_lists_read_their_index(database_url: str, where: TaskFilter, sort: str, index: str) -> None:
    """The statements TaskSearch really sends, explained (PostgreSQL with sequential scans off,
    as in tests/store/test_query_plans.py: the table is small, the index must be usable)."""
    store = Store(database_url)
    captured: list[tuple[str, Any]] = []

    def capture(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, many: bool) -> None:
        if "user_tasks t" in statement and not statement.startswith("EXPLAIN"):
            captured.append((statement, parameters))

    event.listen(store.database.engine, "before_cursor_execute", capture)
    TaskSearch(store.database).tasks(where, sort=sort)
    event.remove(store.database.engine, "before_cursor_execute", capture)
    statement, parameters = next((s, p) for s, p in captured if "ORDER BY" in s)
    with store.database.read() as conn:
        if store.database.is_sqlite:
            rows = conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters).all()
            plan = "\n".join(str(row[-1]) for row in rows)
        else:
            conn.execute(text("SET LOCAL enable_seqscan = off"))
            plan = "\n".join(str(row[0]) for row in conn.exec_driver_sql("EXPLAIN " + statement, parameters))
    store.close()
    if index == "pk_task_candidates" and store.database.is_sqlite:
        index = "sqlite_autoindex_task_candidates_1"  # SQLite's name for the primary key
    assert index in plan, plan
    assert "SCAN t\n" not in plan + "\n" and "Seq Scan on user_tasks" not in plan, plan
    if where.offered_to is not None and "SEARCH" in plan:
        # SQLite: the candidates drive, each task is then found by its id. (PostgreSQL's plan on
        # empty tables without statistics says nothing about the join order; its seek on the
        # candidates is what is checked.)
        assert "ix_user_tasks_status " not in plan and "ix_user_tasks_status_" not in plan, plan
