"""`--var k=v` and `--vars-json '{...}'`: process variables from the command line.

A value that parses as JSON is taken as JSON (`amount=120` is the number 120,
`tags=["a","b"]` a list, `ok=true` a boolean); anything else is a string
(`name=Ada`). Quote JSON strings to keep digits text: `zip='"01234"'`.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import click


def parse_pairs(pairs: Sequence[str]) -> dict[str, Any]:
    variables: dict[str, Any] = {}
    for pair in pairs:
        name, equals, raw = pair.partition("=")
        name = name.strip()
        if not equals or not name:
            raise click.BadParameter(f"{pair!r} is not NAME=VALUE", param_hint="--var")
        try:
            variables[name] = json.loads(raw)
        except ValueError:
            variables[name] = raw
    return variables


def parse_object(text: str | None) -> dict[str, Any]:
    if text is None:
        return {}
    try:
        value = json.loads(text)
    except ValueError as exc:
        raise click.BadParameter(f"not valid JSON: {exc}", param_hint="--vars-json") from None
    if not isinstance(value, dict):
        raise click.BadParameter("must be a JSON object, like '{\"amount\": 120}'", param_hint="--vars-json")
    return value


def collect(pairs: Sequence[str], text: str | None = None) -> dict[str, Any]:
    """`--vars-json` first, then each `--var` over it."""
    return {**parse_object(text), **parse_pairs(pairs)}


def var_option(function: Any) -> Any:
    return click.option(
        "--var",
        "pairs",
        multiple=True,
        metavar="NAME=VALUE",
        help="A variable; VALUE is JSON if it parses as JSON, else text. Repeatable.",
    )(function)


def vars_json_option(function: Any) -> Any:
    return click.option("--vars-json", metavar="JSON", help="Variables as one JSON object.")(function)
