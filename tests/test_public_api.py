"""The public names of `legato` are frozen: changing them must be a deliberate act."""

from __future__ import annotations

import legato

PUBLIC = {
    "BpmnError",
    "Client",  # the HTTP client of a remote server (docs/api.md, "Python client")
    "Clock",
    "FakeClock",
    "Handlers",
    "Job",
    "Legato",
    "LegatoError",
    "Process",
    "ProcessDefinition",
    "RetryPolicy",
    "StartRequest",
    "Store",
    "SystemClock",
    "Worker",
    "WorkerSettings",
    "__version__",
}


def test_public_names_are_exactly_the_frozen_list() -> None:
    assert set(legato.__all__) == PUBLIC
    for name in legato.__all__:
        assert hasattr(legato, name), name


def test_the_quick_start_in_python_runs() -> None:
    app = legato.Legato(legato.Store.memory(), clock=legato.FakeClock())
    app.register("greet", lambda job: {"greeting": f"hello {job.variables['name']}"})
    p = legato.Process("hello")
    p.start("start").then(p.service("greet", "greet")).then(p.end("end"))
    app.deploy(p.build())
    with app.running():
        started = app.start("hello", {"name": "Ada"})
        assert app.wait(started.instance_id)["variables"]["greeting"] == "hello Ada"
