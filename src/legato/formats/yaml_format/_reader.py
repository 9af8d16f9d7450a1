"""Reading a process from YAML: steps to builder nodes to a validated definition, every error with its line.

Reading goes through the Python builder (`legato.formats.builder`), so both ways of writing
a process give the same definition and the same checksum.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from yaml.nodes import MappingNode, ScalarNode, SequenceNode
from yaml.nodes import Node as YamlNode

from legato.errors import ModelInvalid, Problem
from legato.formats.builder import ActivityNode, ExclusiveNode, Node, Process, RetryPolicy, Source, SubProcessNode
from legato.formats.yaml_format._nodes import (
    _compose,
    _decode,
    _describe,
    _did_you_mean,
    _json,
    _line,
    _Map,
    _shape_error,
    _text,
    _with_following,
)
from legato.formats.yaml_format._vocabulary import (
    _BOUNDARY_FIELDS,
    _BOUNDARY_KEYS,
    _COMMON_KEYS,
    _ENTRY_KEYS,
    _ERROR_HINTS,
    _PROCESS_KEYS,
    _RETRY_KEYS,
    _STEP_HINTS,
    _TIMER_KEYS,
    STEP_KINDS,
)
from legato.model.process import ProcessDefinition
from legato.model.validate import validate

# --- reading: values to a process ----------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class _Entry:
    """One flow named under `next:`."""

    target: str
    node: YamlNode
    when: str | None = None
    id: str | None = None
    name: str | None = None
    default: bool = False


@dataclass(kw_only=True)
class _Link:
    """The flows that leave one step: explicit entries, or the implicit next step."""

    source: Source
    node: YamlNode
    entries: list[_Entry] | None
    implicit: str | None = None


@dataclass(kw_only=True)
class _Step:
    kind: str
    id: str
    link: _Link | None


@contextmanager
def _at(node: YamlNode) -> Iterator[None]:
    """Give the builder's errors the line of the YAML that made the call."""
    try:
        yield
    except ModelInvalid as error:
        problems = [dataclasses.replace(p, line=p.line or _line(node)) for p in error.problems]
        raise ModelInvalid(problems) from None


@dataclass
class _Reader:
    process: Process = field(init=False)
    handles: dict[str, Source | Node] = field(default_factory=dict)
    lines: dict[str, int] = field(default_factory=dict)
    flow_lines: dict[tuple[str, str] | str, int] = field(default_factory=dict)
    links: list[_Link] = field(default_factory=list)

    def read(self, root: MappingNode) -> ProcessDefinition:
        document = _Map(root, "the process")
        document.check_keys(_PROCESS_KEYS)
        if "process" not in document.items:
            raise _shape_error("the document needs 'process: <id>', the process id", root)
        process_id = document.text("process", required=True)
        assert process_id is not None
        self.process = Process(
            process_id,
            name=document.text("name"),
            documentation=document.text("documentation"),
            sensitive=document.texts("sensitive") or (),
        )
        steps = document.sequence("steps")
        if steps is None:
            raise _shape_error("the process needs 'steps', the list of its steps", root)
        self.steps(steps, self.process)
        self.connect()
        definition = self.process.build(check=False)
        try:
            validate(definition)
        except ModelInvalid as error:
            raise ModelInvalid([self.locate(p, definition) for p in error.problems]) from None
        return definition

    def steps(self, nodes: list[YamlNode], scope: Process | SubProcessNode) -> list[_Step]:
        steps = [self.step(node, scope) for node in nodes]
        for step, following in _with_following(steps):
            if (
                step.link is not None
                and step.link.entries is None
                and following is not None
                and following.kind != "start"
            ):
                step.link.implicit = following.id
        return steps

    def step(self, node: YamlNode, scope: Process | SubProcessNode) -> _Step:
        if not isinstance(node, MappingNode):
            raise _shape_error(
                f"a step must be a mapping such as 'service: check_credit', not {_describe(node)}",
                node,
            )
        # Name the step in errors about its keys as early as its first key allows.
        what = "a step"
        if node.value and isinstance(node.value[0][1], ScalarNode):
            first_key, first_value = node.value[0]
            if first_key.value in STEP_KINDS:
                what = f"{first_key.value} {first_value.value!r}"
        step = _Map(node, what)
        kinds = [key for key in step.items if key in STEP_KINDS]
        if len(kinds) > 1:
            raise _shape_error(f"a step has one kind, but this one has {kinds[0]!r} and {kinds[1]!r}", node)
        if not kinds:
            key = next(iter(step.items), None)
            found = "an empty step" if key is None else f"unknown step kind {key!r}"
            hint = "" if key is None else _did_you_mean(key, STEP_KINDS)
            raise _shape_error(f"{found}{hint}; a step starts with one of: {', '.join(STEP_KINDS)}", node)
        kind = kinds[0]
        step.what = f"{kind} step"
        element_id = step.text(kind, required=True)
        assert element_id is not None
        step.what = f"{kind} {element_id!r}"
        step.check_keys((kind, *_COMMON_KEYS, *STEP_KINDS[kind]), _STEP_HINTS)
        with _at(node):
            handle = self.make(kind, element_id, step, scope)
        self.handles[element_id] = handle
        self.lines[element_id] = _line(node)
        if isinstance(handle, ActivityNode):
            for key in _BOUNDARY_KEYS:
                self.boundaries(key, handle, step, scope)
        if not isinstance(handle, Source):
            return _Step(kind=kind, id=element_id, link=None)
        link = _Link(source=handle, node=node, entries=self.entries(step, kind))
        self.links.append(link)
        return _Step(kind=kind, id=element_id, link=link)

    def make(self, kind: str, element_id: str, step: _Map, scope: Process | SubProcessNode) -> Source | Node:
        name, documentation = step.text("name"), step.text("documentation")
        common: dict[str, Any] = {"name": name, "documentation": documentation}
        activity: dict[str, Any] = {
            "inputs": step.expressions("inputs"),
            "outputs": step.expressions("outputs"),
            **common,
        }
        timer = {key: step.text(key) for key in _TIMER_KEYS}
        if kind == "start":
            return scope.start(
                element_id,
                message=step.text("message"),
                correlation_key=step.text("correlation_key"),
                **timer,
                **common,
            )
        if kind == "end":
            return scope.end(
                element_id,
                terminate=bool(step.boolean("terminate")),
                error=step.text("error"),
                error_message=step.text("error_message"),
                **common,
            )
        if kind == "service":
            task_type = step.text("task_type", required=True)
            assert task_type is not None
            return scope.service(
                element_id,
                task_type,
                retry=self.retry(step),
                timeout=step.number("timeout"),
                **activity,
            )
        if kind == "script":
            code = step.text("code", required=True)
            assert code is not None
            return scope.script(element_id, code, **activity)
        if kind == "user":
            form = step.get("form")
            form_value = None if form is None else _json(form, f"'form' of {step.what}")
            if form_value is not None and not isinstance(form_value, dict):
                assert form is not None
                raise _shape_error(f"'form' of {step.what} must be a mapping", form)
            return scope.user(
                element_id,
                assignee=step.text("assignee"),
                candidate_groups=step.texts("candidate_groups") or (),
                candidate_users=step.texts("candidate_users") or (),
                description=step.text("description"),
                due_date=step.text("due_date"),
                follow_up_date=step.text("follow_up_date"),
                priority=_priority(step.text("priority")),
                form=form_value,
                **activity,
            )
        if kind == "exclusive":
            return scope.exclusive(element_id, **common)
        if kind == "parallel":
            return scope.parallel(element_id, **common)
        if kind == "subprocess":
            subprocess = scope.subprocess(element_id, **activity)
            self.steps(step.sequence("steps") or [], subprocess)
            return subprocess
        if kind == "call":
            called = step.text("process", required=True)
            assert called is not None
            version = step.number("version")
            if version is not None and not isinstance(version, int):
                raise _shape_error(f"'version' in {step.what} must be a whole number", step.key_node("version"))
            return scope.call(element_id, called, version=version, tenant=step.text("tenant"), **activity)
        if kind == "decision":
            decision = step.text("decision_ref", required=True)
            assert decision is not None
            return scope.decision(
                element_id,
                decision,
                result_variable=step.text("result_variable"),
                tenant=step.text("tenant"),
                result_mapping=step.text("result_mapping"),
                retry=self.retry(step),
                timeout=step.number("timeout"),
                **activity,
            )
        if kind == "catch_timer":
            return scope.catch_timer(element_id, **timer, **common)
        message = step.text("message", required=True)
        assert message is not None
        return scope.catch_message(element_id, message, correlation_key=step.text("correlation_key"), **common)

    def retry(self, step: _Map) -> RetryPolicy | None:
        node = step.get("retry")
        if node is None:
            return None
        retry = _Map(node, f"'retry' of {step.what}")
        retry.check_keys(_RETRY_KEYS)
        values: dict[str, Any] = {}
        for key in _RETRY_KEYS:
            value = retry.texts(key) if key == "non_retryable" else retry.number(key)
            if value is not None:
                values[key] = tuple(value) if isinstance(value, list) else value
        return RetryPolicy(**values)

    def boundaries(self, key: str, host: ActivityNode, step: _Map, scope: Process | SubProcessNode) -> None:
        node = step.get(key)
        if node is None:
            return
        for item in node.value if isinstance(node, SequenceNode) else [node]:
            event = _Map(item, f"{key!r} of {step.what}")
            allowed = ("id", *_COMMON_KEYS, *_BOUNDARY_FIELDS[key], "next", "steps")
            event.check_keys(allowed, _ERROR_HINTS if key == "on_error" else None)
            given_id = event.text("id")
            common: dict[str, Any] = {
                "id": given_id,
                "name": event.text("name"),
                "documentation": event.text("documentation"),
            }
            interrupting = event.boolean("interrupting")
            with _at(item):
                if key == "on_error":
                    boundary = host.on_error(event.text("code"), error_message=event.text("error_message"), **common)
                elif key == "on_timer":
                    boundary = host.on_timer(
                        **{timer: event.text(timer) for timer in _TIMER_KEYS},
                        interrupting=True if interrupting is None else interrupting,
                        **common,
                    )
                else:
                    message = event.text("message", required=True)
                    assert message is not None
                    boundary = host.on_message(
                        message,
                        correlation_key=event.text("correlation_key"),
                        interrupting=True if interrupting is None else interrupting,
                        **common,
                    )
            event.what = f"{key} {boundary.id!r}"
            self.handles[boundary.id] = boundary
            self.lines[boundary.id] = _line(item)
            link = _Link(source=boundary, node=item, entries=self.entries(event, key))
            self.links.append(link)
            nested = self.steps(event.sequence("steps") or [], scope)
            if link.entries is None and nested and nested[0].kind != "start":
                link.implicit = nested[0].id

    def entries(self, step: _Map, kind: str) -> list[_Entry] | None:
        node = step.get("next")
        if node is None:
            return None
        what = f"'next' of {step.what}"
        items = node.value if isinstance(node, SequenceNode) else [node]
        entries: list[_Entry] = []
        for item in items:
            if isinstance(item, ScalarNode):
                entries.append(_Entry(target=_text(item, f"an item of {what}"), node=item))
                continue
            entry = _Map(item, f"an item of {what}")
            entry.check_keys(_ENTRY_KEYS)
            if ("to" in entry.items) == ("default" in entry.items):
                raise _shape_error(f"an item of {what} needs 'to: <step id>' or 'default: <step id>'", item)
            default = "default" in entry.items
            if default and kind != "exclusive":
                raise _shape_error(
                    f"only an exclusive gateway has a default flow ({what})",
                    entry.key_node("default"),
                )
            if default and "when" in entry.items:
                raise _shape_error(f"the default flow takes no 'when' ({what})", entry.key_node("when"))
            if default and any(e.default for e in entries):
                raise _shape_error(f"{what} has more than one default", item)
            target = entry.text("default" if default else "to")
            assert target is not None
            entries.append(
                _Entry(
                    target=target,
                    node=item,
                    when=entry.text("when"),
                    id=entry.text("id"),
                    name=entry.text("name"),
                    default=default,
                )
            )
        return entries

    def connect(self) -> None:
        problems: list[Problem] = []
        for link in self.links:
            source = link.source
            if link.entries is None:
                if link.implicit is not None:
                    target = self.handles[link.implicit]
                    assert isinstance(target, Node)
                    with _at(link.node):
                        source.then(target)
                    self.flow_lines.setdefault((source.id, target.id), _line(link.node))
                continue
            for entry in link.entries:
                found = self.handles.get(entry.target)
                line = _line(entry.node)
                if found is None:
                    hint = _did_you_mean(entry.target, self.handles)
                    message = f"next: no step has the id {entry.target!r}{hint}"
                    problems.append(Problem(element=source.id, message=message, line=line))
                    continue
                if not isinstance(found, Node):
                    message = f"next: no flow can lead into {entry.target!r}, a start or boundary event"
                    problems.append(Problem(element=source.id, message=message, line=line))
                    continue
                with _at(entry.node):
                    if entry.default:
                        assert isinstance(source, ExclusiveNode)
                        source.otherwise(found, id=entry.id, name=entry.name)
                    else:
                        source.then(found, when=entry.when, id=entry.id, name=entry.name)
                self.flow_lines.setdefault((source.id, found.id), line)
                if entry.id is not None:
                    self.flow_lines[entry.id] = line
        if problems:
            raise ModelInvalid(problems)

    def locate(self, problem: Problem, definition: ProcessDefinition) -> Problem:
        if problem.line is not None or problem.element is None:
            return problem
        line = self.lines.get(problem.element) or self.flow_lines.get(problem.element)
        flow = definition.flows.get(problem.element)
        if line is None and flow is not None:
            line = self.flow_lines.get((flow.source, flow.target))
        return dataclasses.replace(problem, line=line)


def load_yaml(text: str | bytes) -> ProcessDefinition:
    """Read a process from YAML text and validate it.

    Raises PayloadTooLarge past 1 MiB, ModelParseError for text that is not YAML or not
    the shape of a process (with line and column), and ModelInvalid for a process that is
    unsound (each problem with its line).
    """
    return _Reader().read(_compose(_decode(text)))


def _priority(text: str | None) -> int | str | None:
    """`priority: 75` is the number; any other text (an expression) is checked in validation."""
    if text is not None and text.strip().isdigit():
        return int(text)
    return text
