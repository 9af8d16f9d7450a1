"""Decisions and the decision requirements graph that links them (DMN 1.3, 6).

A `DecisionModel` is what one DMN file defines: decisions by id, each with its logic (a
decision table or a literal FEEL expression) and the decisions it requires. The graph is
checked when the model is built: every required decision exists and no decision requires
itself through others, so evaluation can always run the requirements first.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from legato.errors import ModelInvalid, Problem
from legato.model.dmn import _feel
from legato.model.dmn._feel import CompiledExpression
from legato.model.dmn._table import DecisionTable

__all__ = ["Decision", "DecisionModel", "LiteralExpression", "UnsupportedLogic"]


@dataclass(frozen=True, kw_only=True, slots=True)
class LiteralExpression:
    """Decision logic that is one FEEL expression (DMN 1.3, 10.2)."""

    id: str | None = None
    text: str
    type_ref: str | None = None
    line: int | None = None
    compiled: CompiledExpression = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        compiled = _feel.expression(self.text, element=self.id, what="literal expression", line=self.line)
        object.__setattr__(self, "compiled", compiled)


@dataclass(frozen=True, kw_only=True, slots=True)
class UnsupportedLogic:
    """Decision logic Legato cannot run, kept so that the rest of its file still deploys.

    DMN files from other tools often mix decisions Legato runs with ones it does not (a
    business knowledge model, a boxed context, FEEL it does not read). Refusing the whole
    file for one of them would leave every other decision undeployable, so the import keeps
    the decision with this in place of its logic and reports it as a warning; evaluating it,
    or a decision that requires it, is an EvaluationError that names `construct` and `reason`.
    """

    construct: str
    """What Legato does not run, in a few words: "boxed context", "business knowledge model"."""
    reason: str
    """The whole explanation, as the import's warning gave it."""
    line: int | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class Decision:
    """One decision: its logic and the decisions whose results it reads (DMN 1.3, 6.3.7).

    A required decision's result is given to this one as a variable named after the
    required decision (its name, and its id as well), as DMN's information requirements do.
    """

    id: str
    name: str | None = None
    logic: DecisionTable | LiteralExpression | UnsupportedLogic
    required_decisions: tuple[str, ...] = ()
    line: int | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "required_decisions", tuple(self.required_decisions))

    @property
    def runnable(self) -> bool:
        """False when its logic is `UnsupportedLogic`: it is deployed but cannot be evaluated."""
        return not isinstance(self.logic, UnsupportedLogic)

    @property
    def variable_name(self) -> str:
        """The name its result goes by for the decisions that require it."""
        return self.name or self.id


@dataclass(frozen=True, kw_only=True)
class DecisionModel:
    """The decisions of one DMN `definitions` element, by id, with a checked requirements graph."""

    id: str
    name: str | None = None
    namespace: str | None = None
    decisions: Mapping[str, Decision]

    def __post_init__(self) -> None:
        object.__setattr__(self, "decisions", MappingProxyType(dict(self.decisions)))
        problems = _graph_problems(self.decisions)
        if problems:
            raise ModelInvalid(problems)

    def find(self, reference: str) -> Decision | None:
        """The decision with this id or, failing that, the only one with this name."""
        if reference in self.decisions:
            return self.decisions[reference]
        named = [decision for decision in self.decisions.values() if decision.name == reference]
        return named[0] if len(named) == 1 else None

    def requirements(self, decision_id: str) -> tuple[str, ...]:
        """The ids of every decision `decision_id` needs, directly or not, each before its dependants."""
        order = _depth_first(self.decisions, decision_id, on_cycle=None)
        return tuple(order[:-1])

    def to_dict(self) -> dict[str, Any]:
        """The stored JSON form (see `legato.model.dmn.to_dict`)."""
        from legato.model.dmn._serialize import to_dict

        return to_dict(self)

    @classmethod
    def from_dict(cls, data: Any) -> DecisionModel:
        """A model from its stored JSON form; malformed data raises ModelInvalid."""
        from legato.model.dmn._serialize import from_dict

        return from_dict(data)


def _graph_problems(decisions: Mapping[str, Decision]) -> list[Problem]:
    problems: list[Problem] = []
    for key, decision in decisions.items():
        if key != decision.id:
            problems.append(Problem(element=decision.id, message=f"is filed under the id {key!r}", line=decision.line))
        for required in decision.required_decisions:
            if required not in decisions:
                message = f"requires decision {required!r}, which this model does not define"
                problems.append(Problem(element=decision.id, message=message, line=decision.line))
    if problems:
        return problems
    return _cycles(decisions)


def _cycles(decisions: Mapping[str, Decision]) -> list[Problem]:
    """One problem per cycle in the requirements graph, with the path that closes it."""
    problems: list[Problem] = []
    done: set[str] = set()

    def report(cycle: list[str]) -> None:
        message = f"requires itself through {' -> '.join(cycle)}; a decision requirements graph has no cycles"
        problems.append(Problem(element=cycle[0], message=message, line=decisions[cycle[0]].line))

    for decision_id in decisions:
        if decision_id not in done:
            done.update(_depth_first(decisions, decision_id, on_cycle=report, done=done))
    return problems


def _depth_first(
    decisions: Mapping[str, Decision],
    start: str,
    *,
    on_cycle: Callable[[list[str]], None] | None,
    done: set[str] | None = None,
) -> list[str]:
    """The decisions reachable from `start`, each after those it requires, `start` last.

    Iterative, so a long chain of requirements cannot exhaust Python's recursion limit.
    A decision in `done` is taken as visited already; a cycle is passed to `on_cycle`.
    """
    finished: list[str] = []
    seen = set(done or ())
    path: list[str] = [start]
    on_path = {start}
    pending: list[Iterator[str]] = [iter(decisions[start].required_decisions)]
    while pending:
        required = next(pending[-1], None)
        if required is None:
            pending.pop()
            current = path.pop()
            on_path.discard(current)
            seen.add(current)
            finished.append(current)
        elif required in on_path:
            if on_cycle is not None:
                on_cycle([*path[path.index(required) :], required])
        elif required not in seen:
            path.append(required)
            on_path.add(required)
            pending.append(iter(decisions[required].required_decisions))
    return finished
