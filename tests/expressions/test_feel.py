"""FEEL (DMN 1.3, chapter 10): what it computes, its nulls, its unary tests, and what it refuses."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from legato.errors import EvaluationError, ExpressionInvalid
from legato.expressions import MAX_SOURCE_LENGTH, Expression, compile_expression
from legato.expressions.feel import FEEL_FUNCTIONS, FeelExpression, compile_feel, compile_unary_tests
from support import quickly


def feel(source: str, **variables: Any) -> Any:
    return compile_feel(source).evaluate(variables)


# --- conditions as Camunda Modeler writes them --------------------------------------------

ORDER = {
    "amount": 1500,
    "totalPrice": 120,
    "orderCount": 3,
    "valid": True,
    "customer": {"vip": True, "name": "Paul", "tags": ["gold", "eu"]},
    "order": {"customer": "Paul", "items": [{"sku": "A", "price": 5}, {"sku": "B", "price": 20}]},
}


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("=amount > 1000 and customer.vip = true", True),
        ("= totalPrice > 100", True),
        ('= order.customer = "Paul"', True),
        ("= orderCount > 15 or totalPrice > 50", True),
        ("= valid and orderCount > 0", True),
        ('=customer.name != "Paul"', False),
        ('=list contains(customer.tags, "gold")', True),
        ("=count(order.items) >= 2 and sum(order.items.price) < 100", True),
        ("=some item in order.items satisfies item.price > 10", True),
        ("=every item in order.items satisfies item.price > 10", False),
        ("=amount between 1000 and 2000", True),
        ('=customer.name in ("Paul", "Ada")', True),
        ("=amount in [1..1000]", False),
        ("=not(valid)", False),
        ("=is defined(customer.vip) and customer.vip", True),
    ],
)
def test_camunda_8_conditions(source: str, expected: bool) -> None:
    expression = compile_expression(source)
    assert isinstance(expression, FeelExpression)
    assert expression.evaluate_condition(ORDER) is expected


def test_a_feel_expression_satisfies_the_one_interface() -> None:
    expression = compile_expression("=amount > limit")
    assert isinstance(expression, Expression)
    assert expression.dialect == "feel"
    assert expression.source == "=amount > limit"
    assert expression.names == frozenset({"amount", "limit"})
    assert expression.evaluate({"amount": 5, "limit": 3}) is True
    with pytest.raises(dataclasses.FrozenInstanceError):
        expression.source = "x"  # type: ignore[misc]
    assert expression == compile_feel("=amount > limit")


def test_the_marker_is_optional_for_compile_feel() -> None:
    assert feel("1 + 1") == 2  # DMN literal expressions carry no `=`
    assert feel("=1 + 1") == 2


# --- values and operators (DMN 1.3, 10.3.2) -----------------------------------------------


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("1 + 2 * 3", 7),
        ("(1 + 2) * 3", 9),
        ("10 / 4", 2.5),
        ("10 / 2", 5),  # a whole quotient stays whole
        ("2 ** 10", 1024),
        ("-(3)", -3),
        ("7 - 10", -3),
        ("1.5 + .5", 2.0),
        ('"foo" + "bar"', "foobar"),
        ('"a\\"b\\\\c\\n"', 'a"b\\c\n'),
        ('"\\u00e9"', "é"),
        ("1 = 1", True),
        ("1 = 1.0", True),
        ("1 != 2", True),
        ('"a" < "b"', True),
        ("3 >= 3", True),
        ("[1, 2, 3]", [1, 2, 3]),
        ("[]", []),
        ('{a: 1, "b c": 2}', {"a": 1, "b c": 2}),
        ("{a: 1, b: a + 1}", {"a": 1, "b": 2}),  # an entry sees the entries before it
        ('{first name: "Ada"}', {"first name": "Ada"}),
        ("[1, 2] = [1, 2]", True),
        ("[1, 2] = [2, 1]", False),
        ("{a: 1} = {a: 1}", True),
        ("{a: 1} = {a: 2}", False),
        ('if 1 > 2 then "a" else "b"', "b"),
        ("if null then 1 else 2", 2),  # a condition that is not true takes the else branch
        ("5 between 1 and 10", True),
        ("10 between 1 and 10", True),
        ("11 between 1 and 10", False),
        ("5 in [1..10]", True),
        ("10 in [1..10)", False),
        ("1 in (1..10]", False),
        ("1 in ]1..10]", False),
        ("5 in (1, 2, 5)", True),
        ("5 in (< 3, > 4)", True),
        ("5 in < 3", False),
        ("5 in [1, 2, 5]", True),  # a list on the right: membership
        ('"b" in ["a", "b"]', True),
        ("5 instance of number", True),
        ('"5" instance of number', False),
        ('date("2026-01-01") instance of date', True),
        ('date and time("2026-01-01T10:00:00") instance of date and time', True),
        ("null instance of Null", True),
        ("[1] instance of list and true", True),
        ("`amount` + 1", 2),
        ("1 + 1 // a comment", 2),
        ("1 + /* a comment */ 1", 2),
    ],
)
def test_values_and_operators(source: str, expected: Any) -> None:
    assert feel(source, amount=1) == expected


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("for x in [1, 2, 3] return x * 2", [2, 4, 6]),
        ("for x in 1..3 return x", [1, 2, 3]),
        ("for x in 3..1 return x", [3, 2, 1]),
        ("for x in [1..3) return x", [1, 2]),
        ("for x in [1, 2], y in [10, 20] return x + y", [11, 21, 12, 22]),
        ("for x in [1, 2], y in [x, x * 10] return y", [1, 10, 2, 20]),  # a later domain sees x
        ("for x in [] return x", []),
        ("for x in nothing return x", None),
        ("some x in [1, 2, 3] satisfies x > 2", True),
        ("some x in [] satisfies x > 2", False),
        ("every x in [1, 2, 3] satisfies x > 0", True),
        ("every x in [1, null] satisfies x > 0", False),
    ],
)
def test_iteration(source: str, expected: Any) -> None:
    assert feel(source) == expected


ITEMS = {"items": [{"sku": "A", "price": 5}, {"sku": "B", "price": 20}, {"sku": "C", "price": 12}]}


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("items[price > 10]", [{"sku": "B", "price": 20}, {"sku": "C", "price": 12}]),
        ("items[price > 10].sku", ["B", "C"]),
        ("items[item.price < 10].sku", ["A"]),
        ("items[1].sku", "A"),
        ("items[-1].sku", "C"),
        ("items[4]", None),
        ("items.price", [5, 20, 12]),
        ("[1, 2, 3, 4][item > 2]", [3, 4]),
        ("[{a: 1}, {b: 2}].a", [1, None]),  # Camunda's own example
        ("[{a: 1}, {b: 2}][a < 10]", [{"a": 1}]),
        ('items[sku = "B"][1].price', 20),
    ],
)
def test_paths_and_filters(source: str, expected: Any) -> None:
    assert compile_feel(source).evaluate(ITEMS) == expected


# --- null (DMN 1.3, 10.3.2.5 and Camunda's "FEEL error handling") -------------------------


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("true and true", True),
        ("true and false", False),
        ("true and null", None),
        ("null and true", None),
        ("false and null", False),
        ("null and false", False),
        ("null and null", None),
        ('true and "yes"', None),  # not a boolean: treated as null
        ("true or null", True),
        ("null or true", True),
        ("false or null", None),
        ("false or false", False),
        ("not(null)", None),
        ("not(1)", None),
        ("null = null", True),
        ("null != null", False),
        ("1 = null", False),
        ("null != 1", True),
        ("null < 1", None),
        ('1 = "1"', None),  # different types compare to null
        ('"a" < 1', None),
        ("true < false", None),  # booleans have no order
        ('"a" + 1', None),
        ("1 / 0", None),
        ('-"a"', None),
        ("missing", None),
        ("missing.key", None),
        ("missing > 10", None),
        ("present.key", None),
        ("present.key > 10", None),
        ("missing between 1 and 10", None),
        ("5 between missing and 10", None),
        ("missing in (1, 2)", False),
        ("string(null)", None),
        ('date("not a date")', None),
        ('date("2026-02-30")', None),
        ("upper case(5)", None),
    ],
)
def test_null_is_three_valued_and_absorbs_errors(source: str, expected: Any) -> None:
    assert feel(source, present={}) == expected


def test_a_null_condition_is_an_error_as_in_camunda_8() -> None:
    expression = compile_expression("=amount > 1000")
    with pytest.raises(EvaluationError, match="the condition was null") as caught:
        expression.evaluate_condition({})
    assert caught.value.details == {"expression": "=amount > 1000"}
    assert caught.value.code == "EVALUATION_ERROR"
    guarded = compile_expression("=amount != null and amount > 1000")
    assert guarded.evaluate_condition({}) is False
    assert compile_expression("=is defined(amount) and amount > 1000").evaluate_condition({}) is False


def test_a_condition_must_be_a_boolean() -> None:
    with pytest.raises(EvaluationError, match="must be true or false, but this one gave number"):
        compile_expression("=amount").evaluate_condition({"amount": 1})
    with pytest.raises(EvaluationError, match="must be true or false, but this one gave string"):
        compile_expression('="true"').evaluate_condition({})


def test_is_defined_tells_a_missing_variable_from_a_null_one() -> None:
    expression = compile_feel("is defined(x)")
    assert expression.evaluate({"x": None}) is True
    assert expression.evaluate({}) is False
    assert feel("is defined(order.total)", order={"total": None}) is True
    assert feel("is defined(order.total)", order={}) is False
    assert feel("is defined(order.total)", order=5) is False
    assert feel("get or else(missing, 0) + 1") == 1


# --- built-in functions (DMN 1.3, 10.3.4) -------------------------------------------------


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        # conversion
        ('number("1000.5")', 1000.5),
        ('number("1 000,5", " ", ",")', 1000.5),
        ('number("12")', 12),
        ('number("x")', None),
        ("string(1.5)", "1.5"),
        ("string(10 / 2)", "5"),
        ("string(true)", "true"),
        ('string([1, "a"])', '[1, "a"]'),
        ('string(date("2026-01-01"))', "2026-01-01"),
        # text
        ('substring("testing", 3)', "sting"),
        ('substring("testing", 3, 3)', "sti"),
        ('substring("testing", -2, 1)', "n"),
        ('string length("tes")', 3),
        ('upper case("aBc4")', "ABC4"),
        ('lower case("aBc4")', "abc4"),
        ('trim("  a ")', "a"),
        ('substring before("testing", "ing")', "test"),
        ('substring before("testing", "xyz")', ""),
        ('substring after("testing", "test")', "ing"),
        ('substring after("", "a")', ""),
        ('contains("testing", "to")', False),
        ('starts with("testing", "te")', True),
        ('ends with("testing", "g")', True),
        ('matches("testing", "sti")', True),
        ('replace("abcd", "ab", "xx")', "xxcd"),
        ('split("John Doe", " ")', ["John", "Doe"]),
        ('string join(["a", null, "c"], ", ")', "a, c"),
        ('string join(["a", "b"])', "ab"),
        # lists
        ("list contains([1, 2, 3], 2)", True),
        ("count([1, 2, 3])", 3),
        ("min([3, 1, 2])", 1),
        ("max(1, 3, 2)", 3),
        ('max(["a", "c", "b"])', "c"),
        ("min([])", None),
        ('min([1, "a"])', None),
        ("sum([1, 2, 3])", 6),
        ("sum([])", None),
        ("mean([1, 2, 3])", 2),
        ("median(8, 2, 5, 3, 4)", 4),
        ("median([6, 1, 2, 3])", 2.5),
        ("product(2, 3, 4)", 24),
        ("all([true, true])", True),
        ("all([false, null, true])", False),
        ("all([true, null])", None),
        ("any([false, null, true])", True),
        ("any([false, false])", False),
        ("sublist([1, 2, 3], 2)", [2, 3]),
        ("sublist([1, 2, 3], 1, 2)", [1, 2]),
        ("append([1], 2, 3)", [1, 2, 3]),
        ("concatenate([1, 2], [3])", [1, 2, 3]),
        ("insert before([1, 3], 1, 2)", [2, 1, 3]),
        ("remove([1, 2, 3], 2)", [1, 3]),
        ("reverse([1, 2, 3])", [3, 2, 1]),
        ("index of([1, 2, 3, 2], 2)", [2, 4]),
        ("union([1, 2], [2, 3])", [1, 2, 3]),
        ("distinct values([1, 2, 3, 2, 1])", [1, 2, 3]),
        ("flatten([[1, 2], [[3]], 4])", [1, 2, 3, 4]),
        # numbers
        ("decimal(1 / 3, 2)", 0.33),
        ("decimal(2.5, 0)", 2),
        ("floor(1.5)", 1),
        ("floor(-1.5)", -2),
        ("ceiling(1.5)", 2),
        ("ceiling(-1.5)", -1),
        ("abs(-10)", 10),
        ("modulo(12, 5)", 2),
        ("modulo(-12, 5)", 3),
        ("modulo(12, -5)", -3),
        ("modulo(1, 0)", None),
        ("sqrt(16)", 4.0),
        ("sqrt(-1)", None),
        ("odd(5)", True),
        ("even(5)", False),
        # contexts
        ('get value({a: 1}, "a")', 1),
        ("get entries({a: 1})", [{"key": "a", "value": 1}]),
    ],
)
def test_built_in_functions(source: str, expected: Any) -> None:
    assert feel(source) == expected


def test_the_function_list_is_frozen_and_documented() -> None:
    assert len(FEEL_FUNCTIONS) == 90
    reference = (Path(__file__).parents[2] / "docs" / "expressions.md").read_text()
    missing = [name for name in FEEL_FUNCTIONS if f"`{name}(" not in reference]
    assert missing == []


def test_assert_stops_the_evaluation_with_its_message() -> None:
    assert feel("assert(x, x > 0)", x=5) == 5
    with pytest.raises(EvaluationError, match="x must be positive"):
        feel('assert(x, x > 0, "x must be positive")', x=-1)


# --- dates, times and durations -----------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ('date("2026-01-01")', "2026-01-01"),
        ("date(2026, 1, 31)", "2026-01-31"),
        ('date(date and time("2026-01-01T10:00:00"))', "2026-01-01"),
        ('time("10:30:00")', "10:30:00"),
        ('time("10:30:00+02:00")', "10:30:00+02:00"),
        ("time(10, 30, 0)", "10:30:00"),
        ('date and time("2026-01-01T10:00:00")', "2026-01-01T10:00:00"),
        ('date and time("2026-01-01T10:00:00Z")', "2026-01-01T10:00:00Z"),
        ('date and time("2026-01-01T10:00:00.5+01:00")', "2026-01-01T10:00:00.500000+01:00"),
        ('date and time("2026-07-01T10:00:00@Europe/Berlin")', "2026-07-01T10:00:00+02:00"),
        ('date and time("2026-01-01")', "2026-01-01T00:00:00"),
        ('date and time(date("2026-01-01"), time("08:00:00"))', "2026-01-01T08:00:00"),
        ('@"2026-01-01"', "2026-01-01"),
        ('@"2026-01-01T10:00:00Z"', "2026-01-01T10:00:00Z"),
        ('@"10:00:00"', "10:00:00"),
        ('@"P1DT2H"', "P1DT2H"),
        ('duration("P1D")', "P1D"),
        ('duration("PT90M")', "PT1H30M"),
        ('duration("-PT1.5S")', "-PT1.5S"),
        ('duration("P1Y2M")', "P1Y2M"),
        ('duration("P14M")', "P1Y2M"),
        ('duration("P0D")', "PT0S"),
        ('duration("P")', None),
        ('duration("1 day")', None),
        ('date("2012-12-25") - date("2012-12-24")', "P1D"),
        ('date and time("2012-12-24T23:59:00") + duration("PT1M")', "2012-12-25T00:00:00"),
        ('date("2026-01-01") + duration("P1D")', "2026-01-02"),
        ('duration("P1D") + date("2026-01-01")', "2026-01-02"),
        ('date("2026-01-31") + duration("P1M")', "2026-02-28"),
        ('date("2026-03-31") - duration("P1M")', "2026-02-28"),
        ('time("23:59:00") + duration("PT2M")', "00:01:00"),
        ('duration("PT1H") * 2', "PT2H"),
        ('duration("PT2H") / duration("PT1H")', 2),
        ('duration("P1DT2H") > duration("PT25H")', True),
        ('date("2026-01-02") > date("2026-01-01")', True),
        ('date and time("2026-01-01T10:00:00+02:00") = date and time("2026-01-01T08:00:00Z")', True),
        ('date and time("2026-01-01T10:00:00") < date and time("2026-01-01T10:00:00Z")', None),
        ('date("2026-01-01") = date and time("2026-01-01T00:00:00")', None),
        ('years and months duration(date("2011-12-22"), date("2013-08-24"))', "P1Y8M"),
        ('date("2019-09-17").year', 2019),
        ('date("2019-09-17").month', 9),
        ('date("2019-09-17").weekday', 2),
        ('date and time("2019-09-17T10:20:30").hour', 10),
        ('duration("P1DT2H").hours', 2),
        ('duration("P1Y2M").years', 1),
        ("day of week(date(2019, 9, 17))", "Tuesday"),
        ("day of year(date(2019, 9, 17))", 260),
        ("week of year(date(2019, 9, 17))", 38),
        ("month of year(date(2019, 9, 17))", "September"),
        ('date(when) < date("2026-06-01")', True),
    ],
)
def test_dates_times_and_durations_leave_as_iso_8601_text(source: str, expected: Any) -> None:
    assert feel(source, when="2026-01-01") == expected


def test_evaluate_feel_keeps_the_feel_values_for_dmn() -> None:
    expression = compile_feel('[date("2026-01-01"), time("10:00:00Z"), duration("PT1H"), 1]')
    first, clock, span, number = expression.evaluate_feel({})
    assert first == date(2026, 1, 1)
    assert clock.utcoffset() == timedelta(0)
    assert span == timedelta(hours=1)
    assert number == 1
    moment = compile_feel('date and time("2026-01-01T10:00:00Z")').evaluate_feel({})
    assert moment == datetime(2026, 1, 1, 10, tzinfo=UTC)


def test_a_range_cannot_leave_an_evaluation() -> None:
    with pytest.raises(EvaluationError, match="the result is a range, which cannot be stored"):
        feel("[1..10]")
    assert compile_feel("[1..10]").evaluate_feel({}).high == 10


# --- unary tests (DMN 1.3, 10.3.2.9 and decision table input entries) ---------------------


@pytest.mark.parametrize(
    ("tests", "matching", "not_matching"),
    [
        ("-", [1, "a", None, [1]], []),
        ("", [1, None], []),
        ('"A"', ["A"], ["B", None, 1]),
        ('"A","B"', ["A", "B"], ["C"]),
        ('not("A")', ["B", None], ["A"]),
        ('not("A", "B")', ["C"], ["A", "B"]),
        ("< 10", [9, 9.5], [10, None, "a"]),
        ("<= 10", [10], [11]),
        ("> 10", [11], [10]),
        (">= 5", [5, 6], [4]),
        ("= 5", [5], [4]),
        ("!= 5", [4], [5]),
        ("[1..10]", [1, 5, 10], [0, 11, None]),
        ("(1..10]", [2, 10], [1]),
        ("]1..10]", [2, 10], [1]),
        ("[1..10)", [1, 9], [10]),
        ("[1..10[", [1, 9], [10]),
        ("]1..10[", [5], [1, 10]),
        ("< 5, > 10", [1, 11], [5, 7, 10]),
        ("not(< 5, > 10)", [5, 7, 10], [1, 11]),
        ("5", [5, 5.0], [6]),
        ("-5", [-5], [5]),
        ("null", [None], [0, ""]),
        ("not(null)", [0, "a"], [None]),
        ("true", [True], [False, None]),
        ("? > 5", [6], [5, None, "a"]),
        ("? > 5 and ? < 10", [7], [5, 10]),
        ('starts with(?, "A")', ["Ab"], ["b"]),
        ("[1, 2, 3]", [2], [4]),
        ("< limit", [99], [100]),
        ("[low..high]", [10, 20], [9, 21]),
        ("limit", [100], [99]),
        ("allowed", ["gold"], ["tin"]),
        ("amount > 10", ["anything"], []),  # a boolean test of other variables, as Camunda allows
        ('>= date("2026-01-01")', [date(2026, 1, 1)], [date(2025, 12, 31), "2026-01-01"]),
        ('[date("2026-01-01")..date("2026-12-31")]', [date(2026, 6, 1)], [date(2027, 1, 1)]),
        ('"x", < 3', ["x", 1], [5]),
    ],
)
def test_unary_tests(tests: str, matching: list[Any], not_matching: list[Any]) -> None:
    compiled = compile_unary_tests(tests)
    variables = {"limit": 100, "low": 10, "high": 20, "allowed": ["gold", "silver"], "amount": 50}
    assert compiled.source == tests
    for value in matching:
        assert compiled.matches(value, variables) is True, value
    for value in not_matching:
        assert compiled.matches(value, variables) is False, value


def test_unary_tests_name_the_variables_they_read() -> None:
    assert compile_unary_tests("< limit, [low..high]").names == frozenset({"limit", "low", "high"})
    assert compile_unary_tests("? > 5").names == frozenset()


def test_a_date_input_compares_with_a_date_only_as_a_feel_value() -> None:
    """`evaluate` turns dates into text, so DMN feeds unary tests from `evaluate_feel` instead."""
    entry = compile_unary_tests('< date("2026-06-01")')
    value = compile_feel('date("2026-01-01")')
    assert entry.matches(value.evaluate_feel({}), {}) is True
    assert entry.matches(value.evaluate({}), {}) is False


@pytest.mark.parametrize(
    ("tests", "message"),
    [
        ("< ", "ends too early"),
        ("[1..10", "to close the range"),
        ('"A",', "ends too early"),
        ("not(1", "expected"),
    ],
)
def test_malformed_unary_tests_are_refused(tests: str, message: str) -> None:
    with pytest.raises(ExpressionInvalid, match=message):
        compile_unary_tests(tests)


# --- refusals -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("=", "the expression is empty"),
        ("=  ", "the expression is empty"),
        ("=foo(1)", r"foo\(\) is not a FEEL function here"),
        ('=string lenght("x")', r"string lenght\(\) is not a FEEL function here"),
        ("=sum(1..1000)", r"'a..b' is only allowed after 'for x in'"),
        ("=is defined(1)", "takes a variable name or a path"),
        ("=a = b = c", "comparisons cannot be chained"),
        ("=1 < x < 3", "comparisons cannot be chained"),
        ("=a == b", "compare with a single '='"),
        ("=a && b", "unexpected character '&'; write 'and'"),
        ("=a || b", "unexpected character '|'; write 'or'"),
        ("=!a", "write not"),
        ('="abc', "this string is never closed"),
        ('="a\\u12"', "needs 4 hexadecimal digits"),
        ("=/* open", "comment is never closed"),
        ("=< 10", "only allowed after 'in' or in a decision table cell"),
        ("=if a then b", "expected 'else'"),
        ("=for x in [1] x", "expected 'return'"),
        ("=some x in [1] x", "expected 'satisfies'"),
        ("=x instance of thing", "expected a type"),
        ("=(1 + 2", r"expected '\)' to close '\('"),
        ("=[1, 2", "expected ']' to close the list"),
        ("={a: 1", "expected '}' to close the context"),
        ("=1..2", "'a..b' is only allowed after 'for x in'"),
        ("=then", "unexpected 'then'"),
        ("=1 +", "ends too early"),
    ],
)
def test_refused_at_deploy(source: str, message: str) -> None:
    with pytest.raises(ExpressionInvalid, match=message):
        compile_expression(source)


@pytest.mark.parametrize(
    ("source", "warning"),
    [
        ("count(1, 2)", "count() takes 1 argument (2 given), so it is null (at character 1)"),
        ("substring()", "substring() takes 2 to 3 arguments (0 given), so it is null"),
        ("max()", "max() takes at least 1 argument (0 given), so it is null"),
        ("{a: 1, a: 2}", "the key 'a' appears twice in this context, so it is null (at character 8)"),
        ('@"tomorrow"', '@"tomorrow" is not a date, time, date and time or duration, so it is null'),
        ('@"2024-02-30"', '@"2024-02-30" is not a date, time, date and time or duration, so it is null'),
    ],
)
def test_what_feel_defines_as_null_compiles_to_null_with_a_warning(source: str, warning: str) -> None:
    """DMN 1.5, 10.3.2.9: these are null at run time, so the deploy goes on and says so."""
    expression = compile_feel(source)
    assert expression.evaluate({}) is None
    (said,) = expression.warnings
    assert said.startswith(warning)
    assert compile_feel("1 + 1").warnings == ()


def test_regular_expressions_run_in_linear_time() -> None:
    """A pattern such as `(a+)+$` takes exponential time on a backtracking engine; RE2's is linear."""
    with quickly():
        assert feel('matches(text, "(a+)+$")', text="a" * 100_000 + "!") is False
        assert feel('count(split(text, "(x+x+)+y"))', text="x" * 100_000) == 1


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("for x in 1..1000000000 return x", "going from 1 to 1000000000 goes over the limit of 2,000,000"),
        ("some x in 1..1000000000 satisfies x > 5", "goes over the limit"),
        (
            "count(for x in 1..1500, y in 1..1500 return 1)",
            "goes over the limit|ms of CPU time",
        ),  # whichever bound comes first
        ("for x in [1..1000000000] return x", "goes over the limit"),
        ("2 ** 100000", "more than 10,000 bits"),
        ("product(10 ** 3000, 10 ** 3000)", "more than 10,000 bits"),
        (
            "{" + ", ".join(['k0: "xxxxxxxxxxxxxxxx"'] + [f"k{n}: k{n - 1} + k{n - 1}" for n in range(1, 40)]) + "}",
            "joining this text goes over the limit",
        ),
        ("count(for x in 1..1000 return string join(big))", "goes over the limit|ms of CPU time"),
        ('count(for x in 1..100 return big[item = "x"])', "goes over the limit|ms of CPU time"),
    ],
)
def test_evaluation_refuses_to_blow_up(source: str, message: str) -> None:
    expression = compile_feel(source)
    with quickly(), pytest.raises(EvaluationError, match=message):
        expression.evaluate({"big": ["x"] * 100_000})


def test_large_but_bounded_work_is_fine() -> None:
    assert feel("count(for x in 1..100000 return x)") == 100_000
    assert feel("count(items[item > 5])", items=list(range(1000))) == 994


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("=" + "(" * 150 + "1" + ")" * 150, "nested too deeply"),
        ("=" + "+".join(["1"] * 150), "nested too deeply"),
        ("=" + "-" * 200 + "1", "nested too deeply"),
        ("=[" + ",".join(["1+1"] * 1700) + "]", "too many parts"),
        ("=" + "x" * MAX_SOURCE_LENGTH, "the limit is 10,000"),
        ("=1" + "0" * 5000, "this number is too long"),
    ],
)
def test_hostile_sizes_are_refused_at_deploy(source: str, message: str) -> None:
    with quickly(), pytest.raises(ExpressionInvalid, match=message):
        compile_expression(source)


def test_any_exception_from_the_variables_becomes_an_evaluation_error() -> None:
    class Hostile(dict[str, Any]):
        def __contains__(self, key: object) -> bool:
            raise RuntimeError("boom")

    with pytest.raises(EvaluationError, match="boom"):
        compile_feel("x").evaluate(Hostile())


def test_compile_refuses_what_is_not_text() -> None:
    with pytest.raises(TypeError):
        compile_feel(42)  # type: ignore[arg-type]


# --- positions in errors ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "offset", "at"),
    [
        ("=amount >", 9, ""),
        ("=a && b", 3, "&"),
        ("= 1 + foo(2)", 6, "foo"),
        ('=string lenght("x")', 1, "string"),
        ("=a = b = c", 7, "="),
        ("=a == b", 4, "="),
        ('="abc', 1, '"'),
        ("  =  foo(1, 2)", 5, "foo"),
        ("=é + foo(2)", 5, "foo"),  # characters, not UTF-8 bytes
    ],
)
def test_errors_give_the_column_in_the_source_as_written(source: str, offset: int, at: str) -> None:
    with pytest.raises(ExpressionInvalid) as caught:
        compile_expression(source)
    assert caught.value.offset == offset
    assert source[offset:].startswith(at)
    assert f"at column {offset + 1}" in caught.value.message
    assert caught.value.details["column"] == offset + 1


def test_errors_on_later_lines_name_the_line_and_its_column() -> None:
    with pytest.raises(ExpressionInvalid) as caught:
        compile_expression("=amount > 1000\n  and foo(x)")
    assert "line 2" in caught.value.message
    assert caught.value.offset == 6


def test_runtime_errors_name_the_expression() -> None:
    with pytest.raises(EvaluationError) as caught:
        compile_expression('=assert(x, false, "no")').evaluate({"x": 1})
    assert caught.value.message == "expression '=assert(x, false, \"no\")': no"
    assert caught.value.details == {"expression": '=assert(x, false, "no")'}


# --- names --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "names"),
    [
        ("=amount > limit and customer.vip", {"amount", "limit", "customer"}),
        ("=for x in items return x.price", {"items"}),
        ("=some x in a, y in x satisfies y > b", {"a", "b"}),
        ("={a: 1, b: a + c}", {"c"}),
        ("=items[price > 10]", {"items", "price"}),  # a filter's names may be keys of the items
        ("=is defined(order.total)", {"order"}),
        ('=count([1, 2]) + string length("x")', set()),
    ],
)
def test_names_lists_the_variables_read(source: str, names: set[str]) -> None:
    assert compile_feel(source).names == frozenset(names)
