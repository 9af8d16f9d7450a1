"""JUEL (Unified EL 2.2) as Camunda 7 models write it: coercions, composites, and every refusal."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from legato.errors import EvaluationError, ExpressionInvalid
from legato.expressions import MAX_SOURCE_LENGTH, Expression, compile_expression
from legato.expressions.juel import METHODS, JuelExpression, compile_juel

ORDER: dict[str, Any] = {
    "amount": 1500,
    "approved": True,
    "status": "ok",
    "name": "Ada",
    "nothing": None,
    "tags": ["vip", "eu"],
    "noTags": [],
    "order": {"total": 120.5, "blocked": False, "lines": ["a", "b"], "customer": {"name": "Paul"}},
    "limits": {"EU": 1000},
    "text5": "5",
}


def juel(source: str, **variables: Any) -> Any:
    return compile_juel(source).evaluate({**ORDER, **variables})


# --- conditions as Camunda 7 models write them --------------------------------------------


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("${amount > 1000}", True),
        ("${order.total >= 100 && !order.blocked}", True),
        ("${approved}", True),
        ("${!approved}", False),
        ("${approved == true}", True),
        ("${status == 'ok'}", True),
        ('${status eq "ok"}', True),
        ("${amount gt 1000 and approved}", True),
        ("${amount le 1000 or not approved}", False),
        ("${not empty tags}", True),
        ("${empty noTags}", True),
        ("${nothing == null}", True),
        ("${order.customer.name != 'Ada'}", True),
        ("${amount > limits['EU']}", True),
        ('${execution.getVariable("approved") == true}', True),
        ("${execution.getVariable('missing') == null}", True),
        ("${execution.hasVariable('amount')}", True),
        ('${status.equals("ok")}', True),
        ("${tags.contains('vip')}", True),
        ("#{amount > 1000}", True),
        ("  ${amount > 1000}\n", True),
    ],
)
def test_camunda_7_conditions(source: str, expected: bool) -> None:
    expression = compile_expression(source)
    assert isinstance(expression, JuelExpression)
    assert expression.evaluate_condition(ORDER) is expected


def test_a_juel_expression_satisfies_the_one_interface() -> None:
    expression = compile_expression("${amount > limit}")
    assert isinstance(expression, Expression)
    assert expression.dialect == "juel"
    assert expression.source == "${amount > limit}"
    assert expression.names == frozenset({"amount", "limit"})
    with pytest.raises(dataclasses.FrozenInstanceError):
        expression.source = "x"  # type: ignore[misc]
    assert expression == compile_juel("${amount > limit}")


# --- operators and EL's coercions (EL 2.2, 1.7 to 1.10 and 1.18) --------------------------


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("${1 + 2}", 3),
        ("${1 - 5}", -4),
        ("${2 * 3}", 6),
        ("${1.5 + 1}", 2.5),
        ("${1e3}", 1000.0),
        ("${.5 + 1}", 1.5),
        ("${null + null}", 0),
        ("${null + 1}", 1),
        ("${text5 + 1}", 6),  # text that reads as a number is one
        ("${'1.5' + 1}", 2.5),
        ("${7 / 2}", 3.5),
        ("${6 / 2}", 3.0),  # / always divides as doubles
        ("${7 div 2}", 3.5),
        ("${7 % 3}", 1),
        ("${-7 % 3}", -1),  # Java's remainder keeps the dividend's sign
        ("${7.5 mod 2}", 1.5),
        ("${-'3'}", -3),
        ("${-nothing}", 0),
        ("${--3}", 3),
        ("${1 + 2 * 3}", 7),
        ("${(1 + 2) * 3}", 9),
        ("${1 < 2}", True),
        ("${'10' < '9'}", True),  # two strings compare as text
        ("${10 < '9'}", False),  # a number and a string compare as numbers
        ("${nothing < 1}", False),
        ("${nothing >= nothing}", True),
        ("${false < true}", True),
        ("${1 == 1.0}", True),
        ("${text5 == 5}", True),
        ("${true == 'true'}", True),
        ("${'TRUE' == true}", True),
        ("${nothing == 0}", False),
        ("${nothing != null}", False),
        ("${tags == tags}", True),
        ("${nothing && true}", False),
        ("${'true' && true}", True),
        ("${'yes' || false}", False),
        ("${!nothing}", True),
        ("${not ''}", True),
        ("${empty nothing}", True),
        ("${empty ''}", True),
        ("${empty 0}", False),
        ("${empty 'x'}", False),
        ("${empty order}", False),
        ("${amount > 1 ? 'big' : 'small'}", "big"),
        ("${nothing ? 1 : 2}", 2),
        ("${false ? 1 : true ? 2 : 3}", 2),
        ("${'it\\'s'}", "it's"),
        ('${"a\\\\b"}', "a\\b"),
        ("${'a}b'}", "a}b"),
    ],
)
def test_operators_and_coercions(source: str, expected: Any) -> None:
    result = juel(source)
    assert result == expected
    assert type(result) is type(expected)


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("${order.total}", 120.5),
        ("${order['total']}", 120.5),
        ('${order["customer"].name}', "Paul"),
        ("${order.lines[0]}", "a"),
        ("${order.lines['1']}", "b"),
        ("${order.lines[9]}", None),  # EL: an index out of bounds gives null
        ("${order.lines[-1]}", None),
        ("${order.missing}", None),
        ("${order.missing.deeper}", None),  # a property of null is null
        ("${nothing.anything}", None),
    ],
)
def test_property_access_reads_dicts_and_lists(source: str, expected: Any) -> None:
    assert juel(source) == expected


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("${missing > 1}", "variable 'missing' is not defined"),
        ("${empty missing}", "variable 'missing' is not defined"),
        ("${order.total.cents}", "order.total is number 120.5, which has no property 'cents'"),
        ("${name.length}", "name is text 'Ada', which has no property 'length'"),
        ("${'a' == 1}", "cannot use text 'a' as a number"),
        ("${'abc' + 1}", "cannot use text 'abc' as a number"),
        ("${approved + 1}", "cannot use boolean true as a number"),
        ("${1 && true}", "cannot use number 1 as true or false"),
        ("${order < 1}", "cannot use a map as a number"),
        ("${order < 'a'}", "cannot compare a map with text 'a'"),
        ("${1 / 0}", "division by zero"),
        ("${1 % 0}", "division by zero"),
        ("${1.0 mod 0}", "division by zero"),
        ("${9223372036854775807 + 1}", "does not fit a 64-bit integer"),
        ("${1e308 * 10}", "too large"),
        ("${order.lines['x']}", "cannot use text 'x' as a number"),
    ],
)
def test_runtime_errors_name_the_expression(source: str, message: str) -> None:
    with pytest.raises(EvaluationError, match=message) as caught:
        juel(source)
    assert caught.value.message.startswith(f"expression {source!r}: ")
    assert caught.value.details["expression"] == source


def test_an_undefined_variable_is_named_as_camunda_7_does() -> None:
    with pytest.raises(EvaluationError) as caught:
        compile_juel("${amount > limit}").evaluate({"amount": 5})
    assert caught.value.details == {"expression": "${amount > limit}", "variable": "limit"}


def test_a_condition_must_be_a_boolean_and_never_null() -> None:
    with pytest.raises(EvaluationError, match="must be true or false, but this one gave null"):
        compile_juel("${nothing}").evaluate_condition({"nothing": None})
    with pytest.raises(EvaluationError, match="must be true or false, but this one gave text 'true'"):
        compile_juel("${'true'}").evaluate_condition({})
    with pytest.raises(EvaluationError, match="must be true or false"):
        compile_juel("Approved: ${approved}").evaluate_condition({"approved": True})


def test_only_the_branch_taken_is_evaluated() -> None:
    assert juel("${approved || missing}") is True
    assert juel("${!approved && missing}") is False
    assert juel("${approved ? 1 : missing}") == 1


# --- methods ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("${status.equals('ok')}", True),
        ("${amount.equals(1500)}", True),
        ("${amount.equals(1500.0)}", False),  # Java: a Long never equals a Double
        ("${status.equalsIgnoreCase('OK')}", True),
        ("${status.equalsIgnoreCase(nothing)}", False),
        ("${name.contains('d')}", True),
        ("${tags.contains('eu')}", True),
        ("${tags.contains('us')}", False),
        ("${order.containsKey('total')}", True),
        ("${name.startsWith('A')}", True),
        ("${name.endsWith('x')}", False),
        ("${noTags.isEmpty()}", True),
        ("${name.isEmpty()}", False),
        ("${tags.size()}", 2),
        ("${order.size()}", 4),
        ("${name.length()}", 3),
        ("${name.toUpperCase()}", "ADA"),
        ("${name.toLowerCase()}", "ada"),
        ("${' a '.trim()}", "a"),
        ("${amount.toString()}", "1500"),
        ("${tags.toString()}", "[vip, eu]"),
        ("${execution.getVariable('na' == 'na' ? 'name' : 'x')}", "Ada"),
    ],
)
def test_the_few_methods_that_are_allowed(source: str, expected: Any) -> None:
    assert juel(source) == expected


def test_the_method_list_is_frozen() -> None:
    assert METHODS == (
        "equals", "equalsIgnoreCase", "contains", "containsKey", "startsWith", "endsWith", "isEmpty",
        "size", "length", "toUpperCase", "toLowerCase", "trim", "toString",
    )  # fmt: skip


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("${nothing.equals('x')}", r"nothing is null, so equals\(\) cannot be called on it"),
        ("${order.missing.size()}", r"order.missing is null, so size\(\) cannot be called"),
        ("${amount.contains(1)}", r"contains\(\) cannot be called on number 1500"),
        ("${order.contains('total')}", r"on a map use containsKey\(\)"),
        ("${name.size()}", r"on text use length\(\)"),
        ("${tags.length()}", r"on a list use size\(\)"),
        ("${name.startsWith(1)}", r"startsWith\(\) needs text, not number 1"),
        ("${execution.getVariable(1)}", r"needs a variable name, not number 1"),
    ],
)
def test_methods_refuse_wrong_values_when_they_run(source: str, message: str) -> None:
    with pytest.raises(EvaluationError, match=message):
        juel(source)


# --- composites: text with ${...} parts (EL 2.2, 1.2.1.1) ---------------------------------


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("Hello ${name}!", "Hello Ada!"),
        ("${name}${name}", "AdaAda"),
        ("${name} and ${order.customer.name}", "Ada and Paul"),
        ("Total: ${order.total}", "Total: 120.5"),
        ("Amount: ${amount / 1}", "Amount: 1500.0"),
        ("Big: ${big}", "Big: 1.0E7"),
        ("Small: ${small}", "Small: 1.5E-5"),
        ("Nothing: [${nothing}]", "Nothing: []"),  # null is empty text
        ("Approved: ${approved}", "Approved: true"),
        ("Tags: ${tags}", "Tags: [vip, eu]"),
        ("Limits: ${limits}", "Limits: {EU=1000}"),
        ("Cost in \\${currency}: ${amount}", "Cost in ${currency}: 1500"),
        ("#{name} says hi", "Ada says hi"),
        ("It's ${name}", "It's Ada"),
    ],
)
def test_composite_text(source: str, expected: str) -> None:
    assert compile_expression(source).evaluate({**ORDER, "big": 1e7, "small": 1.5e-5}) == expected


def test_text_without_any_part_is_itself() -> None:
    assert compile_juel("plain text").evaluate({}) == "plain text"
    assert compile_juel("").evaluate({}) == ""


# --- refusals -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ('${"".getClass()}', r"getClass\(\) is refused: in Camunda 7 it reaches Java reflection"),
        ("${x.getClass().forName('java.lang.Runtime')}", r"getClass\(\) is refused"),
        ("${x.class}", "'class' is refused: in Camunda 7 it reaches Java reflection"),
        ("${x.class.classLoader}", "'class' is refused"),
        ("${execution.getProcessEngine()}", "there is no execution object here"),
        ("${execution.processBusinessKey}", "there is no execution object here"),
        ("${execution}", "there is no execution object here"),
        ("${execution == null}", "there is no execution object here"),
        ("${myBean.doSomething(execution)}", r"doSomething\(\) cannot be called: a method call runs code"),
        ("${name.replace('a', 'b')}", r"replace\(\) cannot be called"),
        ("${x['getClass']()}", "only a few methods can be called"),
        ("${(x)(1)}", "only a few methods can be called"),
        ("${fn:contains(a, b)}", r"functions such as fn:contains\(\) are not available"),
        ("${now()}", r"now\(\) is not available: expressions have no clock"),
        ("${dateTime().plusDays(1)}", r"dateTime\(\) is not available"),
        ("${currentUser()}", r"functions such as currentUser\(\) are not available"),
        ("${name.equals()}", r"equals\(\) takes 1 argument \(0 given\)"),
        ("${name.length(1)}", r"length\(\) takes 0 arguments \(1 given\)"),
        ("${execution.getVariable()}", "takes the variable name"),
        ("${a = 1}", "assignment .EL 3.0. is not supported; compare with =="),
        ("${x -> x + 1}", "lambda expressions"),
        ("${a; b}", "';' .EL 3.0. is not supported"),
        ("${a += 'b'}", "'\\+=' .EL 3.0 text joining."),
        ("${{1, 2}}", "set and map literals"),
        ("${[1, 2]}", "list literals"),
        ("${x instanceof y}", "'instanceof' is reserved"),
        ("${'a\\qb'}", "unknown escape"),
        ("${'abc}", "this string is never closed"),
        ("${x", "never closed with '}'"),
        ("${ }", "the expression is empty"),
        ("${1 +}", "the expression ends too early"),
        ("${a b}", "unexpected 'b'"),
        ("${a.1}", "unexpected '.1'"),
        ("${a.empty}", "expected a property name after '.'"),
        ("${99999999999999999999}", "does not fit a 64-bit integer"),
        ("${name} #{name}", "cannot be mixed"),
        ("${(1 + 2}", "expected '.' to close '.'"),
        ("${a ? b}", "expected ':'"),
        ("${a @ b}", "unexpected character '@'"),
    ],
)
def test_refused_at_deploy(source: str, message: str) -> None:
    with pytest.raises(ExpressionInvalid, match=message):
        compile_juel(source)


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("${" + "(" * 150 + "1" + ")" * 150 + "}", "nested too deeply"),
        ("${" + "-" * 200 + "1}", "nested too deeply"),
        ("${" + "+".join(["1"] * 2000) + "}", "nested too deeply"),  # left-deep, not nested in brackets
        ("${" + "x." * 150 + "y}", "nested too deeply"),
        ("${" + "a ? " * 120 + "1" + " : 2" * 120 + "}", "nested too deeply"),
        ("${" + "x" * MAX_SOURCE_LENGTH + "}", "the limit is 10,000"),
    ],
)
def test_hostile_sizes_are_refused_at_deploy(source: str, message: str) -> None:
    with pytest.raises(ExpressionInvalid, match=message):
        compile_juel(source)


def test_any_exception_from_the_variables_becomes_an_evaluation_error() -> None:
    class Hostile(dict[str, Any]):
        def __contains__(self, key: object) -> bool:
            raise RuntimeError("boom")

    with pytest.raises(EvaluationError, match="boom"):
        compile_juel("${x}").evaluate(Hostile())


# --- positions in errors ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "offset", "at"),
    [
        ("${a = 1}", 4, "="),
        ('${"".getClass()}', 5, "getClass"),
        ("Hello ${foo()}", 8, "foo"),
        ("  ${x.class}", 6, "class"),
        ("${ 1 + foo(2) }", 7, "foo"),
        ("${a &&}", 6, "}"),
        ("${é + now()}", 6, "now"),
        ("${name} #{name}", 8, "#"),
    ],
)
def test_errors_give_the_column_in_the_source_as_written(source: str, offset: int, at: str) -> None:
    with pytest.raises(ExpressionInvalid) as caught:
        compile_expression(source)
    assert caught.value.offset == offset
    assert source[offset:].startswith(at)
    assert f"at column {offset + 1}" in caught.value.message


def test_errors_on_later_lines_name_the_line() -> None:
    with pytest.raises(ExpressionInvalid) as caught:
        compile_juel("${amount > 1000 &&\n  foo()}")
    assert "line 2" in caught.value.message
    assert caught.value.offset == 2


# --- names --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "names"),
    [
        ("${order.total > limit}", {"order", "limit"}),
        ("Hello ${first} ${last}", {"first", "last"}),
        ("${execution.getVariable('x') > y}", {"x", "y"}),
        ("${execution.getVariable(name)}", {"name"}),
        ("${1 + 2}", set()),
    ],
)
def test_names_lists_the_variables_read(source: str, names: set[str]) -> None:
    assert compile_juel(source).names == frozenset(names)
