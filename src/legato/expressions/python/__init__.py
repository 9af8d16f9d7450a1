"""The Legato dialect: Python syntax, a whitelist of it, and no way out.

Conditions, variable mappings, scripts and correlation keys are data in a model, and a
model can come from anyone with deploy rights (DESIGN.md, "Expressions"), so their text is
never run as written. `compile_legato` parses it with `ast`, checks every node against
a whitelist and rewrites what is left into guarded Python: a variable becomes a lookup in
the mapping given at evaluation, `a.b` becomes a dict lookup (never `getattr`), operators
that can blow up (`+ * ** << %`) become calls to guards, and a function call can only reach
the fixed functions in `FUNCTIONS`. The result is compiled once into a plain function whose
builtins are empty, so evaluating costs one Python call (about 0.1 µs for
`amount > 1000 and region == "EU"`; docs/expressions.md says how that was measured).
Scripts (`compile_script`) are `name = expression` lines in the same dialect.

docs/expressions.md is the user reference: operators, functions, what is rejected and why.
"""

from __future__ import annotations

from legato.expressions.python._expression import compile_legato
from legato.expressions.python._functions import FUNCTIONS
from legato.expressions.python._script import Script, compile_script

__all__ = ["FUNCTIONS", "Script", "compile_legato", "compile_script"]
