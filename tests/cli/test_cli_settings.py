"""Settings from `LEGATO_*` variables, and `--var` parsing: every bad value names itself."""

from __future__ import annotations

import click
import pytest

from legato.cli.variables import collect, parse_pairs
from legato.errors import InvalidInput
from legato.runtime.worker import WorkerSettings
from legato.settings import Settings


def test_defaults_without_variables() -> None:
    settings = Settings.from_env({})
    assert settings == Settings()
    assert settings.database == "legato.db"
    assert settings.url == "http://127.0.0.1:8080"
    assert (settings.host, settings.port) == ("127.0.0.1", 8080)
    assert settings.sqlite_synchronous == "NORMAL"


def test_every_variable_is_read() -> None:
    settings = Settings.from_env(
        {
            "LEGATO_DATABASE": "postgresql://legato@db/legato",
            "LEGATO_URL": "https://legato.example.com/",
            "LEGATO_HOST": "0.0.0.0",
            "LEGATO_PORT": "9000",
            "LEGATO_WORKER_CONCURRENCY": "8",
            "LEGATO_LOCK_SECONDS": "60",
            "LEGATO_POLL_INTERVAL": "0.25",
            "LEGATO_SQLITE_SYNCHRONOUS": "full",
            "UNRELATED": "ignored",
        }
    )
    assert settings == Settings(
        database="postgresql://legato@db/legato",
        url="https://legato.example.com",
        host="0.0.0.0",
        port=9000,
        worker_concurrency=8,
        lock_seconds=60.0,
        poll_interval=0.25,
        sqlite_synchronous="FULL",
    )
    assert settings.worker_settings() == WorkerSettings(concurrency=8, lock_seconds=60.0, poll_interval=0.25)


def test_an_empty_variable_counts_as_unset() -> None:
    assert Settings.from_env({"LEGATO_PORT": "", "LEGATO_DATABASE": "  "}) == Settings()


@pytest.mark.parametrize(
    ("variable", "value", "expected"),
    [
        ("LEGATO_PORT", "eighty", "an integer from 1 to 65535"),
        ("LEGATO_PORT", "70000", "an integer from 1 to 65535"),
        ("LEGATO_WORKER_CONCURRENCY", "0", "an integer from 1"),
        ("LEGATO_LOCK_SECONDS", "-5", "a positive number of seconds"),
        ("LEGATO_POLL_INTERVAL", "nan", "a positive number of seconds"),
        ("LEGATO_SQLITE_SYNCHRONOUS", "sometimes", "one of OFF, NORMAL, FULL, EXTRA"),
        ("LEGATO_DATABASE", "mysql://db/legato", "a postgresql:// URL"),
        ("LEGATO_URL", "localhost:8080", "an http:// or https:// URL"),
        ("LEGATO_HOST", "two words", "a host name"),
    ],
)
def test_a_bad_value_names_the_variable(variable: str, value: str, expected: str) -> None:
    with pytest.raises(InvalidInput) as raised:
        Settings.from_env({variable: value})
    assert str(raised.value).startswith(f"{variable} must be ")
    assert expected in str(raised.value)
    assert repr(value) in str(raised.value)
    assert raised.value.details == {"variable": variable}


def test_options_override_variables_and_are_checked_the_same_way() -> None:
    base = Settings.from_env({"LEGATO_PORT": "9000", "LEGATO_DATABASE": "a.db"})
    assert base.replace(port=None, database="b.db") == Settings(port=9000, database="b.db")
    with pytest.raises(InvalidInput, match=r"^--concurrency must be an integer"):
        base.replace(worker_concurrency=0)
    with pytest.raises(InvalidInput, match=r"^--database must be"):
        base.replace(database="oracle://x")


def test_var_values_are_json_when_they_parse() -> None:
    assert parse_pairs(["n=5", "f=1.5", "b=false", "s=text", 'q="5"', "l=[1]", 'o={"a":1}', "e=", "x=a=b"]) == {
        "n": 5,
        "f": 1.5,
        "b": False,
        "s": "text",
        "q": "5",
        "l": [1],
        "o": {"a": 1},
        "e": "",
        "x": "a=b",
    }
    assert collect(["a=2"], '{"a": 1, "b": 1}') == {"a": 2, "b": 1}
    for bad in ("novalue", "=5"):
        with pytest.raises(click.BadParameter):
            parse_pairs([bad])


def test_allowed_hosts_and_cors_origins_are_comma_lists_checked_for_shape() -> None:
    settings = Settings.from_env(
        {"LEGATO_ALLOWED_HOSTS": "Legato.Example.com, ops", "LEGATO_CORS_ORIGINS": "https://a.example/"}
    )
    assert settings.allowed_hosts == ("legato.example.com", "ops")
    assert settings.cors_origins == ("https://a.example",)
    with pytest.raises(InvalidInput, match="LEGATO_CORS_ORIGINS"):
        Settings.from_env({"LEGATO_CORS_ORIGINS": "a.example"})
