"""`--handlers SPEC` for servers and workers, and the demo that `legato server` sets up."""

from __future__ import annotations

import io
import textwrap
from collections.abc import Iterator
from pathlib import Path

import click
import pytest
from cli_helpers import ORDER_YAML
from rich.console import Console

from legato.cli import demo
from legato.cli.loading import load_handlers
from legato.errors import BpmnError
from legato.examples import handlers as demo_handlers
from legato.runtime.app import Legato
from legato.runtime.handlers import Job
from legato.settings import Settings
from legato.store import Store

MODULE = textwrap.dedent(
    """
    from legato.runtime.app import Legato
    from legato.runtime.handlers import Handlers

    handlers = Handlers()

    @handlers("a.task")
    def a(job):
        return {"a": 1}

    app = Legato("sqlite://")

    @app.handler("b.task", timeout=5)
    def b(job):
        return {"b": 2}

    def register(legato):
        legato.register("c.task", lambda job: {"c": 3})

    not_handlers = 42
    """
)


@pytest.fixture
def module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    name = f"user_handlers_{tmp_path.name}"
    (tmp_path / f"{name}.py").write_text(MODULE)
    monkeypatch.syspath_prepend(str(tmp_path))
    yield name


@pytest.fixture
def legato() -> Iterator[Legato]:
    app = Legato(Store.memory())
    yield app
    app.close()


def test_every_kind_of_spec_loads(module: str, legato: Legato) -> None:
    assert load_handlers(f"{module}:handlers", legato) == ["a.task"]
    assert load_handlers(f"{module}:app", legato) == ["b.task"]
    handler = legato.handlers.get("b.task")
    assert handler is not None and handler.timeout == 5
    assert load_handlers(f"{module}:register", legato) == ["c.task"]
    assert legato.handlers.types() == ["a.task", "b.task", "c.task"]


def test_a_bare_module_uses_its_register_function_first(module: str, legato: Legato) -> None:
    assert load_handlers(module, legato) == ["c.task"]


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("no_such_module_here", "cannot import 'no_such_module_here'"),
        ("{module}:missing", "has no attribute 'missing'"),
        ("{module}:not_handlers", "int is not a register function"),
        (":register", "expected module or module:attribute"),
        ("json", "has none of register, handlers, legato, app"),
    ],
)
def test_bad_specs_are_usage_errors(module: str, legato: Legato, spec: str, message: str) -> None:
    with pytest.raises(click.BadParameter) as raised:
        load_handlers(spec.format(module=module), legato)
    assert message in str(raised.value)


def test_the_demo_handlers_are_deterministic() -> None:
    def job(**variables: object) -> Job:
        return Job(
            id="j", idempotency_key="j", instance_id="i", element="e", task_type="t", attempt=1, variables=variables
        )

    assert demo_handlers.check_credit(job(amount=100)) == {"credit_approved": True, "credit_limit": 25_000}
    with pytest.raises(BpmnError) as denied:
        demo_handlers.check_credit(job(amount=300, credit_limit=200))
    assert denied.value.code == "CREDIT_DENIED"
    assert demo_handlers.book_carrier(job(order_id="A-1")) == demo_handlers.book_carrier(job(order_id="A-1"))
    assert demo_handlers.book_carrier(job(order_id="A-1")) != demo_handlers.book_carrier(job(order_id="A-2"))


def test_the_demo_deploys_and_rejects_an_order_over_the_credit_limit(tmp_path: Path) -> None:
    legato = Legato(str(tmp_path / "demo.db"))
    try:
        assert demo.is_demo_database(legato)
        set_up = demo.set_up(legato)
        assert set_up == demo.Demo(deployed="order_to_cash v1")
        assert legato.handlers.types() == demo_handlers.handlers.types()
        assert demo.set_up(legato).deployed == "order_to_cash v1"  # a restart redeploys nothing
        assert demo.is_demo_database(legato)  # still only the demo: a restart keeps the demo on
        with legato.running():
            started = legato.start("order_to_cash", {"order_id": "A-9", "amount": 99_000})
            ended = legato.wait(started.instance_id)
        assert ended["status"] == "completed"
        assert ended["variables"]["rejection_sent"] is True
        legato.deploy(ORDER_YAML, source_format="yaml")
        assert not demo.is_demo_database(legato)  # a process of your own: no demo unasked
    finally:
        legato.close()


def test_the_banner_says_where_to_go_and_what_to_try() -> None:
    settings = Settings(host="0.0.0.0", port=9000, database="postgresql://legato:s3cret@db/legato")
    text = _text(demo.banner(settings, demo.Demo(deployed="order_to_cash v1"), ["credit.check"]))
    assert "Legato" in text and "is serving http://127.0.0.1:9000" in text
    assert "http://127.0.0.1:9000/docs" in text
    assert "postgresql://legato:***@db/legato" in text and "s3cret" not in text
    assert "export LEGATO_URL=http://127.0.0.1:9000" in text
    assert "legato start order_to_cash" in text
    assert "curl -X POST http://127.0.0.1:9000/api/v1/definitions/order_to_cash/instances" in text
    plain = _text(demo.banner(Settings(), None, []))
    assert "export LEGATO_URL" not in plain and "handlers: none (timers only)" in plain
    assert "legato deploy my_process.yaml" in plain


def test_the_banner_points_to_the_browser_app_or_says_how_to_build_it(monkeypatch: pytest.MonkeyPatch) -> None:
    from legato.api import web

    monkeypatch.setattr(web, "is_built", lambda: True)
    assert "browser    http://127.0.0.1:8080/" in _text(demo.banner(Settings(), None, []))
    monkeypatch.setattr(web, "is_built", lambda: False)
    assert "python web/build.py" in _text(demo.banner(Settings(), None, []))


def _text(renderable: object) -> str:
    console = Console(width=200, file=io.StringIO())
    console.print(renderable)
    output = console.file
    assert isinstance(output, io.StringIO)
    return output.getvalue()
