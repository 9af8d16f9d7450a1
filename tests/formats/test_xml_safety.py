"""Hostile XML is refused before it can cost anything."""

from __future__ import annotations

import pytest

from legato.errors import ModelParseError, PayloadTooLarge
from legato.formats.xml_safety import local_name, parse_xml

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
