"""The expression languages: parse, check and compile once, evaluate sandboxed and bounded.

One interface (`Expression`), dialects behind it (DESIGN.md, "Expressions"): the Legato
dialect (`legato.expressions.python`), FEEL from Camunda 8 models (`legato.expressions.feel`)
and JUEL from Camunda 7 models (`legato.expressions.juel`). `compile_expression` reads which
dialect a text is written in from the text itself (`dialect_of`). The limits in `_budget`
bound every dialect alike, and so does the CPU-time limit of one evaluation (`_deadline`:
`set_cpu_limits`, by default 100 ms per expression and 1 s per script or decision).

This package knows nothing of processes: the model compiles its conditions, mappings and
scripts with it at validation, and the engine evaluates the compiled forms.
"""

from __future__ import annotations

from legato.expressions._budget import MAX_DEPTH, MAX_INT_BITS, MAX_NODES, MAX_SOURCE_LENGTH, MAX_WORK
from legato.expressions._deadline import (
    DEFAULT_EXPRESSION_CPU_LIMIT,
    DEFAULT_SCRIPT_CPU_LIMIT,
    CpuLimitExceeded,
    cpu_bound,
    cpu_limits,
    set_cpu_limits,
    tick,
)
from legato.expressions._dialects import compile_expression, dialect_of
from legato.expressions._interface import Expression
from legato.expressions.python import FUNCTIONS, Script, compile_script

__all__ = [
    "DEFAULT_EXPRESSION_CPU_LIMIT",
    "DEFAULT_SCRIPT_CPU_LIMIT",
    "FUNCTIONS",
    "MAX_DEPTH",
    "MAX_INT_BITS",
    "MAX_NODES",
    "MAX_SOURCE_LENGTH",
    "MAX_WORK",
    "CpuLimitExceeded",
    "Expression",
    "Script",
    "compile_expression",
    "compile_script",
    "cpu_bound",
    "cpu_limits",
    "dialect_of",
    "set_cpu_limits",
    "tick",
]
