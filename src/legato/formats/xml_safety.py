"""Parsing XML that arrives over the network: BPMN and DMN files.

XML from outside is hostile until proven otherwise. Three steps, each before anything is
built from the document:

1. **The encoding is settled first** (XML 1.0, Appendix F): a byte-order mark, else the
   first bytes (`<` followed by NUL is UTF-16 or UTF-32 without a mark), else the
   declaration's `encoding`, else UTF-8. The bytes are decoded strictly in Python, and
   lxml is then given UTF-8 with its own detection switched off, so every later check
   looks at exactly the characters the parser reads. (A check for the ASCII bytes
   `<!DOCTYPE` alone let a BOM-less UTF-16 body through, and libxml2 expanded its internal
   entities even with `resolve_entities=False`.)
2. **No DOCTYPE**: the prolog is scanned for one; no BPMN or DMN file needs a DTD, and
   every entity-expansion bomb needs one. lxml is also told never to load a DTD, resolve
   an entity or touch the network, and the parsed tree is checked for a DTD once more.
3. **Bounded structure while parsing**: the parse is incremental, and the number of
   elements, the nesting depth, the length of names and attribute values and the number
   of attributes of one element are checked as each start tag arrives, so an oversized
   document is refused before it is in memory whole.

Each refusal has its own code (XML_DOCTYPE_REFUSED, XML_ENCODING_INVALID,
XML_LIMIT_EXCEEDED, all kinds of MODEL_PARSE_ERROR) and names the line. lxml keeps each
element's line number, so later errors name the line at fault too.
"""

from __future__ import annotations

import codecs
import re
from typing import Final

from lxml import etree

from legato.errors import ModelParseError, PayloadTooLarge, XmlDoctypeRefused, XmlEncodingInvalid, XmlLimitExceeded

__all__ = [
    "MAX_ATTRIBUTES",
    "MAX_ATTRIBUTE_LENGTH",
    "MAX_DEPTH",
    "MAX_ELEMENTS",
    "MAX_NAME_LENGTH",
    "MAX_XML_BYTES",
    "decode_xml",
    "local_name",
    "parse_xml",
]

MAX_XML_BYTES: Final = 5 * 1024 * 1024
"""Largest BPMN or DMN document, in bytes (as UTF-8)."""
MAX_DEPTH: Final = 200
"""Deepest element nesting; lxml itself stops at 256."""
MAX_ELEMENTS: Final = 100_000
"""Most elements in one document. A 1,000-step process with its diagram has about 10,000."""
MAX_NAME_LENGTH: Final = 256
"""Longest element or attribute name, prefix included."""
MAX_ATTRIBUTE_LENGTH: Final = 32_768
"""Longest attribute value, in characters: three times the longest expression (10,000)."""
MAX_ATTRIBUTES: Final = 256
"""Most attributes (namespace declarations not counted) on one element."""

_CHUNK = 64 * 1024
_PARSER_OPTIONS: Final = {
    "resolve_entities": False,
    "no_network": True,
    "load_dtd": False,
    "dtd_validation": False,
    "huge_tree": False,
    "remove_comments": True,
    "remove_pis": True,
    "encoding": "utf-8",  # what decode_xml hands over; the document's own declaration is ignored
}
_BOMS: Final = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),  # before UTF-16 LE, whose mark it starts with
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
_DECLARATION = re.compile(rb"<\?xml\s[^>]*?\bencoding\s*=\s*([\"'])([A-Za-z][A-Za-z0-9._\-]*)\1")
_DECLARED_ENCODING = re.compile(r"(<\?xml\s[^>]*?\bencoding\s*=\s*)([\"'])[A-Za-z][A-Za-z0-9._\-]*\2")
_PROLOG_ITEM = re.compile(r"\s+|<\?.*?\?>|<!--.*?-->", re.DOTALL)


def decode_xml(data: bytes, *, what: str = "XML document") -> str:
    """The characters of an XML document given as bytes, in whatever encoding it is written.

    The byte-order mark is dropped, and a declaration naming another encoding is rewritten
    to say UTF-8, so the text is a self-consistent document that can be stored and given
    back as UTF-8. XmlEncodingInvalid names the byte that does not decode, or the encoding
    that is unknown or that the bytes cannot be in.
    """
    encoding, start = _detect(data, what)
    try:
        text = data[start:].decode(encoding)
    except UnicodeDecodeError as exc:
        position = start + exc.start
        wide = encoding.startswith(("utf-16", "utf-32"))
        line = None if wide else data[:position].count(b"\n") + 1
        raise XmlEncodingInvalid(
            f"the {what} is not {_label(encoding)} text: byte {position} ({data[position : position + 1]!r}) does "
            "not decode; save it as UTF-8",
            line=line,
            details={"encoding": _label(encoding), "position": position},
        ) from None
    if text.strip() and not text.lstrip().startswith("<"):
        raise XmlEncodingInvalid(
            f"the {what} read as {_label(encoding)} does not begin with '<': it is not XML in that encoding; "
            "save it as UTF-8",
            line=1,
            details={"encoding": _label(encoding)},
        )
    if codecs.lookup(encoding).name != "utf-8":
        text = _DECLARED_ENCODING.sub(r"\1\2UTF-8\2", text, count=1)
    return text


def parse_xml(source: str | bytes, *, what: str = "XML document", limit: int = MAX_XML_BYTES) -> etree._Element:
    """The root element of a safe document, or a ModelParseError (or one of its kinds) naming the line."""
    size = len(source) if isinstance(source, bytes) else len(source.encode("utf-8", "surrogatepass"))
    if size > limit:
        raise PayloadTooLarge(
            f"the {what} is {size} bytes, more than the limit of {limit}", details={"limit": limit, "size": size}
        )
    text = decode_xml(source, what=what) if isinstance(source, bytes) else source.removeprefix("\ufeff")
    _refuse_nul(text, what)
    _refuse_doctype(text, what)
    try:
        data = text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise XmlEncodingInvalid(
            f"the {what} holds a lone surrogate at character {exc.start}, which is not text",
            line=text.count("\n", 0, exc.start) + 1,
            details={"position": exc.start},
        ) from None
    root = _parse_bounded(data, what)
    if root.getroottree().docinfo.internalDTD is not None:  # the prolog scan makes this unreachable
        raise XmlDoctypeRefused(f"the {what} declares a DOCTYPE, which Legato refuses")
    return root


def local_name(element: etree._Element) -> str:
    """The tag without its namespace: `{http://...MODEL}task` -> `task`."""
    tag = element.tag
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def _detect(data: bytes, what: str) -> tuple[str, int]:
    """The Python codec the document is written in, and where its characters start (after a mark)."""
    for mark, encoding in _BOMS:
        if data.startswith(mark):
            return encoding, len(mark)
    head = data[:4]
    if len(head) == 4 and head[:3] == b"\0\0\0":
        return "utf-32-be", 0
    if len(head) == 4 and head[1:] == b"\0\0\0":
        return "utf-32-le", 0
    if len(head) >= 2 and head[0] == 0:
        return "utf-16-be", 0
    if len(head) >= 2 and head[1] == 0:
        return "utf-16-le", 0
    declared = _DECLARATION.match(data, 0, 512)
    if declared is None:
        return "utf-8", 0
    name = declared.group(2).decode("ascii")
    try:
        codec = codecs.lookup(name)
    except LookupError:
        raise XmlEncodingInvalid(
            f"the {what} declares encoding {name!r}, which is not known; save it as UTF-8",
            line=1,
            details={"encoding": name},
        ) from None
    if codec.name.startswith(("utf-16", "utf-32")):
        raise XmlEncodingInvalid(
            f"the {what} declares encoding {name!r}, but its bytes are not {name} (no byte-order mark, and the "
            "first character is one byte); save it as UTF-8",
            line=1,
            details={"encoding": name},
        )
    try:
        ascii_compatible = "<?xml encoding=''?>".encode(codec.name) == b"<?xml encoding=''?>"
    except (UnicodeError, LookupError, TypeError):
        ascii_compatible = False
    if not ascii_compatible or codec.name == "utf-7":  # encodings that can spell markup in other bytes
        raise XmlEncodingInvalid(
            f"the {what} declares encoding {name!r}, which Legato does not read; save it as UTF-8",
            line=1,
            details={"encoding": name},
        )
    return codec.name, 0


def _label(encoding: str) -> str:
    """`utf-16-le` as people write it: `UTF-16LE`."""
    return encoding.upper().replace("-LE", "LE").replace("-BE", "BE")


def _refuse_nul(text: str, what: str) -> None:
    """A NUL is not an XML character: in a document it means UTF-16 bytes were read as UTF-8."""
    position = text.find("\0")
    if position >= 0:
        raise XmlEncodingInvalid(
            f"the {what} holds a NUL character (position {position}): it is UTF-16 or UTF-32 read as another "
            "encoding; send the file's bytes, or save it as UTF-8",
            line=text.count("\n", 0, position) + 1,
            details={"position": position},
        )


def _refuse_doctype(text: str, what: str) -> None:
    """A DOCTYPE (or any `<!` markup declaration) in the prolog, the only place one can be."""
    position = 0
    while match := _PROLOG_ITEM.match(text, position):
        position = match.end()
    if text.startswith("<!", position) and not text.startswith("<!--", position):
        declared = text[position + 2 : position + 9].split(maxsplit=1)
        kind = declared[0] if declared else "a declaration"
        raise XmlDoctypeRefused(
            f"the {what} declares {'a DOCTYPE' if kind == 'DOCTYPE' else repr('<!' + kind)}: DTDs and entities "
            "are refused (no BPMN or DMN file needs them, and entity expansion is an attack)",
            line=text.count("\n", 0, position) + 1,
        )


def _parse_bounded(data: bytes, what: str) -> etree._Element:
    """Parse incrementally, checking each start tag against the bounds before reading on."""
    parser = etree.XMLPullParser(events=("start", "end"), **_PARSER_OPTIONS)
    elements = depth = 0
    try:
        for offset in range(0, max(len(data), 1), _CHUNK):
            parser.feed(data[offset : offset + _CHUNK])
            for event, element in parser.read_events():
                if event == "end":
                    depth -= 1
                    continue
                elements += 1
                depth += 1
                _check_element(element, elements, depth, what)
        root = parser.close()
    except etree.XMLSyntaxError as exc:
        line, column = exc.position if exc.position else (None, None)
        raise ModelParseError(f"the {what} is not well-formed XML: {exc.msg}", line=line, column=column) from None
    if root is None:
        raise ModelParseError(f"the {what} is empty")
    return root


def _check_element(element: etree._Element, count: int, depth: int, what: str) -> None:
    line = element.sourceline
    if count > MAX_ELEMENTS:
        _limit(f"the {what} has more than {MAX_ELEMENTS} elements", "elements", MAX_ELEMENTS, line)
    if depth > MAX_DEPTH:
        _limit(f"the {what} nests deeper than {MAX_DEPTH} levels", "depth", MAX_DEPTH, line)
    tag = element.tag
    if isinstance(tag, str) and len(etree.QName(tag).localname) + len(element.prefix or "") > MAX_NAME_LENGTH:
        _limit(f"an element name of the {what} is over {MAX_NAME_LENGTH} characters", "name", MAX_NAME_LENGTH, line)
    attributes = element.attrib
    if len(attributes) > MAX_ATTRIBUTES:
        message = f"an element of the {what} has more than {MAX_ATTRIBUTES} attributes"
        _limit(message, "attributes", MAX_ATTRIBUTES, line)
    for name, value in attributes.items():
        local = etree.QName(name).localname
        if len(local) > MAX_NAME_LENGTH:
            message = f"an attribute name of the {what} is over {MAX_NAME_LENGTH} characters"
            _limit(message, "name", MAX_NAME_LENGTH, line)
        if len(value) > MAX_ATTRIBUTE_LENGTH:
            _limit(
                f"attribute {local!r} of the {what} is {len(value)} characters long, more than {MAX_ATTRIBUTE_LENGTH}",
                "attribute_length",
                MAX_ATTRIBUTE_LENGTH,
                line,
            )


def _limit(message: str, limit: str, maximum: int, line: int | None) -> None:
    raise XmlLimitExceeded(message, line=line, details={"limit": limit, "maximum": maximum})
