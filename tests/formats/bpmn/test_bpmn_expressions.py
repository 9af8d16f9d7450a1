"""Expressions between Camunda attributes and Legato: dialect markers kept, paths made plain."""

from __future__ import annotations

import pytest

from legato.expressions import compile_expression
from legato.formats.bpmn.expressions import from_camunda, to_camunda


@pytest.mark.parametrize(
    ("attribute", "expression"),
    [
        ("=orderId", "orderId"),  # FEEL and Legato read a path alike: the marker goes
        ("= order.customer.id ", "order.customer.id"),
        ("${invoice.id}", "invoice.id"),
        ("=amount > 1000", "=amount > 1000"),  # anything else keeps its FEEL marker
        ("=true", "=true"),
        ("${amount * 1.19}", "${amount * 1.19}"),  # and JUEL its wrapper
        ("#{approved}", "approved"),
        ("#{a + b}", "${a + b}"),
        ("gold", '"gold"'),  # static text is a string, not a variable
        ('say "hi"', '"say \\"hi\\""'),
        ("==x", '"==x"'),
    ],
)
def test_from_camunda(attribute: str, expression: str) -> None:
    assert from_camunda(attribute) == expression
    compile_expression(expression)  # what comes out is an expression Legato can compile


def test_text_with_juel_parts_is_kept_as_a_juel_template() -> None:
    assert from_camunda("Dear ${name}") == "Dear ${name}"
    assert from_camunda("${a} and ${b}") == "${a} and ${b}"
    assert to_camunda("Dear ${name}") == "Dear ${name}"


@pytest.mark.parametrize(
    "expression",
    ["orderId", "order.id", "=a + b", "${a + b}", '"gold"', "amount * 2", "=x", "true", "null", '"=x"', "order.in"],
)
def test_to_camunda_reads_back_as_the_same_expression_or_says_it_cannot(expression: str) -> None:
    written = to_camunda(expression)
    if written is not None:
        assert from_camunda(written) == expression
    assert (written is None) == (expression in ("amount * 2", "=x", "true", "null", '"=x"', "order.in"))
