"""Processes as YAML, for people who write them by hand: `load_yaml` and `dump_yaml`.

A process is a list of steps, and each step flows to the one after it unless it says
otherwise, so a straight process needs no flows at all:

    process: refund
    steps:
      - start: refund_requested
      - service: pay_refund
        task_type: billing.refund
      - end: refunded

A step names its kind and id in its first key (`service: pay_refund`). `next:` replaces
the implicit flow: a step id, a list of ids, or entries with `when:` conditions and one
`default:`. Boundary events sit under their activity (`on_error:`, `on_timer:`,
`on_message:`), each leading on with `next:` or with its own nested `steps:`; a
subprocess holds its elements in `steps:`. docs/modeling.md is the reference for every
key.

Reading goes through the Python builder (`legato.formats.builder`), so both ways of
writing a process give the same definition and the same checksum. Models reach us over
the network from anyone with deploy rights, so the reader trusts nothing: SafeLoader
only (libyaml's when installed), and no anchors, aliases or custom tags (a few lines of
aliases can expand to gigabytes); at most 1 MiB and 100 levels of nesting; every key
accounted for. Every
error carries the line of the YAML that caused it: shape errors raise ModelParseError,
semantic ones (an unknown step id, what validate() finds) ModelInvalid with `line` set on
each problem.
"""

from __future__ import annotations

import dataclasses
import difflib
import math
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, TypeVar

import yaml
from yaml.composer import Composer
from yaml.constructor import SafeConstructor
from yaml.nodes import MappingNode, ScalarNode, SequenceNode
from yaml.nodes import Node as YamlNode
from yaml.reader import ReaderError

from legato.errors import ModelInvalid, ModelParseError, PayloadTooLarge, Problem
from legato.formats.builder import (
    ActivityNode,
    ExclusiveNode,
    Node,
    Process,
    RetryPolicy,
    Source,
    SubProcessNode,
    boundary_kind,
    flow_id,
    outgoing_in_order,
    reading_order,
)
from legato.model.elements import (
    Activity,
    BoundaryEvent,
    BusinessRuleTask,
    CallActivity,
    Element,
    EndEvent,
    ErrorDefinition,
    ExclusiveGateway,
    IntermediateCatchEvent,
    MessageDefinition,
    ParallelGateway,
    ScriptTask,
    SequenceFlow,
    ServiceTask,
    StartEvent,
    SubProcess,
    TerminateDefinition,
    TimerDefinition,
    UserTask,
)
from legato.model.process import ProcessDefinition
from legato.model.validate import validate

__all__ = ["MAX_DEPTH", "MAX_DOCUMENT_BYTES", "STEP_KINDS", "dump_yaml", "load_yaml"]

MAX_DOCUMENT_BYTES = 1024 * 1024
"""Largest document accepted (1 MiB): ample for 5,000 elements, small enough to parse fast."""
MAX_DEPTH = 100
"""Deepest nesting of YAML collections; the composer recurses on it."""

_TIMER_KEYS = ("duration", "date", "cycle")
_BOUNDARY_KEYS = ("on_error", "on_timer", "on_message")
_ACTIVITY_KEYS = ("inputs", "outputs", *_BOUNDARY_KEYS, "next")
STEP_KINDS: dict[str, tuple[str, ...]] = {
    "start": ("message", "correlation_key", *_TIMER_KEYS, "next"),
    "end": ("terminate", "error", "error_message"),
    "service": ("task_type", "retry", "timeout", *_ACTIVITY_KEYS),
    "script": ("code", *_ACTIVITY_KEYS),
    "user": ("assignee", "candidate_groups", "form", *_ACTIVITY_KEYS),
    "exclusive": ("next",),
    "parallel": ("next",),
    "subprocess": ("steps", *_ACTIVITY_KEYS),
    "call": ("process", "version", *_ACTIVITY_KEYS),
    "decision": ("decision_ref", "result_variable", "retry", "timeout", *_ACTIVITY_KEYS),
    "catch_timer": (*_TIMER_KEYS, "next"),
    "catch_message": ("message", "correlation_key", "next"),
}
"""Each step kind, with the keys it takes besides its kind, `name` and `documentation`."""
_BOUNDARY_FIELDS: dict[str, tuple[str, ...]] = {
    "on_error": ("code", "error_message"),
    "on_timer": (*_TIMER_KEYS, "interrupting"),
    "on_message": ("message", "correlation_key", "interrupting"),
}
_COMMON_KEYS = ("name", "documentation")
_PROCESS_KEYS = ("process", "name", "documentation", "steps")
_RETRY_KEYS = tuple(f.name for f in dataclasses.fields(RetryPolicy))
_ENTRY_KEYS = ("to", "default", "when", "id", "name")
_STEP_HINTS = {
    **{key: "boundary events go on tasks and subprocesses only" for key in _BOUNDARY_KEYS},
    "next": "nothing follows an end event",
}
_ERROR_HINTS = {"interrupting": "an error boundary event always interrupts"}

_TAG = "tag:yaml.org,2002:"
_NULL, _BOOL, _INT, _FLOAT = (f"{_TAG}{name}" for name in ("null", "bool", "int", "float"))
_ALLOWED_TAGS = {f"{_TAG}{name}" for name in ("str", "int", "float", "bool", "null", "seq", "map")}
_MAX_NUMBER_TEXT = 40
_T = TypeVar("_T")


# --- reading: text to nodes --------------------------------------------------------------


class _Checks(Composer):
    """SafeLoader's composer, refusing what a model has no use for, as it composes.

    No anchors or aliases (a few lines of aliases can expand to gigabytes), no tags
    beyond YAML's plain types, no nesting past MAX_DEPTH (composing recurses). The
    reader then takes only text, numbers and booleans from the nodes; nothing else is
    ever constructed.
    """

    _depth = 0

    def compose_node(self, parent: YamlNode | None, index: int) -> YamlNode | None:
        event = self.peek_event()  # type: ignore[attr-defined]
        mark = event.start_mark
        at = {"line": mark.line + 1, "column": mark.column + 1}
        if isinstance(event, yaml.AliasEvent):
            raise ModelParseError(f"aliases (*{event.anchor}) are not allowed; write it out", **at)
        if getattr(event, "anchor", None) is not None:
            raise ModelParseError(f"anchors (&{event.anchor}) are not allowed", **at)
        tag = getattr(event, "tag", None)
        if tag not in (None, "!") and tag not in _ALLOWED_TAGS:
            raise ModelParseError(f"tags such as {tag!r} are not allowed", **at)
        self._depth += 1
        if self._depth > MAX_DEPTH:
            raise ModelParseError(f"nested more than {MAX_DEPTH} levels deep", **at)
        try:
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


class _SafeLoader(_Checks, yaml.SafeLoader):
    def __init__(self, stream: str) -> None:
        yaml.SafeLoader.__init__(self, stream)


if yaml.__with_libyaml__:

    class _CSafeLoader(_Checks, yaml.CSafeLoader):
        """libyaml scans and parses, about six times faster; the checks above compose."""

        def __init__(self, stream: str) -> None:
            yaml.CSafeLoader.__init__(self, stream)


def _loader(text: str) -> _Checks:
    if yaml.__with_libyaml__:
        return _CSafeLoader(text)
    return _SafeLoader(text)


def _decode(text: str | bytes) -> str:
    if isinstance(text, bytes):
        if len(text) > MAX_DOCUMENT_BYTES:
            raise _too_large(len(text))
        try:
            return text.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            line = text[: exc.start].count(b"\n") + 1
            raise ModelParseError("the document is not UTF-8 text", line=line) from None
    if not isinstance(text, str):
        raise TypeError(f"load_yaml() takes str or bytes, not {type(text).__name__}")
    if len(text) > MAX_DOCUMENT_BYTES:
        raise _too_large(None)
    size = len(text.encode("utf-8", "surrogatepass"))
    if size > MAX_DOCUMENT_BYTES:
        raise _too_large(size)
    return text


def _too_large(size: int | None) -> PayloadTooLarge:
    shown = "more than 1 MiB" if size is None else f"{size:,} bytes"
    return PayloadTooLarge(
        f"the YAML document is {shown}; the limit is {MAX_DOCUMENT_BYTES:,} bytes (1 MiB)",
        details={"limit": MAX_DOCUMENT_BYTES},
    )


def _compose(text: str) -> MappingNode:
    loader: _Checks | None = None
    try:
        loader = _loader(text)
        root = loader.get_single_node()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = exc.problem or exc.context or "cannot be parsed"
        line = None if mark is None else mark.line + 1
        column = None if mark is None else mark.column + 1
        raise ModelParseError(f"not valid YAML: {problem}", line=line, column=column) from None
    except ReaderError as exc:
        # The first character YAML forbids (a control character); `exc.position` counts
        # bytes under libyaml and characters without it, so find the character instead.
        index = text.find(chr(exc.character)) if isinstance(exc.character, int) else -1
        line = text.count("\n", 0, index) + 1 if index >= 0 else None
        column = index - text.rfind("\n", 0, index) if index >= 0 else None
        raise ModelParseError(
            f"not valid YAML: character {exc.character:#06x} is not allowed",
            line=line,
            column=column,
        ) from None
    finally:
        if loader is not None:
            loader.dispose()  # type: ignore[attr-defined]
    if root is None or (isinstance(root, ScalarNode) and root.tag == _NULL):
        raise ModelParseError(
            "the document is empty; a process starts with 'process: <id>'", line=1
        )
    if not isinstance(root, MappingNode):
        raise _shape_error(
            f"the document must be a mapping with 'process:' and 'steps:', not {_describe(root)}",
            root,
        )
    return root


# --- reading: nodes to values --------------------------------------------------------------


def _line(node: YamlNode) -> int:
    return node.start_mark.line + 1


def _shape_error(message: str, node: YamlNode) -> ModelParseError:
    return ModelParseError(
        message, line=node.start_mark.line + 1, column=node.start_mark.column + 1
    )


def _describe(node: YamlNode) -> str:
    if isinstance(node, MappingNode):
        return "a mapping"
    if isinstance(node, SequenceNode):
        return "a list"
    if node.tag == _NULL:
        return "nothing"
    if node.tag in (_INT, _FLOAT):
        return f"the number {node.value}"
    if node.tag == _BOOL:
        return f"{node.value!r} (true/false)"
    return f"the text {node.value!r}"


def _with_following(items: list[_T]) -> Iterator[tuple[_T, _T | None]]:
    """Each item with the one after it (None after the last): implicit sequencing."""
    for index, item in enumerate(items):
        yield item, items[index + 1] if index + 1 < len(items) else None


def _did_you_mean(word: str, choices: Iterable[str]) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


class _Map:
    """A YAML mapping read key by key, so that no key goes unnoticed."""

    def __init__(self, node: YamlNode, what: str) -> None:
        if not isinstance(node, MappingNode):
            raise _shape_error(
                f"{what} must be a mapping of keys to values, not {_describe(node)}", node
            )
        self.node = node
        self.what = what
        self.items: dict[str, tuple[YamlNode, YamlNode]] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, ScalarNode) or key_node.tag == _NULL:
                raise _shape_error(
                    f"a key in {what} must be a word, not {_describe(key_node)}", key_node
                )
            if key_node.value in self.items:
                raise _shape_error(f"duplicate key {key_node.value!r} in {what}", key_node)
            self.items[key_node.value] = (key_node, value_node)

    def check_keys(self, allowed: Iterable[str], hints: Mapping[str, str] | None = None) -> None:
        """Refuse any other key, suggesting the nearest allowed one or a hint."""
        allowed = tuple(allowed)
        for key, (key_node, _) in self.items.items():
            if key not in allowed:
                hint = _did_you_mean(key, allowed)
                if not hint and hints and key in hints:
                    hint = f" ({hints[key]})"
                raise _shape_error(f"unknown key {key!r} in {self.what}{hint}", key_node)

    def get(self, key: str) -> YamlNode | None:
        item = self.items.get(key)
        return None if item is None else item[1]

    def key_node(self, key: str) -> YamlNode:
        return self.items[key][0]

    def text(self, key: str, *, required: bool = False) -> str | None:
        node = self.get(key)
        if node is None:
            if required:
                raise _shape_error(f"{self.what} needs {key!r}", self.node)
            return None
        return _text(node, f"{key!r} in {self.what}")

    def number(self, key: str) -> int | float | None:
        node = self.get(key)
        return None if node is None else _number(node, f"{key!r} in {self.what}")

    def boolean(self, key: str) -> bool | None:
        node = self.get(key)
        return None if node is None else _boolean(node, f"{key!r} in {self.what}")

    def sequence(self, key: str) -> list[YamlNode] | None:
        node = self.get(key)
        if node is None:
            return None
        if not isinstance(node, SequenceNode):
            raise _shape_error(
                f"{key!r} in {self.what} must be a list, not {_describe(node)}", node
            )
        return list(node.value)

    def texts(self, key: str) -> list[str] | None:
        nodes = self.sequence(key)
        if nodes is None:
            return None
        return [_text(node, f"an item of {key!r} in {self.what}") for node in nodes]

    def expressions(self, key: str) -> dict[str, str] | None:
        node = self.get(key)
        if node is None:
            return None
        mapping = _Map(node, f"{key!r} in {self.what}")
        return {
            name: _text(value, f"{name!r} in {key!r} of {self.what}")
            for name, (_, value) in mapping.items.items()
        }


def _text(node: YamlNode, what: str) -> str:
    # Any scalar but null reads as its text, so `name: no` is "no" and `version: 1.10`
    # is "1.10": YAML 1.1's guesses at types do not bite in text fields.
    if isinstance(node, ScalarNode) and node.tag != _NULL:
        return str(node.value)
    raise _shape_error(f"{what} must be text, not {_describe(node)}", node)


def _number(node: YamlNode, what: str) -> int | float:
    if not isinstance(node, ScalarNode) or node.tag not in (_INT, _FLOAT):
        raise _shape_error(f"{what} must be a number, not {_describe(node)}", node)
    if len(node.value) > _MAX_NUMBER_TEXT:
        raise _shape_error(f"{what} is too long a number", node)
    constructor = SafeConstructor()
    if node.tag == _INT:
        return constructor.construct_yaml_int(node)
    value = constructor.construct_yaml_float(node)
    if not math.isfinite(value):
        raise _shape_error(f"{what} must be a finite number, not {node.value}", node)
    return value


def _boolean(node: YamlNode, what: str) -> bool:
    if not isinstance(node, ScalarNode) or node.tag != _BOOL:
        raise _shape_error(f"{what} must be true or false, not {_describe(node)}", node)
    return SafeConstructor().construct_yaml_bool(node)


def _json(node: YamlNode, what: str) -> object:
    """A form: any JSON value, with text keys and finite numbers."""
    if isinstance(node, MappingNode):
        mapping = _Map(node, what)
        return {
            key: _json(value, f"{key!r} in {what}") for key, (_, value) in mapping.items.items()
        }
    if isinstance(node, SequenceNode):
        return [_json(item, what) for item in node.value]
    assert isinstance(node, ScalarNode)
    if node.tag == _NULL:
        return None
    if node.tag == _BOOL:
        return _boolean(node, what)
    if node.tag in (_INT, _FLOAT):
        return _number(node, what)
    return str(node.value)


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
            process_id, name=document.text("name"), documentation=document.text("documentation")
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
            raise _shape_error(
                f"a step has one kind, but this one has {kinds[0]!r} and {kinds[1]!r}", node
            )
        if not kinds:
            key = next(iter(step.items), None)
            found = "an empty step" if key is None else f"unknown step kind {key!r}"
            hint = "" if key is None else _did_you_mean(key, STEP_KINDS)
            raise _shape_error(
                f"{found}{hint}; a step starts with one of: {', '.join(STEP_KINDS)}", node
            )
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

    def make(
        self, kind: str, element_id: str, step: _Map, scope: Process | SubProcessNode
    ) -> Source | Node:
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
            return scope.call(element_id, called, version=version, **activity)
        if kind == "decision":
            decision = step.text("decision_ref", required=True)
            assert decision is not None
            return scope.decision(
                element_id,
                decision,
                result_variable=step.text("result_variable"),
                retry=self.retry(step),
                timeout=step.number("timeout"),
                **activity,
            )
        if kind == "catch_timer":
            return scope.catch_timer(element_id, **timer, **common)
        message = step.text("message", required=True)
        assert message is not None
        return scope.catch_message(
            element_id, message, correlation_key=step.text("correlation_key"), **common
        )

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

    def boundaries(
        self, key: str, host: ActivityNode, step: _Map, scope: Process | SubProcessNode
    ) -> None:
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
                    boundary = host.on_error(
                        event.text("code"), error_message=event.text("error_message"), **common
                    )
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
                raise _shape_error(
                    f"an item of {what} needs 'to: <step id>' or 'default: <step id>'", item
                )
            default = "default" in entry.items
            if default and kind != "exclusive":
                raise _shape_error(
                    f"only an exclusive gateway has a default flow ({what})",
                    entry.key_node("default"),
                )
            if default and "when" in entry.items:
                raise _shape_error(
                    f"the default flow takes no 'when' ({what})", entry.key_node("when")
                )
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
                    message = (
                        f"next: no flow can lead into {entry.target!r}, a start or boundary event"
                    )
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


# --- writing -------------------------------------------------------------------------------


class _FlowList(list[str]):
    """A list of plain words, written on one line: `[reserve_stock, create_invoice]`."""


class _Dumper(yaml.SafeDumper):
    def ignore_aliases(self, data: Any) -> bool:
        return True  # the reader refuses anchors, so never write one

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        super().increase_indent(flow, False)  # indent lists under their key, as people do


def _represent_text(dumper: yaml.SafeDumper, data: str) -> yaml.ScalarNode:
    style = "|" if "\n" in data else None
    return dumper.represent_scalar(f"{_TAG}str", data, style=style)


def _represent_flow_list(dumper: yaml.SafeDumper, data: _FlowList) -> yaml.SequenceNode:
    return dumper.represent_sequence(f"{_TAG}seq", data, flow_style=True)


_Dumper.add_representer(str, _represent_text)
_Dumper.add_representer(_FlowList, _represent_flow_list)


@dataclass
class _Placed:
    """An element with where it is written: its boundary events' steps, its own steps."""

    element: Element
    boundaries: list[tuple[BoundaryEvent, list[_Placed]]] = field(default_factory=list)
    steps: list[_Placed] | None = None


def dump_yaml(definition: ProcessDefinition) -> str:
    """Write a definition as YAML that `load_yaml` reads back with the same checksum.

    Steps come in reading order; the steps that only a boundary event leads to are
    nested under it, and `next:` is written only where the next step in the list is not
    where the flow goes. Raises ModelInvalid for a definition that YAML cannot express
    (an element whose parent is not a subprocess, a boundary event on a gateway).
    """
    return _Writer(definition).write()


_STEP_KIND_OF: dict[type[Element], str] = {
    StartEvent: "start",
    EndEvent: "end",
    ServiceTask: "service",
    ScriptTask: "script",
    UserTask: "user",
    ExclusiveGateway: "exclusive",
    ParallelGateway: "parallel",
    SubProcess: "subprocess",
    CallActivity: "call",
    BusinessRuleTask: "decision",
}


class _Writer:
    def __init__(self, definition: ProcessDefinition) -> None:
        self.definition = definition
        self.position = {element_id: i for i, element_id in enumerate(reading_order(definition))}
        self.written: set[str] = set()

    def write(self) -> str:
        definition = self.definition
        self.check()
        document: dict[str, Any] = {"process": definition.id}
        _put(document, "name", definition.name)
        _put(document, "documentation", definition.documentation)
        document["steps"] = self.render(self.place(self.members(None), depth=0))
        missing = [
            element_id for element_id in definition.elements if element_id not in self.written
        ]
        if missing:
            raise _unwritable(
                [(element_id, "its parent is not a subprocess") for element_id in missing]
            )
        return yaml.dump(document, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=100)

    def check(self) -> None:
        definition = self.definition
        faults: list[tuple[str, str]] = []
        for element in definition.elements.values():
            if type(element) not in _STEP_KIND_OF and not isinstance(
                element, IntermediateCatchEvent | BoundaryEvent
            ):
                faults.append((element.id, f"no YAML step for a {element.kind}"))
            if isinstance(element, BoundaryEvent):
                host = definition.elements.get(element.attached_to)
                if not isinstance(host, Activity) or host.parent != element.parent:
                    faults.append((element.id, "not attached to an activity in its scope"))
                if boundary_kind(element.event) is None:
                    faults.append(
                        (element.id, "a boundary event that is not an error, timer or message")
                    )
            if (
                isinstance(element, EndEvent)
                and isinstance(element.event, ErrorDefinition)
                and element.event.code is None
            ):
                faults.append((element.id, "an error end event without an error code"))
        for flow in definition.flows.values():
            if flow.source not in definition.elements or flow.target not in definition.elements:
                faults.append((flow.id, "a flow between elements that do not exist"))
        if faults:
            raise _unwritable(faults)

    def members(self, scope: str | None) -> list[str]:
        children = sorted(self.definition.children(scope), key=lambda e: self.position[e.id])
        return [e.id for e in children if not isinstance(e, BoundaryEvent)]

    def place(self, ids: list[str], depth: int) -> list[_Placed]:
        if ids and depth > MAX_DEPTH // 4:
            raise _unwritable([(ids[0], "nested too deeply to be read back")])
        claimed: set[str] = set()
        placed: list[_Placed] = []
        for index, element_id in enumerate(ids):
            if element_id in claimed:
                continue
            item = _Placed(self.definition.elements[element_id])
            boundaries = self.definition.boundary_events(element_id)
            for boundary in sorted(boundaries, key=lambda b: self.position[b.id]):
                region = self.region(boundary, ids[index + 1 :], claimed)
                claimed.update(region)
                item.boundaries.append((boundary, self.place(region, depth + 1)))
            if isinstance(item.element, SubProcess):
                item.steps = self.place(self.members(element_id), depth + 1)
            placed.append(item)
        return placed

    def region(
        self, boundary: BoundaryEvent, candidates: list[str], claimed: set[str]
    ) -> list[str]:
        """The steps that only this boundary event leads to: written nested under it."""
        sources = {boundary.id}
        region: list[str] = []
        for element_id in candidates:
            incoming = self.definition.incoming(element_id)
            if element_id in claimed or not incoming:
                continue
            if all(flow.source in sources for flow in incoming):
                region.append(element_id)
                sources.add(element_id)
                sources.update(b.id for b in self.definition.boundary_events(element_id))
        return region

    def render(self, placed: list[_Placed]) -> list[dict[str, Any]]:
        steps = []
        for item, following in _with_following(placed):
            steps.append(self.step(item, None if following is None else following.element))
        return steps

    def step(self, item: _Placed, following: Element | None) -> dict[str, Any]:
        element = item.element
        self.written.add(element.id)
        kind = _STEP_KIND_OF.get(type(element))
        if isinstance(element, IntermediateCatchEvent):
            kind = "catch_timer" if isinstance(element.event, TimerDefinition) else "catch_message"
        assert kind is not None
        step: dict[str, Any] = {kind: element.id}
        _put(step, "name", element.name)
        _put(step, "documentation", element.documentation)
        step.update(_fields(element))
        if item.steps is not None:
            step["steps"] = self.render(item.steps)
        for key in _BOUNDARY_KEYS:
            events = [
                self.boundary(boundary, nested)
                for boundary, nested in item.boundaries
                if f"on_{boundary_kind(boundary.event)}" == key
            ]
            if events:
                step[key] = events[0] if len(events) == 1 else events
        if not isinstance(element, EndEvent) or self.definition.outgoing(element.id):
            _put(step, "next", self.next(element, following))
        return step

    def boundary(self, boundary: BoundaryEvent, nested: list[_Placed]) -> dict[str, Any]:
        self.written.add(boundary.id)
        event: dict[str, Any] = {"id": boundary.id}
        _put(event, "name", boundary.name)
        _put(event, "documentation", boundary.documentation)
        event.update(_event_fields(boundary.event))
        if not boundary.cancel_activity:
            event["interrupting"] = False
        _put(event, "next", self.next(boundary, nested[0].element if nested else None))
        if nested:
            event["steps"] = self.render(nested)
        return event

    def next(self, source: Element, following: Element | None) -> object:
        """What `next:` must say, or None where the implicit flow says it already."""
        if isinstance(source, EndEvent) or isinstance(following, StartEvent):
            following = None
        flows = outgoing_in_order(self.definition, source.id)
        if not flows:
            return None if following is None else _FlowList()
        if (
            following is not None
            and len(flows) == 1
            and flows[0].target == following.id
            and self.plain(flows[0])
        ):
            return None
        if all(self.plain(flow) for flow in flows):
            targets = [flow.target for flow in flows]
            return targets[0] if len(targets) == 1 else _FlowList(targets)
        return [self.entry(flow) for flow in flows]

    def plain(self, flow: SequenceFlow) -> bool:
        source = self.definition.elements[flow.source]
        default = isinstance(source, ExclusiveGateway) and source.default == flow.id
        return (
            flow.condition is None
            and flow.name is None
            and not default
            and flow.id == flow_id(flow.source, flow.target)
        )

    def entry(self, flow: SequenceFlow) -> str | dict[str, Any]:
        if self.plain(flow):
            return flow.target
        source = self.definition.elements[flow.source]
        default = isinstance(source, ExclusiveGateway) and source.default == flow.id
        entry: dict[str, Any] = {"default" if default else "to": flow.target}
        _put(entry, "when", flow.condition)
        if flow.id != flow_id(flow.source, flow.target):
            entry["id"] = flow.id
        _put(entry, "name", flow.name)
        return entry


def _fields(element: Element) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    if isinstance(element, StartEvent | IntermediateCatchEvent):
        fields.update(_event_fields(element.event))
    if isinstance(element, EndEvent):
        fields.update(_event_fields(element.event, error_key="error"))
    if isinstance(element, BusinessRuleTask):
        fields["decision_ref"] = element.decision
        _put(fields, "result_variable", element.result_variable)
    elif isinstance(element, ServiceTask):
        fields["task_type"] = element.task_type
    if isinstance(element, ServiceTask):
        default = RetryPolicy()
        retry = {
            f.name: getattr(element.retry, f.name)
            for f in dataclasses.fields(RetryPolicy)
            if getattr(element.retry, f.name) != getattr(default, f.name)
        }
        if "non_retryable" in retry:
            retry["non_retryable"] = _FlowList(retry["non_retryable"])
        if retry:
            fields["retry"] = retry
        _put(fields, "timeout", element.timeout)
    if isinstance(element, ScriptTask):
        fields["code"] = element.script
    if isinstance(element, CallActivity):
        fields["process"] = element.process
        _put(fields, "version", element.version)
    if isinstance(element, UserTask):
        _put(fields, "assignee", element.assignee)
        if element.candidate_groups:
            fields["candidate_groups"] = _FlowList(element.candidate_groups)
        if element.form is not None:
            fields["form"] = _plain(element.form)
    if isinstance(element, Activity):
        for key in ("inputs", "outputs"):
            mapping = getattr(element, key)
            if mapping:
                fields[key] = dict(mapping)
    return fields


def _event_fields(event: object, *, error_key: str = "code") -> dict[str, Any]:
    fields: dict[str, Any] = {}
    if isinstance(event, TimerDefinition):
        fields[event.kind] = event.value
    elif isinstance(event, MessageDefinition):
        fields["message"] = event.message
        _put(fields, "correlation_key", event.correlation_key)
    elif isinstance(event, ErrorDefinition):
        _put(fields, error_key, event.code)
        _put(fields, "error_message", event.message)
    elif isinstance(event, TerminateDefinition):
        fields["terminate"] = True
    return fields


def _put(mapping: dict[str, Any], key: str, value: object) -> None:
    if value is not None:
        mapping[key] = value


def _plain(value: object) -> object:
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def _unwritable(faults: list[tuple[str, str]]) -> ModelInvalid:
    return ModelInvalid(
        [
            Problem(element=element, message=f"cannot be written as YAML: {why}")
            for element, why in faults
        ]
    )
