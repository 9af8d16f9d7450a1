"""The pure engine: state and a command in, new state and effects out (DESIGN.md)."""

from legato.engine.commands import (
    CancelInstance,
    Command,
    CompleteJob,
    CompleteUserTask,
    CorrelateMessage,
    FailJob,
    FireTimer,
    ModifyInstance,
    RetryIncident,
    SetVariables,
    ThrowError,
)
from legato.engine.core import StepResult, apply, start
from legato.engine.state import InstanceState

__all__ = [
    "CancelInstance",
    "Command",
    "CompleteJob",
    "CompleteUserTask",
    "CorrelateMessage",
    "FailJob",
    "FireTimer",
    "InstanceState",
    "ModifyInstance",
    "RetryIncident",
    "SetVariables",
    "StepResult",
    "ThrowError",
    "apply",
    "start",
]
