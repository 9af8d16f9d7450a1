"""Hostile XML is refused before it can cost anything."""

from __future__ import annotations

import pytest

from legato.errors import ModelParseError, PayloadTooLarge, XmlDoctypeRefused, XmlEncodingInvalid, XmlLimitExceeded
from legato.formats.xml_safety import (
    MAX_ATTRIBUTE_LENGTH,
    MAX_ATTRIBUTES,
    MAX_ELEMENTS,
    MAX_NAME_LENGTH,
    decode_xml,
    local_name,
    parse_xml,
)

BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>
<lolz>&lol2;</lolz>"""

EXTERNAL_ENTITY = """<?xml version="1.0"?>
<!DOCTYPE x [<!ENTITY secret SYSTEM "file:///etc/passwd">]>
<definitions>&secret;</definitions>"""


def test_a_well_formed_document_parses_with_line_numbers() -> None:
    root = parse_xml('<?xml version="1.0" encoding="UTF-8"?>\n<a xmlns="urn:x">\n  <b/>\n</a>')
    assert local_name(root) == "a" and root[0].sourceline == 3


@pytest.mark.parametrize("document", [BILLION_LAUGHS, EXTERNAL_ENTITY])
def test_doctypes_and_entities_are_refused(document: str) -> None:
    with pytest.raises(ModelParseError, match="DOCTYPE"):
        parse_xml(document)


def test_broken_xml_names_the_line() -> None:
    with pytest.raises(ModelParseError) as caught:
        parse_xml("<a>\n<b>\n</a>")
    assert caught.value.line == 3


def test_size_and_depth_are_bounded() -> None:
    with pytest.raises(PayloadTooLarge):
        parse_xml("<a>" + "x" * 100 + "</a>", limit=50)
    with pytest.raises(ModelParseError, match="deeper"):
        parse_xml("<a>" * 230 + "</a>" * 230)  # lxml itself stops at 256


# --- hostile files as they arrive in bytes: the encoding is settled before anything is checked

ENTITY_BPMN = """<?xml version="1.0" encoding="UTF-16"?>
<!DOCTYPE definitions [<!ENTITY owner "EXPANDED">]>
<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL" id="Definitions_1" targetNamespace="urn:x">
  <process id="Process_1" name="&owner;" isExecutable="true"><startEvent id="StartEvent_1" /></process>
</definitions>
"""
PLAIN = """<?xml version="1.0" encoding="{encoding}"?>
<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL" id="Definitions_1" targetNamespace="urn:x">
  <process id="Process_1" name="Prüfung" isExecutable="true"><startEvent id="StartEvent_1" /></process>
</definitions>
"""


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(ENTITY_BPMN.encode("utf-16"), id="utf-16 with BOM"),
        pytest.param(ENTITY_BPMN.encode("utf-16-le"), id="utf-16le without BOM"),
        pytest.param(ENTITY_BPMN.encode("utf-16-be"), id="utf-16be without BOM"),
        pytest.param(ENTITY_BPMN.encode("utf-32"), id="utf-32 with BOM"),
        pytest.param(ENTITY_BPMN.replace("UTF-16", "UTF-8").encode("utf-8-sig"), id="utf-8 with BOM"),
        pytest.param(BILLION_LAUGHS.encode("utf-16-le"), id="billion laughs in utf-16le"),
    ],
)
def test_a_doctype_is_found_in_every_encoding_and_nothing_is_expanded(data: bytes) -> None:
    with pytest.raises(XmlDoctypeRefused, match="DOCTYPE") as caught:
        parse_xml(data)
    assert caught.value.code == "XML_DOCTYPE_REFUSED" and caught.value.line == 2


def test_utf16_bytes_read_as_utf8_text_are_refused_not_parsed() -> None:
    """What a BOM-less UTF-16 body becomes when decoded as UTF-8: NULs between the characters."""
    mangled = ENTITY_BPMN.encode("utf-16-le").decode("utf-8")
    with pytest.raises(XmlEncodingInvalid, match="NUL character"):
        parse_xml(mangled)


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be", "utf-32", "iso-8859-1", "windows-1252"])
def test_a_harmless_document_in_another_encoding_is_read_and_becomes_utf8_text(encoding: str) -> None:
    data = PLAIN.format(encoding=encoding.upper()).encode(encoding)
    root = parse_xml(data)
    assert root[0].get("name") == "Prüfung" and root[0].sourceline == 3
    text = decode_xml(data)
    assert text.startswith('<?xml version="1.0" encoding="UTF-8"?>') and "Prüfung" in text
    assert parse_xml(text)[0].get("name") == "Prüfung"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b'<?xml version="1.0" encoding="klingon"?><a/>', "'klingon', which is not known"),
        (b'<?xml version="1.0" encoding="UTF-7"?><a/>', "does not read"),
        (b'<?xml version="1.0" encoding="UTF-16"?><a/>', "its bytes are not UTF-16"),
        (b"<a>\n<b>caf\xe9</b></a>", r"not UTF-8 text: byte 10"),
    ],
)
def test_bytes_that_are_not_their_encoding_are_refused(data: bytes, message: str) -> None:
    with pytest.raises(XmlEncodingInvalid, match=message) as caught:
        parse_xml(data)
    assert caught.value.code == "XML_ENCODING_INVALID"


@pytest.mark.parametrize(
    ("document", "limit"),
    [
        ("<a>" + "<b/>" * (MAX_ELEMENTS + 1) + "</a>", "elements"),
        ('<a b="' + "x" * (MAX_ATTRIBUTE_LENGTH + 1) + '"/>', "attribute_length"),
        ("<" + "a" * (MAX_NAME_LENGTH + 1) + "/>", "name"),
        ("<a " + "x" * (MAX_NAME_LENGTH + 1) + '="1"/>', "name"),
        ("<a " + " ".join(f'x{i}="1"' for i in range(MAX_ATTRIBUTES + 1)) + "/>", "attributes"),
        ("<a>" * 230 + "</a>" * 230, "depth"),
    ],
)
def test_structure_past_a_bound_is_refused_naming_the_bound(document: str, limit: str) -> None:
    with pytest.raises(XmlLimitExceeded) as caught:
        parse_xml(document)
    assert caught.value.code == "XML_LIMIT_EXCEEDED" and caught.value.details["limit"] == limit
