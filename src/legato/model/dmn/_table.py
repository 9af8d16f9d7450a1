"""A decision table as data: inputs, outputs, rules and the hit policy (DMN 1.3, 8).

Every FEEL text is compiled when its clause or rule is built, so a table that exists is a
table whose every cell parses. The compiled forms sit beside the text in fields that are
not part of equality; the text is what is stored (`to_dict`) and compared.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from legato.errors import ModelInvalid, Problem
from legato.model.dmn import _feel
from legato.model.dmn._feel import CompiledExpression, CompiledTests


class HitPolicy(StrEnum):
    """How the matching rules make the result (DMN 1.3, 8.2.11), spelled as in the XML."""

    UNIQUE = "UNIQUE"
    """At most one rule may match; more is an error naming them."""
    FIRST = "FIRST"
    """The first matching rule in table order."""
    PRIORITY = "PRIORITY"
    """The matching rule whose outputs come first in the outputs' `output_values`."""
    ANY = "ANY"
    """Several rules may match if their outputs are equal; otherwise an error naming them."""
    COLLECT = "COLLECT"
    """Every matching rule, as a list, or reduced by an `Aggregation`."""
    RULE_ORDER = "RULE ORDER"
    """Every matching rule, as a list in table order."""
    OUTPUT_ORDER = "OUTPUT ORDER"
    """Every matching rule, as a list ordered by the outputs' `output_values`."""

    @property
    def single_hit(self) -> bool:
        return self in (HitPolicy.UNIQUE, HitPolicy.FIRST, HitPolicy.PRIORITY, HitPolicy.ANY)


class Aggregation(StrEnum):
    """What COLLECT does with the outputs of the matching rules (C+, C<, C>, C#)."""

    SUM = "SUM"
    MIN = "MIN"
    MAX = "MAX"
    COUNT = "COUNT"


@dataclass(frozen=True, kw_only=True, slots=True)
class InputClause:
    """One input column: the FEEL expression whose value the rules' input entries test."""

    id: str | None = None
    label: str | None = None
    expression: str
    type_ref: str | None = None
    line: int | None = None
    compiled: CompiledExpression = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        what = "input expression"
        compiled = _feel.expression(self.expression, element=self.id, what=what, line=self.line)
        object.__setattr__(self, "compiled", compiled)

    @property
    def title(self) -> str:
        return self.label or self.expression


@dataclass(frozen=True, kw_only=True, slots=True)
class OutputClause:
    """One output column.

    `output_values` is a comma-separated list (`"high","medium","low"`) that both limits and
    ranks the outputs: PRIORITY and OUTPUT ORDER take its order as the order of priority.
    `default` (DMN 1.3 `defaultOutputEntry`) is the value when no rule matches.
    """

    id: str | None = None
    name: str | None = None
    label: str | None = None
    type_ref: str | None = None
    output_values: str | None = None
    default: str | None = None
    line: int | None = None
    ranked_values: tuple[CompiledTests, ...] = field(init=False, repr=False, compare=False)
    compiled_default: CompiledExpression | None = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        what = "output values"
        ranked = tuple(
            _feel.unary_tests(item, element=self.id, what=what, line=self.line)
            for item in _feel.split_tests(self.output_values or "")
        )
        object.__setattr__(self, "ranked_values", ranked)
        default = None
        if self.default is not None and self.default.strip():
            what = "default output entry"
            default = _feel.expression(self.default, element=self.id, what=what, line=self.line)
        object.__setattr__(self, "compiled_default", default)

    @property
    def title(self) -> str:
        return self.name or self.label or self.id or "output"

    def rank(self, value: Any) -> int:
        """Where `value` stands in `output_values` (0 is the highest priority); unlisted last."""
        for index, tests in enumerate(self.ranked_values):
            if tests.matches(value, {}):
                return index
        return len(self.ranked_values)


@dataclass(frozen=True, kw_only=True, slots=True)
class Rule:
    """One row: unary tests per input, a FEEL expression per output (blank is null)."""

    id: str
    input_entries: tuple[str, ...]
    output_entries: tuple[str, ...]
    description: str | None = None
    annotations: tuple[str, ...] = ()
    line: int | None = None
    tests: tuple[CompiledTests, ...] = field(init=False, repr=False, compare=False)
    outputs: tuple[CompiledExpression | None, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        for name in ("input_entries", "output_entries", "annotations"):
            object.__setattr__(self, name, tuple(getattr(self, name)))
        problems: list[Problem] = []
        tests: list[CompiledTests] = []
        for number, text in enumerate(self.input_entries, 1):
            what = f"input entry {number}"
            try:
                tests.append(_feel.unary_tests(text, element=self.id, what=what, line=self.line))
            except ModelInvalid as error:
                problems.extend(error.problems)
        outputs: list[CompiledExpression | None] = []
        for number, text in enumerate(self.output_entries, 1):
            what = f"output entry {number}"
            try:
                compiled = _feel.expression(text, element=self.id, what=what, line=self.line) if text.strip() else None
                outputs.append(compiled)
            except ModelInvalid as error:
                problems.extend(error.problems)
        if problems:
            raise ModelInvalid(problems)
        object.__setattr__(self, "tests", tuple(tests))
        object.__setattr__(self, "outputs", tuple(outputs))


@dataclass(frozen=True, kw_only=True, slots=True)
class DecisionTable:
    """Inputs, outputs and rules under one hit policy (DMN 1.3, 8.2).

    The table is checked as a whole when built: each rule has one entry per input and per
    output, outputs of a table with several are named, an aggregation goes with COLLECT and
    a single output, PRIORITY and OUTPUT ORDER have output values to rank by.
    """

    id: str | None = None
    inputs: tuple[InputClause, ...] = ()
    outputs: tuple[OutputClause, ...]
    rules: tuple[Rule, ...] = ()
    hit_policy: HitPolicy = HitPolicy.UNIQUE
    aggregation: Aggregation | None = None
    annotation_names: tuple[str, ...] = ()
    line: int | None = None

    def __post_init__(self) -> None:
        for name in ("inputs", "outputs", "rules", "annotation_names"):
            object.__setattr__(self, name, tuple(getattr(self, name)))
        try:
            object.__setattr__(self, "hit_policy", HitPolicy(self.hit_policy))
            if self.aggregation is not None:
                object.__setattr__(self, "aggregation", Aggregation(self.aggregation))
        except ValueError as error:
            known = ", ".join([*HitPolicy, *Aggregation])
            message = f"{error}; the hit policies and aggregations are {known}"
            raise ModelInvalid([Problem(element=self.id, message=message, line=self.line)]) from None
        problems = self._problems()
        if problems:
            raise ModelInvalid(problems)

    def _problems(self) -> list[Problem]:
        def problem(message: str, element: str | None = self.id, line: int | None = self.line) -> None:
            problems.append(Problem(element=element, message=message, line=line))

        problems: list[Problem] = []
        if not self.outputs:
            problem("a decision table needs at least one output")
        if len(self.outputs) > 1:
            names = [output.name for output in self.outputs]
            if not all(names):
                problem("each output of a table with several outputs needs a name (the key of its value)")
            elif len(set(names)) < len(names):
                problem(f"output names must differ, but these repeat: {_repeated(names)}")
        if self.aggregation is not None:
            if self.hit_policy is not HitPolicy.COLLECT:
                problem(f"aggregation {self.aggregation} goes only with hit policy COLLECT, not {self.hit_policy}")
            if len(self.outputs) > 1:
                problem(f"aggregation {self.aggregation} needs exactly one output (DMN 1.3, 8.2.11)")
        ranked = self.hit_policy in (HitPolicy.PRIORITY, HitPolicy.OUTPUT_ORDER)
        if ranked and not any(output.ranked_values for output in self.outputs):
            problem(f"hit policy {self.hit_policy} ranks rules by the outputs' output values, and none has any")
        ids = [rule.id for rule in self.rules]
        if len(set(ids)) < len(ids):
            problem(f"rule ids must differ, but these repeat: {_repeated(ids)}")
        for rule in self.rules:
            if len(rule.input_entries) != len(self.inputs):
                problem(
                    f"has {len(rule.input_entries)} input entries for {len(self.inputs)} inputs", rule.id, rule.line
                )
            if len(rule.output_entries) != len(self.outputs):
                problem(
                    f"has {len(rule.output_entries)} output entries for {len(self.outputs)} outputs", rule.id, rule.line
                )
        return problems


def _repeated(values: list[Any]) -> str:
    return ", ".join(sorted({repr(value) for value in values if values.count(value) > 1}))
