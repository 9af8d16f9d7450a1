"""The limits every dialect shares: how long a text, how big and deep its tree, how much work one evaluation.

They are the same for the Legato dialect, FEEL and JUEL, so a model's author meets one set of
numbers whatever the dialect (docs/expressions.md, "Limits").
"""

from __future__ import annotations

from typing import Final

MAX_SOURCE_LENGTH: Final = 10_000
"""Longest expression or script accepted, in characters."""
MAX_NODES: Final = 5_000
"""Most syntax nodes (names, constants, operations) in one expression or script."""
MAX_DEPTH: Final = 100
"""Deepest nesting of syntax nodes; Python's own compiler recurses on it."""
MAX_INT_BITS: Final = 10_000
"""Largest integer `*`, `**` and `<<` may produce (about 3,000 decimal digits)."""
MAX_WORK: Final = 2_000_000
"""Items and characters one evaluation (or script run) may build or inspect, in total.

Building a string, list or tuple with `+` or `*` costs its length (nested items count each
time they appear), `str()` costs the size of what it converts, and a script assignment the
size of the value assigned (numbers, booleans and None are free). A hostile expression
cannot eat memory through many small repetitions, or through values that share parts.
"""
