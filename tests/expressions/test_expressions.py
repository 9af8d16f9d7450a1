"""The safe expression dialect: what it computes, what it refuses, and how it fails."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest

from legato.errors import EvaluationError, ExpressionInvalid
from legato.expressions import (
    FUNCTIONS,
    MAX_SOURCE_LENGTH,
    Expression,
    compile_expression,
    compile_script,
    dialect_of,
)
from support import quickly


def evaluate(source: str, **variables: Any) -> Any:
    return compile_expression(source).evaluate(variables)


# --- what expressions compute -------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("1 + 2 * 3", 7),
        ("(1 + 2) * 3", 9),
        ("7 / 2", 3.5),
        ("7 // 2", 3),
        ("7 % 3", 1),
        ("-7 % 3", 2),
        ("2 ** 10", 1024),
        ("2 ** -1", 0.5),
        ("1 << 4", 16),
        ("256 >> 4", 16),
        ("6 & 3", 2),
        ("6 | 3", 7),
        ("6 ^ 3", 5),
        ("~5", -6),
        ("-(3)", -3),
        ("+3", 3),
        ("'ab' + 'cd'", "abcd"),
        ("'ab' * 2", "abab"),
        ("[1] * 3", [1, 1, 1]),
        ("[1, 2] + [3]", [1, 2, 3]),
        ("1 < 2 <= 2", True),
        ("1 < 2 > 3", False),
        ("1 == 1.0", True),
        ("'a' != 'b'", True),
        ("2 in [1, 2]", True),
        ("'x' not in 'abc'", True),
        ("'k' in {'k': 1}", True),
        ("True and not False", True),
        ("0 or 'fallback'", "fallback"),
        ("1 and 2", 2),
        ("'yes' if 2 > 1 else 'no'", "yes"),
        ("None is None", True),
        ("(1, 'a')", (1, "a")),
        ("{'a': 1, 'b': [2]}", {"a": 1, "b": [2]}),
        ("{1, 2, 2}", {1, 2}),
        ("true and not false", True),
        ("null is None", True),
    ],
)
def test_operators_compute_as_in_python(source: str, expected: Any) -> None:
    assert evaluate(source) == expected


def test_identity_is_only_with_none_true_and_false() -> None:
    assert evaluate("x is None", x=None) is True
    assert evaluate("x is not None", x=0) is True
    assert evaluate("x is True", x=1) is False
    for source in ("x is 1", "x is y", "1 is None", "'a' is not None"):
        with pytest.raises(ExpressionInvalid, match="'is' only compares with None"):
            compile_expression(source)


def test_a_typical_condition() -> None:
    condition = compile_expression('amount > 1000 and region == "EU"')
    assert condition.evaluate_condition({"amount": 1500, "region": "EU"}) is True
    assert condition.evaluate_condition({"amount": 1500, "region": "US"}) is False
    assert condition.names == frozenset({"amount", "region"})


def test_the_compiled_form_is_reused_and_immutable() -> None:
    expression = compile_expression("a + 1")
    assert [expression.evaluate({"a": n}) for n in range(3)] == [1, 2, 3]
    with pytest.raises(dataclasses.FrozenInstanceError):
        expression.source = "a + 2"  # type: ignore[misc]
    assert expression == compile_expression("a + 1")


def test_evaluate_condition_insists_on_a_boolean() -> None:
    assert compile_expression("x > 1").evaluate_condition({"x": 2}) is True
    for value in (1, "true", None, [True]):
        with pytest.raises(EvaluationError, match="must be true or false"):
            compile_expression("x").evaluate_condition({"x": value})


# --- dotted and subscript access ----------------------------------------------------------

ORDER = {
    "order": {
        "total": 120.5,
        "customer": {"name": "Ada", "tags": ["vip", "eu"]},
        "lines": [{"sku": "A", "qty": 2}, {"sku": "B", "qty": 1}],
        "keys": "a data field, not dict.keys",
    },
    "key": "total",
}


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("order.total", 120.5),
        ("order.customer.name", "Ada"),
        ("order.customer.tags[0]", "vip"),
        ("order.customer.tags[-1]", "eu"),
        ("order.lines[1].sku", "B"),
        ("order['total']", 120.5),
        ("order[key]", 120.5),
        ("order.lines[0]['qty'] * 2", 4),
        ("order.customer.name[0:2]", "Ad"),
        ("order.customer.tags[::-1]", ["eu", "vip"]),
        ("order.keys", "a data field, not dict.keys"),
    ],
)
def test_dotted_names_and_subscripts_read_the_data(source: str, expected: Any) -> None:
    assert compile_expression(source).evaluate(ORDER) == expected


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("order.missing", "order has no key 'missing'"),
        ("order.customer.age", "order.customer has no key 'age'"),
        ("order.total.cents", "order.total is float 120.5, not a dict"),
        ("order['nope']", "order has no key 'nope'"),
        ("order.lines[5]", r"order.lines has no item 5 \(it has 2\)"),
        ("order.lines['x']", "index must be a whole number"),
        ("order.total[0]", "only dicts, lists and text can be indexed"),
    ],
)
def test_failed_lookups_say_what_is_missing(source: str, message: str) -> None:
    with pytest.raises(EvaluationError, match=message):
        compile_expression(source).evaluate(ORDER)


def test_a_dotted_name_is_never_a_python_attribute() -> None:
    for source in ("order.items", "order.get", "order.copy", "text.upper"):
        with pytest.raises(EvaluationError, match=r"has no key|not a dict"):
            compile_expression(source).evaluate({"order": {}, "text": "abc"})


# --- functions ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("len(items)", 3),
        ("len('abc')", 3),
        ("min(items)", 1),
        ("max(3, 9, 4)", 9),
        ("sum(items)", 6),
        ("sum([True, True, False])", 2),
        ("abs(-2.5)", 2.5),
        ("round(2.567, 2)", 2.57),
        ("round(2.5)", 2),
        ("int('42')", 42),
        ("int(3.9)", 3),
        ("float('1.5')", 1.5),
        ("str(12) + '%'", "12%"),
        ("bool('')", False),
        ("lower('ABC')", "abc"),
        ("upper(name)", "ADA"),
        ("contains(name, 'd')", True),
        ("contains(items, 4)", False),
        ("contains({'a': 1}, 'a')", True),
        ("startswith(name, 'Ad')", True),
        ("endswith(name, 'x')", False),
        ("exists('name')", True),
        ("exists('missing')", False),
        ("exists('order.total')", True),
        ("exists('order.total.cents')", False),
        ("value('missing', 7)", 7),
        ("value('missing')", None),
        ("value('order.total', 0)", 10),
        ("value('order.discount', 0)", 0),
        ("get(rates, region, 1.0)", 1.19),
        ("get(rates, 'US', 1.0)", 1.0),
        ("get(items, 5, 'none')", "none"),
        ("get(items, -1)", 3),
        ("get(nothing, 'x', 'fallback')", "fallback"),
    ],
)
def test_whitelisted_functions(source: str, expected: Any) -> None:
    variables = {
        "items": [1, 2, 3],
        "name": "Ada",
        "order": {"total": 10},
        "rates": {"DE": 1.19},
        "region": "DE",
        "nothing": None,
    }
    assert compile_expression(source).evaluate(variables) == expected


def test_the_function_list_is_frozen_and_documented() -> None:
    assert FUNCTIONS == (
        "len", "min", "max", "sum", "abs", "round", "int", "float", "str", "bool",
        "lower", "upper", "contains", "startswith", "endswith", "exists", "value", "get",
    )  # fmt: skip
    reference = (Path(__file__).parents[2] / "docs" / "expressions.md").read_text()
    assert all(f"`{name}(" in reference for name in FUNCTIONS)


def test_a_variable_cannot_shadow_a_function() -> None:
    variables = {"len": "not callable", "_fn_len": print, "_add": print, "x": [1, 2]}
    assert compile_expression("len(x) + 1").evaluate(variables) == 3


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("lower(5)", r"lower\(\) needs text, not int 5"),
        ("sum(['a'])", r"sum\(\) adds numbers"),
        ("contains(5, 1)", r"contains\(\) needs text, a list or a dict"),
        ("contains('abc', 1)", r"contains\(\) needs text"),
        ("get(5, 'a')", r"get\(\) needs a dict"),
        ("min([])", "empty"),
        ("int('abc')", "invalid literal"),
        ("len(5)", "has no len"),
    ],
)
def test_functions_refuse_wrong_types_clearly(source: str, message: str) -> None:
    with pytest.raises(EvaluationError, match=message):
        evaluate(source)


def test_names_lists_the_variables_read() -> None:
    expression = compile_expression("order.total > limit and contains(tags, 'vip') and value('discount', 0) < 5")
    assert expression.names == frozenset({"order", "limit", "tags", "discount"})
    assert compile_expression("len('abc') + true").names == frozenset()


# --- scripts ------------------------------------------------------------------------------


def test_a_script_returns_only_its_assignments_and_each_line_sees_the_earlier_ones() -> None:
    script = compile_script(
        """
        # net and VAT
        net = order.total
        vat = round(net * rate, 2); gross = net + vat

        label = region + ': ' + str(gross)
        """
    )
    result = script.run({"order": {"total": 100}, "rate": 0.19, "region": "DE", "other": 1})
    assert result == {"net": 100, "vat": 19.0, "gross": 119.0, "label": "DE: 119.0"}
    assert list(result) == ["net", "vat", "gross", "label"]
    assert script.targets == ("net", "vat", "gross", "label")
    assert script.names == frozenset({"order", "rate", "region"})


def test_a_script_reassigning_an_input_reads_the_input_first() -> None:
    script = compile_script("count = count + 1\ncount += 10\ntotal = count * 2")
    assert script.run({"count": 1}) == {"count": 12, "total": 24}
    assert script.targets == ("count", "total")
    assert script.names == frozenset({"count"})


def test_a_script_can_test_its_own_earlier_assignments() -> None:
    script = compile_script("a = 1\nb = exists('a') and value('a', 0) + 1")
    assert script.run({}) == {"a": 1, "b": 2}


def test_an_empty_script_assigns_nothing() -> None:
    assert compile_script("# nothing\n\n").run({}) == {}


def test_a_failing_script_line_is_named() -> None:
    script = compile_script("a = 1\nb = a + missing")
    with pytest.raises(EvaluationError, match=r"script line 2 \('b = a \+ missing'\)") as caught:
        script.run({})
    assert "variable 'missing' is not defined" in caught.value.message
    expected = {"expression": "b = a + missing", "line": 2, "variable": "missing"}
    assert caught.value.details == expected


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("import os", "import is not allowed"),
        ("from os import system", "import is not allowed"),
        ("a = 1\nprint(a)", "line 2: each line must assign"),
        ("if a: b = 1", "if statements are not allowed"),
        ("for x in y: b = x", "for statements are not allowed"),
        ("def f(): pass", "def statements are not allowed"),
        ("a.b = 1", "only a plain variable name"),
        ("a[0] = 1", "only a plain variable name"),
        ("a, b = 1, 2", "one variable per line"),
        ("a = b = 1", "one variable per line"),
        ("_a = 1", "names starting with '_'"),
        ("null = 1", "is a constant"),
        ("a: int = 1", "annotated assignment"),
        ("a = lambda: 1", "lambda is not allowed"),
        ("a = (1 +", "was never closed"),
    ],
)
def test_scripts_only_assign(source: str, message: str) -> None:
    with pytest.raises(ExpressionInvalid, match=message):
        compile_script(source)


def test_script_errors_give_the_line_and_its_column() -> None:
    with pytest.raises(ExpressionInvalid) as caught:
        compile_script("    a = 1\n    b = open('x')\n")
    assert caught.value.source == "    b = open('x')"
    assert caught.value.offset == 8
    assert "line 2" in caught.value.message


# --- rejected constructs ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("__import__('os')", r"__import__\(\) is not a function here"),
        ("().__class__.__bases__[0].__subclasses__()", "only these functions can be called"),
        ("().__class__.__bases__", "names starting with '_'"),
        ("x['a'].__globals__", "names starting with '_'"),
        ("x.__class__", "names starting with '_'"),
        ("_private + 1", "names starting with '_'"),
        ("exists('__class__')", "not a variable name"),
        ("eval('1')", r"eval\(\) is not a function here"),
        ("open('/etc/passwd')", r"open\(\) is not a function here"),
        ("getattr(x, 'y')", r"getattr\(\) is not a function here"),
        ("x.upper()", "only these functions can be called"),
        ("(lambda: 1)()", "only these functions can be called"),
        ("lambda: 1", "lambda is not allowed"),
        ("[x for x in y]", "comprehensions are not allowed"),
        ("{x for x in y}", "comprehensions are not allowed"),
        ("{x: 1 for x in y}", "comprehensions are not allowed"),
        ("sum(x for x in y)", "generator expressions are not allowed"),
        ("(y := 1)", r"assignment expressions \(:=\) are not allowed"),
        ("[*x]", r"unpacking with \* is not allowed"),
        ("len(*x)", r"unpacking with \* is not allowed"),
        ("{**x}", r"unpacking a dict with \*\* is not allowed"),
        ("f'{x:{w}}'", "must be written out"),
        ("f'{x:>100000}'", "is not allowed"),
        ("b'x'", "bytes literals are not allowed"),
        ("1j", "complex literals are not allowed"),
        ("...", "ellipsis literals are not allowed"),
        ("await x", "await is not allowed"),
        ("x @ y", "the @ operator is not allowed"),
        ("x is 1", "'is' only compares with None"),
        ("round(x, ndigits=2)", "takes no keyword arguments"),
        ("len(x, y)", r"len\(\) takes exactly 1 argument \(2 given\)"),
        ("max()", r"max\(\) takes at least 1 argument \(0 given\)"),
        ("exists(name)", "needs a variable name in quotes"),
        ("", "the expression is empty"),
        ("${ }", "the expression is empty"),
        ("x = 1", "compare with =="),
    ],
)
def test_rejected_constructs(source: str, message: str) -> None:
    with pytest.raises(ExpressionInvalid, match=message):
        compile_expression(source)


def test_compile_refuses_what_is_not_text() -> None:
    with pytest.raises(TypeError):
        compile_expression(42)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        compile_script(None)  # type: ignore[arg-type]


# --- resource guards ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("9**9**9", "more than 10,000 bits"),
        ("2 ** 20000", "more than 10,000 bits"),
        ("10 ** 3000 * 10 ** 3000", "more than 10,000 bits"),
        ("'a' * 10**10", "repeating a str"),
        ("10**10 * [0]", "repeating a list"),
        ("[[0] * 1000] * 100000", "repeating a list"),
        ("1 << 10**9", "more than 10,000 bits"),
        ("[" + ", ".join(["[0] * 999999"] * 700) + "]", "limit of 2,000,000"),
        ("str([[0] * 1000] * 1000) + str([[0] * 1000] * 1000)", "limit of 2,000,000"),
        ("'%0*d' % (10**9, 1)", "does not format text"),
        ("round(1, -10**9)", "whole number of digits"),
        ("10.0 ** 400", "out of range"),
        ("(-8) ** 0.5", "no real result"),
    ],
)
def test_evaluation_refuses_to_blow_up(source: str, message: str) -> None:
    expression = compile_expression(source)
    with quickly(), pytest.raises(EvaluationError, match=message):
        expression.evaluate({})


def test_a_script_cannot_grow_a_value_by_sharing() -> None:
    # Each line doubles what str() or a comparison would have to walk, at no cost in memory.
    script = compile_script("a = [a, a]\n" * 60)
    with quickly(), pytest.raises(EvaluationError, match="limit of 2,000,000"):
        script.run({"a": [1] * 10})


def test_large_but_bounded_values_are_fine() -> None:
    assert len(evaluate("'a' * 1000000")) == 1_000_000
    assert evaluate("2 ** 9000 > 0") is True


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("[" * 150 + "]" * 150, "nested too deeply"),
        ("not " * 2000 + "x", "nested too deeply"),
        ("+".join(["1"] * 4000), "nested too deeply"),
        ("-" * 9_999 + "1", "nested too deeply"),
        ("(" * 250 + "1" + ")" * 250, "too many nested parentheses"),
        ("0<" * 4_999 + "0", "too many parts"),
        ("1 + " + "1" * 9_000, "Exceeds the limit"),
        ("x" * (MAX_SOURCE_LENGTH + 1), "10,001 characters long; the limit is 10,000"),
    ],
)
def test_compile_refuses_hostile_sizes(source: str, message: str) -> None:
    with quickly(), pytest.raises(ExpressionInvalid, match=message):
        compile_expression(source)


def test_long_scripts_are_refused() -> None:
    with pytest.raises(ExpressionInvalid, match="characters long"):
        compile_script("a = 1\n" * 2_000)


# --- evaluation errors --------------------------------------------------------------------


def test_an_undefined_variable_is_named_with_the_expression() -> None:
    with pytest.raises(EvaluationError) as caught:
        compile_expression("amount > limit").evaluate({"amount": 5})
    assert caught.value.message == "expression 'amount > limit': variable 'limit' is not defined"
    assert caught.value.details == {"expression": "amount > limit", "variable": "limit"}
    assert caught.value.code == "EVALUATION_ERROR"


def test_only_the_branch_taken_is_evaluated() -> None:
    assert evaluate("a if a > 0 else undefined_name", a=1) == 1
    assert evaluate("exists('b') and b > 1") is False


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("'a' + 1", "cannot add str and int"),
        ("None + 1", "cannot add None and int"),
        ("1 / 0", "division by zero"),
        ("1 % 0", "division by zero"),
        ("1 < 'a'", "not supported between instances of 'int' and 'str'"),
        ("-'a'", "bad operand type"),
        ("{[1]: 2}", "unhashable type"),
        ("'a' * 'b'", "can't multiply sequence"),
        ("int(float('inf'))", "out of range"),
    ],
)
def test_runtime_errors_never_escape_raw(source: str, message: str) -> None:
    with pytest.raises(EvaluationError, match=message):
        evaluate(source)


def test_any_exception_becomes_an_evaluation_error() -> None:
    class Hostile(dict[str, Any]):
        def __getitem__(self, key: str) -> Any:
            raise RuntimeError("boom")

    with pytest.raises(EvaluationError, match="boom"):
        compile_expression("x").evaluate(Hostile())


# --- routing to the FEEL and JUEL dialects -----------------------------------------------


@pytest.mark.parametrize(
    ("source", "dialect"),
    [
        ("amount > 100", "legato"),
        ("=amount > 100", "feel"),
        ("  = amount > 100\n", "feel"),
        ("${amount > 100}", "juel"),
        ("  ${amount > 100}\n", "juel"),
        ("#{amount > 100}", "juel"),
        ("Hello ${name}", "juel"),  # a composite: text with a JUEL part
        ("It's ${name}", "juel"),  # an apostrophe that opens no string
        ("'Total in ${currency}'", "legato"),  # a Legato string that happens to contain ${
        ('"#{x}" + suffix', "legato"),
        ("price * 2", "legato"),
    ],
)
def test_the_dialect_is_read_from_the_text(source: str, dialect: str) -> None:
    assert dialect_of(source) == dialect
    assert compile_expression(source).dialect == dialect


@pytest.mark.parametrize(
    "source",
    [
        "${amount > 100}",
        "${ amount > 100 }",
        "  ${amount > 100}\n",
        "= amount > 100",
        "=amount>100",
        "#{amount gt 100}",
    ],
)
def test_conditions_in_each_marked_dialect_hold_as_written(source: str) -> None:
    expression = compile_expression(source)
    assert expression.source == source
    assert expression.evaluate_condition({"amount": 101}) is True
    assert expression.evaluate_condition({"amount": 99}) is False


def test_each_dialect_reads_its_own_operators() -> None:
    variables = {"status": "ok", "amount": 1500, "approved": True}
    assert compile_expression('=status = "ok" and amount > 1000').evaluate_condition(variables) is True
    assert compile_expression("${amount > 1000 && approved}").evaluate_condition(variables) is True
    assert compile_expression("amount > 1000 and approved").evaluate_condition(variables) is True
    with pytest.raises(ExpressionInvalid, match="compare with =="):
        compile_expression('status = "ok"')  # a single = is FEEL, not the Legato dialect


def test_juel_style_literals_work_in_simple_cases() -> None:
    assert evaluate("${approved == true}", approved=True) is True
    assert evaluate("${x != null}", x=1) is True


def test_equality_is_not_taken_for_a_feel_marker() -> None:
    assert dialect_of("== 1") == "legato"
    with pytest.raises(ExpressionInvalid):
        compile_expression("== 1")


def test_scripts_stay_in_the_legato_dialect() -> None:
    with pytest.raises(ExpressionInvalid):
        compile_script("a = ${b}")
    with pytest.raises(ExpressionInvalid):
        compile_script("=a + 1")


# --- positions in errors ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "offset", "at"),
    [
        ("(a + b", 0, "("),
        ("a +* b", 3, "*"),
        ("a b", 2, "b"),
        ("a ==", 4, ""),
        ("x.__class__", 2, "__class__"),
        ("1 + foo(2)", 4, "foo"),
        ("${ 1 + foo(2) }", 7, "foo"),
        ("= 1 + foo(2)", 6, "foo"),
        ("'é' + foo(2)", 6, "foo"),  # characters, not UTF-8 bytes
        ("a && b", 3, "&"),
        ("${a &&}", 6, "}"),
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
        compile_expression("(a +\n foo(1))")
    assert caught.value.offset == 1
    assert "line 2" in caught.value.message


def test_juel_operators_outside_juel_get_a_hint() -> None:
    with pytest.raises(ExpressionInvalid, match="write 'and' and 'or' instead of && and"):
        compile_expression("amount > 1 && vip")


def test_expression_is_the_public_type() -> None:
    assert isinstance(compile_expression("1"), Expression)
