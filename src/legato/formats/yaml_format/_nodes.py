"""Reading YAML text into checked nodes, and nodes into plain values, each with its line.

Models reach us over the network from anyone with deploy rights, so nothing is trusted:
SafeLoader only (libyaml's when installed), no anchors, aliases or custom tags (a few lines of
aliases can expand to gigabytes), at most 1 MiB and 100 levels of nesting.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Iterable, Iterator, Mapping
from typing import TypeVar

import yaml
from yaml.composer import Composer
from yaml.constructor import SafeConstructor
from yaml.nodes import MappingNode, ScalarNode, SequenceNode
from yaml.nodes import Node as YamlNode
from yaml.reader import ReaderError

from legato.errors import ModelParseError, PayloadTooLarge
from legato.formats.yaml_format._vocabulary import (
    _ALLOWED_TAGS,
    _BOOL,
    _FLOAT,
    _INT,
    _MAX_NUMBER_TEXT,
    _NULL,
    MAX_DEPTH,
    MAX_DOCUMENT_BYTES,
)

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
        raise ModelParseError("the document is empty; a process starts with 'process: <id>'", line=1)
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
    return ModelParseError(message, line=node.start_mark.line + 1, column=node.start_mark.column + 1)


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
            raise _shape_error(f"{what} must be a mapping of keys to values, not {_describe(node)}", node)
        self.node = node
        self.what = what
        self.items: dict[str, tuple[YamlNode, YamlNode]] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, ScalarNode) or key_node.tag == _NULL:
                raise _shape_error(f"a key in {what} must be a word, not {_describe(key_node)}", key_node)
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
            raise _shape_error(f"{key!r} in {self.what} must be a list, not {_describe(node)}", node)
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
        return {name: _text(value, f"{name!r} in {key!r} of {self.what}") for name, (_, value) in mapping.items.items()}


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
        return {key: _json(value, f"{key!r} in {what}") for key, (_, value) in mapping.items.items()}
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
