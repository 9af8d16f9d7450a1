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


TASK_METHODS = {
    "task",
    "task_actor",
    "claim_task",
    "unclaim_task",
    "assign_task",
    "delegate_task",
    "resolve_task",
    "save_task_draft",
    "update_task",
    "complete_task",
    "comment_task",
    "task_comments",
    "attach_to_task",
    "task_attachments",
    "task_attachment",
}


def test_the_task_lifecycle_methods_are_part_of_legato() -> None:
    """The people's side of user tasks (docs/api.md, "User tasks"): renaming one is deliberate."""
    for name in TASK_METHODS:
        assert callable(getattr(legato.Legato, name)), name
    app = legato.Legato(legato.Store.memory(), clock=legato.FakeClock())
    p = legato.Process("review")
    p.start("s").then(p.user("review", candidate_users=["ada"])).then(p.end("e"))
    app.deploy(p.build())
    task = app.task_for(app.start("review").instance_id)
    assert app.claim_task(task["id"], "ada")["assignee"] == "ada"
    app.complete_task(task["id"], {"ok": True}, user="ada")
    assert app.task(task["id"])["status"] == "completed"
    app.close()


def test_the_embedded_engine_does_not_load_the_http_client() -> None:
    """`import legato` for an embedded engine loads no HTTP stack; `legato.Client` does."""
    import subprocess
    import sys

    code = (
        "import sys, legato; legato.Legato, legato.Store, legato.Process; "
        "assert 'httpx' not in sys.modules, 'httpx at import'; "
        "legato.Client; assert 'httpx' in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_a_client_script_does_not_load_the_engine() -> None:
    """`from legato import Client` drives a remote server: no engine, store or SQLAlchemy
    (it took 1.2 s and the whole server stack before the names were imported lazily)."""
    import subprocess
    import sys

    code = (
        "import sys; from legato import Client, LegatoError; "
        "loaded = [m for m in ('sqlalchemy', 'legato.runtime', 'legato.store', 'legato.engine', 'lxml') "
        "if m in sys.modules]; assert not loaded, loaded"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


REPAIR_VERBS = (
    "retry_incident",
    "retry_incidents",
    "set_variables",
    "cancel",
    "cancel_instances",
    "modify_instance",
    "migrate_instances",
)


def test_the_repair_verbs_are_the_same_embedded_and_over_http() -> None:
    """Bulk retry and bulk cancel (docs/repair.md) are public verbs of both `Legato` and `Client`."""
    for verb in REPAIR_VERBS:
        assert callable(getattr(legato.Legato, verb, None)), verb
        assert callable(getattr(legato.Client, verb, None)), verb
