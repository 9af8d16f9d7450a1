"""The in-process worker in the registry of live workers: there while it runs, gone when it stops."""

from __future__ import annotations

from pathlib import Path

from legato.runtime.app import Legato


def test_a_running_worker_is_listed_with_its_handlers_and_leaves_when_it_stops(tmp_path: Path) -> None:
    legato = Legato(str(tmp_path / "w.db"))
    try:
        legato.register("mail.send", lambda job: {})
        assert legato.workers() == []
        with legato.running():
            [worker] = legato.workers()
            assert worker["kind"] == "in-process" and "mail.send" in worker["task_types"]
            assert legato.task_type_warnings([("notify", "mail.send")]) == []
            [warning] = legato.task_type_warnings([("notify", "mail.send"), ("fax", "fax.send")])
            assert warning["task_type"] == "fax.send" and warning["elements"] == ["fax"]
        assert legato.workers() == []
        assert [w["task_type"] for w in legato.task_type_warnings([("notify", "mail.send")])] == ["mail.send"]
    finally:
        legato.close()
