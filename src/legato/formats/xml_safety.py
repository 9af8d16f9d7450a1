"""Parsing XML that arrives over the network: BPMN and DMN files.

XML from outside is hostile until proven otherwise. The parser here never resolves
entities, never loads a DTD or anything from the network, and refuses a document that
declares a DOCTYPE at all (no BPMN or DMN file needs one, and every entity-expansion bomb
needs one). Size and nesting depth are bounded before and during parsing. lxml keeps each
element's line number, so errors name the line at fault.
"""

from __future__ import annotations

from lxml import etree

from legato.errors import ModelParseError, PayloadTooLarge

MAX_XML_BYTES = 5 * 1024 * 1024
MAX_DEPTH = 200

_PARSER = etree.XMLParser(
    resolve_entities=False,
    no_network=True,
    load_dtd=False,
    dtd_validation=False,
    huge_tree=False,
    remove_comments=True,
    remove_pis=True,
)


def parse_xml(source: str | bytes, *, what: str = "XML document", limit: int = MAX_XML_BYTES) -> etree._Element:
    """The root element of a safe document, or ModelParseError naming the line."""
    data = source.encode("utf-8") if isinstance(source, str) else source
    if len(data) > limit:
        raise PayloadTooLarge(f"the {what} is {len(data)} bytes, more than the limit of {limit}")
    if b"<!DOCTYPE" in data or b"<!ENTITY" in data:
        raise ModelParseError(f"the {what} declares a DOCTYPE or entities, which Legato refuses")
    if isinstance(source, str) and data.lstrip().startswith(b"<?xml"):
        # lxml refuses str input with an encoding declaration; the bytes say the same thing
        source = data
    try:
        root = etree.fromstring(data if isinstance(source, str) else source, _PARSER)
    except etree.XMLSyntaxError as exc:
        line, column = exc.position if exc.position else (None, None)
        raise ModelParseError(f"the {what} is not well-formed XML: {exc.msg}", line=line, column=column) from None
    if root is None:
        raise ModelParseError(f"the {what} is empty")
    depth = 0
    for event, element in etree.iterwalk(root, events=("start", "end")):
        depth += 1 if event == "start" else -1
        if depth > MAX_DEPTH:
            raise ModelParseError(f"the {what} nests deeper than {MAX_DEPTH} levels", line=element.sourceline)
    return root


def local_name(element: etree._Element) -> str:
    """The tag without its namespace: `{http://...MODEL}task` -> `task`."""
    tag = element.tag
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""
