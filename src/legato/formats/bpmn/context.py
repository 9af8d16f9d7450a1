"""What the BPMN reader collects on its way through a document.

Reading does not stop at the first problem: a modeller should fix a file in one round, so
every refused element is recorded, with its id and line, and raised together at the end.
Warnings (what is kept out of the model without changing what it does) are grouped by
kind, so that a Signavio file with the same metadata on forty elements gives one warning,
not forty.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final

from lxml import etree

from legato.errors import Problem
from legato.formats.bpmn.namespaces import split, split_qname
from legato.model.elements import MessageRoute

_SHOWN = 3  # element ids named in a grouped warning


MARKED_NOT_EXECUTABLE: Final = 'not marked isExecutable="true"'
"""In the reason of a process not marked executable (a documentation pool), which the
writer marks isExecutable="false" again."""


@dataclass
class _Grouped:
    message: str
    places: list[tuple[str | None, int | None]] = field(default_factory=list)


@dataclass(frozen=True, kw_only=True, slots=True)
class Delegate:
    """A Java delegate read as the task type of a Legato handler (`extensions.bind_delegates`)."""

    element: str | None
    written: str  # as the file writes it: camunda:class='com.acme.Charge'
    task_type: str


@dataclass
class Context:
    """Problems, warnings and source lines of one document being read."""

    problems: list[Problem] = field(default_factory=list)
    not_executable: list[str] = field(default_factory=list)  # why the process cannot run (it is still stored)
    # the message flows out of each sending element, to the processes of the file that run
    message_routes: dict[str, tuple[MessageRoute, ...]] = field(default_factory=dict)
    lines: dict[str, int] = field(default_factory=dict)
    _warnings: dict[str, _Grouped] = field(default_factory=dict)
    prefixes: dict[str, str] = field(default_factory=dict)
    imported: frozenset[str] = frozenset()  # namespaces of bpmn:import: other documents
    ids: set[str] = field(default_factory=set)  # every id the document has, for ids made up
    delegates: list[Delegate] = field(default_factory=list)

    def reference(self, node: etree._Element, attribute: str, at: etree._Element | None = None) -> str | None:
        """The id an attribute refers to, a QName resolved against the document's namespaces.

        BPMN 2.0 types `messageRef`, `errorRef`, `signalRef`, `escalationRef`,
        `attachedToRef`, `activityRef`, `calledElement` and `processRef` as QNames (8.2,
        the XSD), so a tool may write `tns:Message_1` with `tns` bound to the document's
        target namespace. The prefix must be declared where it is used; a reference into an
        imported document is refused (Legato deploys what one document holds). None when
        the attribute is absent or empty, or refused; problems are told at `at` (the
        event whose definition it is), or at `node`.
        """
        return self.resolve(node, (node.get(attribute) or "").strip(), f"{attribute}=", at)

    def resolve(self, node: etree._Element, value: str, label: str, at: etree._Element | None = None) -> str | None:
        """A QName written at `node` (an attribute's value, or a reference element's text
        such as `loopDataInputRef`), resolved as `reference` does; `label` names it in a
        problem (`messageRef=`, `loopDataInputRef `)."""
        where = node if at is None else at
        if not value:
            return None
        qualified = split_qname(value)
        if qualified is None:
            return value
        prefix, local = qualified
        namespace = node.nsmap.get(prefix)
        if namespace is None:
            self.refuse(where, f"{label}{value!r} uses the prefix {prefix!r}, which the document does not declare")
            return None
        if namespace in self.imported:
            self.refuse(
                where,
                f"{label}{value!r} refers into the imported document {namespace!r}; "
                "put what it names into this document",
            )
            return None
        return local

    def make_id(self, base: str) -> str:
        """A new id from `base`, unique in the document (`base`, `base_2`, ...)."""
        candidate, number = base, 1
        while candidate in self.ids:
            number += 1
            candidate = f"{base}_{number}"
        self.ids.add(candidate)
        return candidate

    def refuse(self, node: etree._Element, message: str, *, element: str | None = None) -> None:
        """Record a problem at `node`: the element's id (or `element`) and its line."""
        where = element if element is not None else node.get("id")
        self.problems.append(Problem(element=where, message=message, line=node.sourceline))

    def cannot_run(self, node: etree._Element, message: str) -> None:
        """Record why the process cannot run, naming the element and line: the model is kept
        for viewing and export, and starting it is refused with the reason."""
        self.not_executable.append(f"{node.get('id')!r}: {message}")  # no line: the model's checksum ignores layout

    def warn(self, node: etree._Element, group: str, message: str, *, element: str | None = None) -> None:
        """Record a warning; warnings with the same `group` are reported once, together."""
        grouped = self._warnings.setdefault(group, _Grouped(message))
        where = element if element is not None else node.get("id")
        if all(place[0] != where for place in grouped.places):
            grouped.places.append((where, node.sourceline))

    def warnings(self) -> list[str]:
        result = []
        for grouped in self._warnings.values():
            places = grouped.places
            shown = ", ".join(_place(element, line) for element, line in places[:_SHOWN])
            more = f" and {len(places) - _SHOWN} more" if len(places) > _SHOWN else ""
            result.append(f"{shown}{more}: {grouped.message}")
        return result

    def name(self, tag: str) -> str:
        """A tag or attribute as the document writes it: `camunda:asyncBefore`."""
        namespace, local = split(tag)
        prefix = self.prefixes.get(namespace)
        return f"{prefix}:{local}" if prefix else local


def _place(element: str | None, line: int | None) -> str:
    where = f"'{element}'" if element else "the document"
    return f"{where} (line {line})" if line else where
