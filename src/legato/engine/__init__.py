"""The pure engine: state and a command in, new state and effects out (DESIGN.md)."""

from legato.engine.commands import (
    CancelInstance,
    Command,
    CompleteJob,
    CompleteUserTask,
    CorrelateMessage,
    FailJob,
    FireTimer,
    MigrateInstance,
    ModifyInstance,
    RetryIncident,
    SetVariables,
    ThrowError,
)
from legato.engine.core import StepResult, apply, start
from legato.engine.migrate import MigrationPlan, check_plan, generated_mapping, plan_migration
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
    "MigrateInstance",
    "MigrationPlan",
    "ModifyInstance",
    "RetryIncident",
    "SetVariables",
    "StepResult",
    "ThrowError",
    "apply",
    "check_plan",
    "generated_mapping",
    "plan_migration",
    "start",
]
