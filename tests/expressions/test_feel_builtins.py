"""FEEL's built-in functions of DMN 1.5 (10.3.4), case by case from the examples of the spec's tables."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest

from legato.errors import EvaluationError
from legato.expressions.feel import compile_feel, feel_clock
from legato.formats.dmn_xml import load_dmn
from legato.model.dmn import evaluate
from support import quickly


def plain(value: Any) -> Any:
    """Decimals as the JSON numbers they are stored as, so the spec's examples read as written."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, list):
        return [plain(item) for item in value]
    if isinstance(value, dict):
        return {key: plain(item) for key, item in value.items()}
    return value


def feel(source: str, **variables: Any) -> Any:
    return plain(compile_feel(source).evaluate_feel(variables))


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        # 10.3.4.2 boolean: is()
        ('is(date("2012-12-25"), time("23:00:50"))', False),
        ('is(date("2012-12-25"), date("2012-12-25"))', True),
        ('is(time("23:00:50z"), time("23:00:50"))', False),
        ('is(time("23:00:50Z"), time("23:00:50+00:00"))', True),
        ("is(1, 1)", True),
        ('is(1, "1")', False),
        # 10.3.4.3 strings
        ('substring before("foobar", "bar")', "foo"),
        ('substring before("foobar", "xyz")', ""),
        ('substring before("foobar", "")', ""),
        ('substring after("foobar", "ob")', "ar"),
        ('substring after("", "a")', ""),
        ('substring after("foobar", "")', "foobar"),
        ('string join(["a", "b", "c"], ", ")', "a, b, c"),
        ('string join(["a", "b", "c"])', "abc"),
        ('string join(["a", null, "c"])', "ac"),
        ('string join(["a", "b"], null)', "ab"),
        ('string join([], "X")', ""),
        ('matches("foobar", "^fo*b")', True),
        ('matches("foobar", "^FO*B", "i")', True),
        ('matches("abracadabra", "bra")', True),
        ('matches("abracadabra", "^a.*a$")', True),
        ('matches("abracadabra", "^bra")', False),
        ('matches("a\nb", "a.b")', False),
        ('matches("a\nb", "a.b", "s")', True),
        ('matches("a\nb", "^b$", "m")', True),
        ('matches("abc", "a b c", "x")', True),
        ('matches("a.c", "a.c", "q")', True),
        ('matches("abc", "a.c", "q")', False),
        ('matches("٣", "^\\d$")', True),  # XML Schema's \d is every Unicode digit
        ('matches("abc", "[")', None),  # not a regular expression
        ('matches("abc", "a", "z")', None),  # not a flag
        ('replace("abcd", "(ab)|(a)", "[1=$1][2=$2]")', "[1=ab][2=]cd"),
        ('replace("facetiously", "[iouy]", "[$0]")', "facet[i][o][u]sl[y]"),
        ('replace("abc", "b", "\\$")', "a$c"),
        ('replace("abracadabra", "bra", "*")', "a*cada*"),
        ('replace("abracadabra", "a.*a", "*")', "*"),
        ('replace("abracadabra", "a.*?a", "*")', "*c*bra"),
        ('replace("AAAA", "A+", "b")', "b"),
        ('replace("darted", "^(.*?)d(.*)$", "$1c$2")', "carted"),
        ('replace("abc", "", "x")', None),  # a pattern that matches "" (XPath FORX0003)
        ('replace("abc", "b", "$")', None),  # a lone $ in the replacement
        ('split("John Doe", "\\s")', ["John", "Doe"]),
        ('split("a;b;c;;", ";")', ["a", "b", "c", "", ""]),
        ('split("a1B2c", "[a-z]", "i")', ["", "1", "2", ""]),
        ('split("abc", "x*")', None),
        # 10.3.4.4 lists
        ("list replace([2, 4, 7, 8], 3, 6)", [2, 4, 6, 8]),
        ("list replace([2, 4, 7, 8], -1, 6)", [2, 4, 7, 6]),
        ("list replace([2, 4], 5, 6)", None),
        ("product([2, 3, 4])", 24),
        ("product(2, 3, 4)", 24),
        ("product([])", None),
        ("median(8, 2, 5, 3, 4)", 4),
        ("median([6, 1, 2, 3])", 2.5),
        ("median([])", None),
        ("stddev(2, 4, 7, 5)", pytest.approx(2.0816659994661326)),
        ("stddev([47])", None),
        ("stddev(47)", None),
        ("stddev([])", None),
        ('stddev([1, "a"])', None),
        ("mode(6, 3, 9, 6, 6)", [6]),
        ("mode([6, 1, 9, 6, 1])", [1, 6]),
        ("mode([])", []),
        ("sort([3, 1, 4, 5, 2])", [1, 2, 3, 4, 5]),
        ('sort(["b", "a"])', ["a", "b"]),
        ('sort([1, "a"])', None),
        # 10.3.4.5 numbers
        ("decimal(1/3, 2)", 0.33),
        ("decimal(1.5, 0)", 2),
        ("decimal(2.5, 0)", 2),  # half to even
        ("decimal(1.035, 2)", 1.04),
        ("decimal(1.045, 2)", 1.04),
        ("decimal(1.5, 1.5)", None),  # a scale must be whole
        ("decimal(1.5, 7000)", None),  # beyond decimal128's exponents
        ("floor(1.5)", 1),
        ("floor(-1.56, 1)", -1.6),
        ("ceiling(1.5)", 2),
        ("ceiling(-1.56, 1)", -1.5),
        ("round up(5.5)", 6),
        ("round up(-5.5)", -6),
        ("round up(1.121, 2)", 1.13),
        ("round up(-1.126, 2)", -1.13),
        ("round down(5.5, 0)", 5),
        ("round down(-5.5, 0)", -5),
        ("round down(1.121, 2)", 1.12),
        ("round down(-1.126, 2)", -1.12),
        ("round half up(5.5, 0)", 6),
        ("round half up(-5.5, 0)", -6),
        ("round half up(1.121, 2)", 1.12),
        ("round half up(-1.126, 2)", -1.13),
        ("round half up(1.005, 2)", 1.01),  # decimal, not binary: 1.005 is 1.005
        ("round half down(5.5, 0)", 5),
        ("round half down(-5.5, 0)", -5),
        ("round half down(1.121, 2)", 1.12),
        ("round half down(-1.126, 2)", -1.13),
        ("abs(10)", 10),
        ("abs(-10)", 10),
        ('abs(@"PT5H")', timedelta(hours=5)),
        ('abs(@"-PT5H")', timedelta(hours=5)),
        ('abs(@"-P2Y") = @"P2Y"', True),
        ("modulo(12, 5)", 2),
        ("modulo(-12, 5)", 3),
        ("modulo(12, -5)", -3),
        ("modulo(-12, -5)", -2),
        ("modulo(10.1, 4.5)", 1.1),
        ("modulo(-10.1, 4.5)", 3.4),
        ("modulo(10.1, -4.5)", -3.4),
        ("modulo(-10.1, -4.5)", -1.1),
        ("modulo(1, 0)", None),
        # 10.3.4.7 contexts
        ('get value({key1: "value1"}, "key1")', "value1"),
        ('get value({key1: "value1"}, "unexistent-key")', None),
        ('get value({a: {b: 1}}, ["a", "b"])', 1),
        (
            'get entries({key1: "value1", key2: "value2"})',
            [{"key": "key1", "value": "value1"}, {"key": "key2", "value": "value2"}],
        ),
        ('context put({x: 1}, "y", 2)', {"x": 1, "y": 2}),
        ('context put({x: 1, y: 0}, "y", 2)', {"x": 1, "y": 2}),
        ('context put({x: 1, y: {a: 0}}, ["y", "a"], 2)', {"x": 1, "y": {"a": 2}}),
        ('context put({x: 1}, ["y", "a"], 2)', None),
        ("context merge([{x: 1}, {y: 2}])", {"x": 1, "y": 2}),
        ("context merge([{x: 1, y: 0}, {y: 2}])", {"x": 1, "y": 2}),
        ('context([{key: "a", value: 1}, {key: "b", value: 2}])', {"a": 1, "b": 2}),
        ('context([{key: "a", value: 1}, {key: "a", value: 2}])', None),
        ('context([{key: "a"}])', None),
        # 10.3.4.9 ranges and points
        ("before(1, 10)", True),
        ("before(10, 1)", False),
        ("before(1, [2..5])", True),
        ("before([1..5], 10)", True),
        ("before([1..5], [6..10])", True),
        ("before([1..5], [5..10])", False),
        ("before([1..5), [5..10])", True),
        ("before([1..5], (5..10])", True),
        ("after(10, 1)", True),
        ("after(1, 10)", False),
        ("after(12, [2..5])", True),
        ("after([6..10], [1..5])", True),
        ("after((5..10], [1..5])", True),
        ("meets([1..5], [5..10])", True),
        ("meets([1..5), [5..10])", False),
        ("meets([1..5], [6..10])", False),
        ("met by([5..10], [1..5])", True),
        ("met by([5..10], [1..5))", False),
        ("overlaps([1..5], [3..8])", True),
        ("overlaps([3..8], [1..5])", True),
        ("overlaps([1..8], [3..5])", True),
        ("overlaps([1..5], [6..8])", False),
        ("overlaps([1..5], [5..8])", True),
        ("overlaps([1..5], (5..8])", False),
        ("overlaps before([1..5], [3..8])", True),
        ("overlaps before([1..5], [6..8])", False),
        ("overlaps before([1..5], [5..8])", True),
        ("overlaps before([1..5], (5..8])", False),
        ("overlaps before([1..5), [5..8])", False),
        ("overlaps after([3..8], [1..5])", True),
        ("overlaps after([6..8], [1..5])", False),
        ("overlaps after((5..8], [1..5))", False),
        ("finishes(10, [1..10])", True),
        ("finishes(10, [1..10))", False),
        ("finishes([5..10], [1..10])", True),
        ("finishes([5..10), [1..10])", False),
        ("finishes([1..10], [1..10])", True),
        ("finished by([1..10], 10)", True),
        ("finished by([1..10], [5..10])", True),
        ("finished by([1..10], [5..10))", False),
        ("includes([1..10], 5)", True),
        ("includes([1..10], 12)", False),
        ("includes([1..10], 1)", True),
        ("includes((1..10], 1)", False),
        ("includes([1..10], [4..6])", True),
        ("includes([1..10], [1..10])", True),
        ("includes([1..10), [1..10])", False),
        ("during(5, [1..10])", True),
        ("during(12, [1..10])", False),
        ("during([4..6], [1..10])", True),
        ("during((1..5], (1..10])", True),
        ("starts(1, [1..5])", True),
        ("starts(1, (1..8])", False),
        ("starts([1..5], [1..10])", True),
        ("starts((1..5], [1..10])", False),
        ("started by([1..10], 1)", True),
        ("started by([1..10], [1..5])", True),
        ("started by([1..10], (1..5])", False),
        ("coincides(5, 5)", True),
        ("coincides(3, 4)", False),
        ("coincides([1..5], [1..5])", True),
        ("coincides((1..5], [1..5))", False),
        ('before(1, "a")', None),
        ("before([1..5], null)", None),
        ("includes([1..null], 1000)", True),  # a null endpoint is open: no bound
        ('range("[18..21)") = [18..21)', True),
        ('includes(range("[18..21)"), 21)', False),
        ('includes(range("<= 10"), 3)', True),
        ('includes(range(">= 10"), 3)', False),
        ('includes(range("[@\\"2024-01-01\\"..@\\"2024-12-31\\"]"), @"2024-06-01")', True),
        ('includes(range("[date(\\"2024-01-01\\")..date(\\"2024-12-31\\")]"), @"2025-06-01")', False),
        ('range("[1..\\"a\\"]")', None),  # endpoints of different kinds
        ('range("[5..1]")', None),  # descending
        ('range("[x..10]")', None),  # not a literal
        ('range("nonsense")', None),
    ],
)
def test_built_in_functions_of_dmn_1_5(source: str, expected: Any) -> None:
    assert feel(source) == expected


def test_ranges_from_text_are_ranges() -> None:
    assert feel('18 in range("[18..21)")') is True
    assert feel('21 in range("[18..21)")') is False
    assert feel('(range("(1..10]")).start') == 1


def test_regular_expressions_refuse_what_a_linear_engine_cannot_run() -> None:
    with pytest.raises(EvaluationError, match=r"back-reference \\1 .* not supported: it needs a backtracking engine"):
        feel('matches("aa", "(a)\\1")')
    with pytest.raises(EvaluationError, match="character class subtraction"):
        feel('matches("b", "[a-z-[aeiou]]")')
    with pytest.raises(EvaluationError, match="Unicode block names"):
        feel('matches("a", "\\p{IsBasicLatin}")')


def test_no_pattern_can_hang_an_evaluation() -> None:
    with quickly():
        assert feel('matches(text, "^(a|a)*$")', text="a" * 50_000 + "b") is False
        assert feel('replace(text, "(a*)*b", "x")', text="a" * 50_000) == "a" * 50_000


def test_now_and_today_are_the_injected_time() -> None:
    moment = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)
    with feel_clock(moment):
        assert feel("now()") == moment
        assert feel("today()") == date(2026, 3, 1)
        assert feel('now() > @"2026-01-01T00:00:00Z"') is True
    with feel_clock(datetime(2026, 3, 1, 23, 0, tzinfo=timezone(timedelta(hours=-5)))):
        assert feel("today()") == date(2026, 3, 1)  # the date where the clock is
    with feel_clock(datetime(2026, 3, 1, 9, 30)):  # a naive time is UTC
        assert feel("now()").utcoffset() == timedelta(0)


def test_now_without_an_injected_time_names_the_cause() -> None:
    with pytest.raises(EvaluationError, match=r"now\(\) needs the time of the evaluation"):
        feel("now()")
    with pytest.raises(EvaluationError, match=r"today\(\) needs the time"):
        feel('today() + duration("P1D")')


TRIAL = """<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="https://www.omg.org/spec/DMN/20230324/MODEL/" id="Definitions_0trl1a" name="Trial"
    namespace="http://example.com/trial">
  <decision id="Decision_0trl2b" name="Trial active">
    <variable id="InformationItem_0trl3c" name="Trial active" typeRef="boolean" />
    <literalExpression id="LiteralExpression_0trl4d">
      <text>today() &lt;= date(signedUp) + duration("P30D")</text>
    </literalExpression>
  </decision>
</definitions>
"""


def test_a_decision_reads_the_time_its_caller_injects() -> None:
    model = load_dmn(TRIAL)
    march = datetime(2026, 3, 10, 8, 0, tzinfo=UTC)
    assert evaluate(model, "Trial active", {"signedUp": "2026-03-01"}, now=march).value is True
    assert evaluate(model, "Trial active", {"signedUp": "2026-01-01"}, now=march).value is False
    with pytest.raises(EvaluationError, match=r"today\(\) needs the time"):
        evaluate(model, "Trial active", {})
