"""Job failures, retries, incidents and recoveries each leave one log line with the job's ids.

Runs on SQLite and PostgreSQL with the in-process worker and a fake clock: a handler fails,
is retried when the clock moves, fails again into an incident, and after a person retries
the incident it succeeds. Every line names the instance, the element and the job; lines a
handler logs itself carry the same ids; the JSON format has them as fields.
"""

from __future__ import annotations

import io
import json
import logging
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from legato.formats.builder import Process, RetryPolicy
from legato.runtime.app import Legato
from legato.runtime.clock import FakeClock
from legato.runtime.handlers import Job
from legato.runtime.log_setup import ContextFilter, JsonFormatter, configure, log_context, parse_levels
from legato.runtime.worker import WorkerSettings
from support import eventually


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def app(database_url: str, clock: FakeClock) -> Iterator[Legato]:
    legato = Legato(
        database_url,
        clock=clock,
        worker_settings=WorkerSettings(concurrency=4, lock_seconds=5, poll_interval=0.05, shutdown_grace=2),
    )
    yield legato
    legato.close()


@pytest.fixture
def job_lines(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    caplog.set_level(logging.DEBUG, logger="legato.jobs")
    caplog.set_level(logging.INFO, logger="shipping")
    context = ContextFilter()
    caplog.handler.addFilter(context)
    yield caplog
    caplog.handler.removeFilter(context)


def _model() -> Any:
    p = Process("p")
    retry = RetryPolicy(max_attempts=2, initial_backoff=10, jitter=0)
    p.start("start").then(p.service("ship", "ship", retry=retry)).then(p.end("end"))
    return p.build()


def test_failure_retry_incident_and_recovery_each_log_a_line(
    app: Legato, clock: FakeClock, job_lines: pytest.LogCaptureFixture
) -> None:
    broken = threading.Event()
    broken.set()

    @app.handler("ship")
    def ship(job: Job) -> dict[str, Any]:
        logging.getLogger("shipping").info("calling the carrier")
        if job.variables["flaky"] and job.attempt == 1:
            raise ConnectionError("the carrier timed out")
        if not job.variables["flaky"] and broken.is_set():
            raise ConnectionError("the carrier is down")
        return {"shipped": True}

    app.deploy(_model())
    with app.running():
        flaky = app.start("p", {"flaky": True}).instance_id
        down = app.start("p", {"flaky": False}).instance_id
        jobs = {i: f"{i}:" + str(eventually(lambda i=i: _job_wait(app, i))) for i in (flaky, down)}
        eventually(lambda: len(_lines(job_lines.records, "retrying at")) == 2)
        clock.advance(10)
        assert app.wait(flaky)["status"] == "completed"
        [incident] = eventually(lambda: app.incidents())
        eventually(lambda: _lines(job_lines.records, "incident is open"))
        broken.clear()
        app.retry_incident(incident["id"], actor="ops")
        assert app.wait(down)["status"] == "completed"

    lines = [r for r in job_lines.records if r.name == "legato.jobs"]
    for instance_id, expected in (
        (flaky, [("WARNING", "retrying at"), ("INFO", "recovered")]),
        (down, [("WARNING", "retrying at"), ("ERROR", "incident is open"), ("INFO", "retried by ops")]),
    ):
        mine = [r for r in lines if r.instance_id == instance_id]
        assert [(r.levelname, _kind(r.getMessage())) for r in mine] == expected, [r.getMessage() for r in mine]
        for record in mine:
            assert (record.element, record.job_id) == ("ship", jobs[instance_id]), record
    first = next(r for r in lines if r.instance_id == down)
    assert "failed on attempt 1: ConnectionError" in first.getMessage()
    assert "the carrier is down" not in first.getMessage()  # messages may quote variables: not logged
    own = [r for r in job_lines.records if r.name == "shipping"]
    assert len(own) == 5  # the handler's own lines carry the job's ids too
    assert {(r.instance_id, r.element, r.job_id) for r in own} == {(i, "ship", jobs[i]) for i in (flaky, down)}


def _job_wait(app: Legato, instance_id: str) -> int | None:
    with app.store.database.read() as conn:
        row = conn.exec_driver_sql(f"SELECT wait FROM jobs WHERE instance_id = '{instance_id}'").first()
    return None if row is None else int(row[0])


def _lines(records: list[logging.LogRecord], text: str) -> list[logging.LogRecord]:
    return [r for r in records if r.name == "legato.jobs" and text in r.getMessage()]


def _kind(message: str) -> str:
    for kind in ("retrying at", "incident is open", "retried by ops", "recovered"):
        if kind in message:
            return kind
    return message


def test_json_lines_carry_the_fields(tmp_path: Any) -> None:
    stream = io.StringIO()
    handler = configure(format="json", levels="warning,legato.jobs=info", stream=stream)
    try:
        logging.getLogger("legato.jobs").info(
            "job failed", extra={"instance_id": "01ab", "element": "ship", "job_id": "01ab:3"}
        )
        with log_context(trace_id="4bf92f3577b34da6a3ce929d0e0e4736"):
            logging.getLogger("legato.api").warning("a request went wrong")
        logging.getLogger("legato.api").info("not at this level")
        try:
            raise ValueError("broken")
        except ValueError:
            logging.getLogger("legato.worker").exception("a bug")
    finally:
        logging.getLogger().removeHandler(handler)
        logging.getLogger().setLevel(logging.WARNING)
        logging.getLogger("legato.jobs").setLevel(logging.NOTSET)
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert [line["message"] for line in lines] == ["job failed", "a request went wrong", "a bug"]
    first, second, third = lines
    assert {k: first[k] for k in ("level", "logger", "instance_id", "element", "job_id")} == {
        "level": "info",
        "logger": "legato.jobs",
        "instance_id": "01ab",
        "element": "ship",
        "job_id": "01ab:3",
    }
    assert first["time"].endswith("Z") and "T" in first["time"]
    assert second["trace_id"] == "4bf92f3577b34da6a3ce929d0e0e4736" and "instance_id" not in second
    assert "ValueError: broken" in third["exception"]


def test_levels_per_component() -> None:
    assert parse_levels("info") == {"": logging.INFO}
    assert parse_levels("warning, legato.jobs=debug,legato.http=ERROR") == {
        "": logging.WARNING,
        "legato.jobs": logging.DEBUG,
        "legato.http": logging.ERROR,
    }
    with pytest.raises(ValueError, match="loud"):
        parse_levels("legato.jobs=loud")
    with pytest.raises(ValueError, match="format"):
        configure(format="xml")
    assert JsonFormatter().format(logging.makeLogRecord({"msg": "plain", "levelname": "INFO"})).startswith("{")
