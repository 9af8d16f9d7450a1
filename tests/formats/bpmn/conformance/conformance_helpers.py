"""What the conformance scenarios share: the files, and readable views of a run.

Each `.bpmn` file here is written as Camunda Modeler 5 writes it (Camunda 7 or Camunda 8
flavour, extension elements, a full diagram), one per element family. The scenarios run
them through the pure engine (`EngineHarness`) and, where instances talk to each other
(signals, call activities), through `Legato(Store.memory())`.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

from legato.formats.bpmn import BpmnImport, load_bpmn
from legato.model.process import ProcessDefinition
from legato.testing import EngineHarness

Start = Callable[..., EngineHarness]
FILES = Path(__file__).parent
SAMPLES = tuple(sorted(path.stem for path in FILES.glob("*.bpmn")))


@cache
def imported(name: str) -> BpmnImport:
    return load_bpmn((FILES / f"{name}.bpmn").read_bytes())


def definition(name: str) -> ProcessDefinition:
    return imported(name).definition


def variables_of(run: EngineHarness, *names: str) -> dict[str, Any]:
    return {name: run.variables.get(name) for name in names}


_THROWN = ("signal_thrown", "escalation_thrown", "compensation_completed")  # a compensation throw waits


def path(run: EngineHarness) -> list[str]:
    """The elements tokens left so far, in order: passed through, completed, or thrown from.

    A throw event that also passes (an end event that broadcasts a signal) is named once.
    """
    taken: list[str] = []
    previous = None
    for record in run.history("element_passed", "element_completed", *_THROWN):
        if record.element is None:
            continue
        repeated = previous is not None and previous.type in _THROWN and previous.element == record.element
        if not (repeated and record.type == "element_passed"):
            taken.append(record.element)
        previous = record
    return taken


def joining(run: EngineHarness) -> list[str]:
    """Where tokens wait at a converging gateway for the others."""
    return sorted(t.element for t in run.state.tokens.values() if t.state == "joining")
