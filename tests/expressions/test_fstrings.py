"""f-strings in the Legato dialect, as Python teams write them in scripts (#6 item 16, first part)."""

from __future__ import annotations

import pytest

from legato.errors import EvaluationError, ExpressionInvalid
from legato.expressions import compile_expression, compile_script


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ('f"{name} owes {amount:.2f} EUR"', "Ada owes 12.50 EUR"),
        ('f"order {order.id}: {len(order.lines)} lines"', "order A-17: 2 lines"),
        ('f"{count:03d}|{name:>5}|{name!r}"', "007|  Ada|'Ada'"),
        ('f"{order.lines}"', "[1, 2]"),
        ('f"{vip}"', "False"),
        ("f'plain'", "plain"),
    ],
)
def test_f_strings_format_their_fields(source: str, expected: str) -> None:
    variables = {"name": "Ada", "amount": 12.5, "count": 7, "vip": False, "order": {"id": "A-17", "lines": [1, 2]}}
    assert compile_expression(source).evaluate(variables) == expected


def test_a_script_line_may_build_text_with_an_f_string() -> None:
    script = compile_script('total = net * 1.2\nlabel = f"{customer} pays {total:.2f}"')
    assert script.run({"net": 100, "customer": "acme"}) == {"total": 120.0, "label": "acme pays 120.00"}


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("f'{x:{w}}'", "must be written out"),
        ("f'{x:>100000}'", "is not allowed"),
        ("f'{x.__class__}'", "names starting with '_' are not allowed"),
    ],
)
def test_what_an_f_string_may_not_do_is_refused_at_deploy(source: str, message: str) -> None:
    with pytest.raises(ExpressionInvalid, match=message):
        compile_expression(source)


def test_an_f_string_counts_against_the_budget() -> None:
    with pytest.raises(EvaluationError, match="goes over the limit"):
        compile_expression('f"{big}{big}{big}"').evaluate({"big": "x" * 1_000_000})
    with pytest.raises(EvaluationError, match="cannot format"):
        compile_expression('f"{items:.2f}"').evaluate({"items": [1]})
