"""The state of one process instance: its token tree, variables, and open wait states.

This is what the store keeps in one row per instance. It is versioned (`STATE_VERSION`);
`from_dict` upgrades older stored forms, and golden files of each version live in the
tests, so a change that would strand running instances fails a test.

A *token* marks where execution stands (BPMN 2.0, 13.2 "token"). A *scope* is the root
process or an entered embedded subprocess. A *wait* is one thing an instance waits for:
a service task's job, a timer, a message subscription, a user task, or an incident on an
element whose evaluation failed. Waits get ids from the same per-instance sequence as
tokens, which makes every job id (`instance:wait`) deterministic and unique for life.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

STATE_VERSION = 2

# token states
MOVING = "moving"
WAITING = "waiting"
JOINING = "joining"

# wait kinds
JOB = "job"
TIMER = "timer"
MESSAGE = "message"
SIGNAL = "signal"
CONDITION = "condition"  # a conditional event; no row outside the state (engine/conditions.py)
TASK = "task"
INCIDENT = "incident"  # entering the element failed; a retry enters it again
INCIDENT_LEAVING = "incident_leaving"  # choosing outgoing flows failed; a retry chooses again
INCIDENT_COMPLETING = "incident_completing"  # a subprocess's outputs failed; a retry maps again
COMPENSATING = "compensating"  # a throw waits for its compensation handlers (engine/compensation.py)
CALL = "call"  # a call activity waits for the instance it called (engine/calls.py)

# instance statuses
ACTIVE = "active"
COMPLETED = "completed"
TERMINATED = "terminated"
CANCELLED = "cancelled"


@dataclass(slots=True)
class Token:
    id: int
    element: str
    scope: int
    flow: str | None = None  # the flow it arrived by, which parallel joins count
    state: str = MOVING


# scope kinds
SUBPROCESS = "sub"
BODY = "body"  # the multi-instance body of an activity: holds the instances
INSTANCE = "one"  # one instance of a multi-instance activity, with its local variables
LOCALS = "locals"  # the input mappings of a waiting task that keeps them as local variables (a receive task)


@dataclass(slots=True)
class Scope:
    id: int
    element: str | None  # the subprocess or multi-instance activity, or None for the process
    parent: int | None
    token: int | None  # the token that waits at the element in the parent scope
    kind: str = SUBPROCESS
    variables: dict[str, Any] = field(default_factory=dict)  # local to this scope
    meta: dict[str, Any] = field(default_factory=dict)  # bookkeeping of a multi-instance body


@dataclass(slots=True)
class Wait:
    id: int
    token: int
    kind: str
    element: str  # the activity, catch event or boundary event that owns it
    fired: int = 0  # how often a cycle timer fired before this wait was opened
    incident: bool = False


@dataclass(slots=True)
class InstanceState:
    id: str
    process: str
    status: str = ACTIVE
    variables: dict[str, Any] = field(default_factory=dict)
    tokens: dict[int, Token] = field(default_factory=dict)
    scopes: dict[int, Scope] = field(default_factory=dict)
    waits: dict[int, Wait] = field(default_factory=dict)
    seq: int = 0
    history: int = 0
    # completed activities that can be undone: [scope path (innermost first), activity, handler, locals]
    compensable: list[list[Any]] = field(default_factory=list)
    # running compensations: the throw's wait id -> the entries still to undo, next first
    compensating: dict[int, list[list[Any]]] = field(default_factory=dict)
    caller: tuple[str, int] | None = None  # the instance and wait that called this one, if any

    def copy(self) -> InstanceState:
        """A copy the engine may change without touching the caller's state.

        Variables are copied one level deep: the engine replaces top-level values and never
        mutates a nested value in place.
        """
        return InstanceState(
            id=self.id,
            process=self.process,
            status=self.status,
            variables=dict(self.variables),
            tokens={k: Token(t.id, t.element, t.scope, t.flow, t.state) for k, t in self.tokens.items()},
            scopes={
                k: Scope(s.id, s.element, s.parent, s.token, s.kind, dict(s.variables), _copy_meta(s.meta))
                for k, s in self.scopes.items()
            },
            waits={k: Wait(w.id, w.token, w.kind, w.element, w.fired, w.incident) for k, w in self.waits.items()},
            seq=self.seq,
            history=self.history,
            caller=self.caller,
            compensable=[list(entry) for entry in self.compensable],
            compensating={k: [list(e) for e in v] for k, v in self.compensating.items()},
        )

    def to_dict(self) -> dict[str, Any]:
        """Compact stored form, without variables (the store keeps those in their own column)."""
        return {
            "v": STATE_VERSION,
            "id": self.id,
            "p": self.process,
            "s": self.status,
            "n": self.seq,
            "h": self.history,
            **({"k": self.compensable} if self.compensable else {}),
            **({"q": {str(k): v for k, v in self.compensating.items()}} if self.compensating else {}),
            "t": [[t.id, t.element, t.scope, t.flow, t.state] for t in self.tokens.values()],
            "c": [[s.id, s.element, s.parent, s.token, s.kind, s.variables, s.meta] for s in self.scopes.values()],
            "w": [[w.id, w.token, w.kind, w.element, w.fired, w.incident] for w in self.waits.values()],
            # Only a called instance has "pa", so every other stored state is as before.
            **({"pa": [self.caller[0], self.caller[1]]} if self.caller is not None else {}),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any], variables: dict[str, Any]) -> InstanceState:
        version = data.get("v")
        if version not in (1, STATE_VERSION):
            raise ValueError(f"unknown instance state version {version!r}")
        # Version 1 scopes were [id, element, parent, token]: subprocesses without locals.
        return cls(
            id=data["id"],
            process=data["p"],
            status=data["s"],
            variables=variables,
            tokens={t[0]: Token(t[0], t[1], t[2], t[3], t[4]) for t in data["t"]},
            scopes={
                s[0]: Scope(s[0], s[1], s[2], s[3], *(s[4:7] if len(s) >= 7 else (SUBPROCESS, {}, {})))
                for s in data["c"]
            },
            waits={w[0]: Wait(w[0], w[1], w[2], w[3], w[4], w[5]) for w in data["w"]},
            seq=data["n"],
            history=data["h"],
            compensable=data.get("k", []),
            compensating={int(k): v for k, v in data.get("q", {}).items()},
            caller=(data["pa"][0], data["pa"][1]) if "pa" in data else None,
        )


def _copy_meta(meta: dict[str, Any]) -> dict[str, Any]:
    """Multi-instance bookkeeping holds lists the engine appends to: copy them too."""
    return {key: list(value) if isinstance(value, list) else value for key, value in meta.items()}
