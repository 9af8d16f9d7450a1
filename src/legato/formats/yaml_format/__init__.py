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

`_reader` reads, `_writer` writes; `_nodes` turns YAML text into checked nodes with lines, and
`_vocabulary` holds the step kinds and keys both sides share.
"""

from __future__ import annotations

from legato.formats.yaml_format._reader import load_yaml
from legato.formats.yaml_format._vocabulary import MAX_DEPTH, MAX_DOCUMENT_BYTES, STEP_KINDS
from legato.formats.yaml_format._writer import dump_yaml

__all__ = ["MAX_DEPTH", "MAX_DOCUMENT_BYTES", "STEP_KINDS", "dump_yaml", "load_yaml"]
