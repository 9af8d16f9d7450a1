"""FEEL, the expression language of DMN and of Camunda 8 models (DMN 1.3, chapter 10).

A Camunda 8 BPMN file writes a condition as `=amount > 1000 and customer.vip = true`, and a
DMN decision table fills its cells with FEEL expressions and unary tests (`< 10`, `[1..5]`,
`"gold","silver"`, `not("red")`). This package reads the subset of FEEL those files use. The
text is tokenised and parsed by hand (a Pratt parser) into a small syntax tree, checked once,
and compiled into nested Python closures; nothing the modeler wrote is ever handed to `eval`.

FEEL's rules are kept where a model's meaning depends on them: a missing variable, a
missing key, an operation on the wrong types and a comparison of different types all give
null rather than an error (Camunda 8, "FEEL error handling"); `and`/`or` are three-valued
(`null and false` is false, `null and true` is null); `=` compares, `null = null` is true.
Where Legato is stricter than Camunda it says so at deploy: an unknown function and a
function definition are errors. What FEEL defines as null whatever the variables (a wrong
number of arguments, a duplicate context key) compiles to null with a warning.

Evaluation is bounded like the Legato dialect's: an evaluation may build or walk at most
`MAX_WORK` items and characters (iterations of `for`/`some`/`every`, filtered items, joined
text), integers stay under `MAX_INT_BITS`, and regular expressions run on RE2, whose time is
linear in the text. `now()` and `today()` give the time the caller passes with
`feel_clock(now)`, never the wall clock, so a replay gives the same answer.

Values: FEEL numbers are Python `int` (whole) and `Decimal` (34 digits, DMN's decimal128), strings, booleans,
lists, contexts (dicts), dates, times, date-times, durations and ranges. What an expression
returns must be stored as JSON, so `evaluate` turns dates, times and durations into ISO 8601
text; `evaluate_feel` keeps them (DMN uses it to feed unary tests). docs/expressions.md is
the user reference.
"""

from __future__ import annotations

from legato.expressions.feel._builtins import FEEL_FUNCTIONS
from legato.expressions.feel._clock import feel_clock
from legato.expressions.feel._expression import FeelExpression, UnaryTests, compile_feel, compile_unary_tests

__all__ = ["FEEL_FUNCTIONS", "FeelExpression", "UnaryTests", "compile_feel", "compile_unary_tests", "feel_clock"]
