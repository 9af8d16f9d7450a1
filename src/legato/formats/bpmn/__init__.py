"""BPMN 2.0 XML: `load_bpmn` reads a modeler's file, `dump_bpmn` writes one.

See docs/bpmn.md for what is imported, what is refused and what to use instead.
"""

from legato.formats.bpmn.reader import BpmnImport, load_bpmn
from legato.formats.bpmn.writer import FLAVOURS, dump_bpmn

__all__ = ["FLAVOURS", "BpmnImport", "dump_bpmn", "load_bpmn"]
