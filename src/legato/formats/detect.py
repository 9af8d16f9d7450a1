"""Which kind of model a text is: DMN decisions, or a process.

A deploy takes processes and decisions through one door (`Legato.deploy`, the API's POST
/definitions), so the door must tell a DMN file from a BPMN file: both are XML with a
`definitions` root. A file name ending in `.dmn` settles it; otherwise the namespace of the
root element does. Every DMN version's namespace has `/spec/DMN/` in its path (DMN 1.1 to
1.5, http or https), every BPMN one `/spec/BPMN/`.

Only the root's start tag is looked at, with a pattern rather than a parser: the full,
safe parse (formats/xml_safety.py) happens once the kind is known, and reports anything
malformed with its line.
"""

from __future__ import annotations

import re

__all__ = ["is_dmn"]

_PROLOG = re.compile(r"(?:\ufeff)?(?:\s+|<\?.*?\?>|<!--.*?-->)*", re.DOTALL)
_ROOT = re.compile(r"<(?:(?P<prefix>[A-Za-z_][\w.\-]*):)?(?P<name>[A-Za-z_][\w.\-]*)(?P<attributes>[^>]*)>")
_DMN_PATH = "/spec/dmn/"


def is_dmn(text: str, filename: str | None = None) -> bool:
    """True for a `.dmn` file name, or for XML whose root is a DMN `definitions` element."""
    if filename is not None and filename.lower().endswith(".dmn"):
        return True
    prolog = _PROLOG.match(text)
    root = _ROOT.match(text, prolog.end() if prolog else 0)
    if root is None or root["name"] != "definitions":
        return False
    declaration = f"xmlns:{root['prefix']}" if root["prefix"] else "xmlns"
    namespace = re.search(rf"(?:^|\s){re.escape(declaration)}\s*=\s*([\"'])(.*?)\1", root["attributes"], re.DOTALL)
    return namespace is not None and _DMN_PATH in namespace.group(2).lower()
