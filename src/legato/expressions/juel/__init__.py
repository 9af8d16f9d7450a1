"""JUEL, the expression language of Camunda 7 models (Unified EL 2.2, JSR 245).

A Camunda 7 BPMN file writes a condition as `${amount > 1000 && approved}` and a mapping as
`Hello ${name}`. This package reads the part of EL those files use: `${...}` and `#{...}`
(evaluated alike: there is no deferred evaluation here), text around them (a composite,
which gives a string), literals, the operators `+ - * / div % mod == != < > <= >= eq ne lt gt
le ge && || ! and or not empty ?:`, and property access `order.total` / `order["total"]`,
which reads a key of a dict or an item of a list and nothing else. The text is parsed by
hand into closures once; nothing is ever handed to `eval`.

EL is a door to Java: in Camunda 7 a method call runs any public method of any object a
variable holds, and `${"".getClass()}` reaches reflection. Here there is no Java and no
object with methods; a call is refused at deploy unless it is one of a few pure ones that
real models use: `execution.getVariable(name)`, `execution.hasVariable(name)` and the value
methods in `METHODS` (`status.equals("ok")`, `tags.contains("vip")`, `name.isEmpty()`...).
Functions (`${fn:x()}`, `${now()}`) and beans are refused for the same reason; arbitrary code
belongs in a task handler.

EL's coercions are kept, because conditions depend on them (EL 2.2, 1.8 and 1.18): `null`
is 0 in arithmetic and false in logic, `"5" + 1` is 6, `x == "5"` compares as numbers when
`x` is a number, `&&` and `||` give booleans. Where Java would overflow a long silently or
divide by zero into Infinity, this package stops with an EvaluationError instead. A variable
that is not defined is an error, as Camunda 7's "Unknown property used in expression".
docs/expressions.md is the user reference.
"""

from __future__ import annotations

from legato.expressions.juel._expression import JuelExpression, compile_juel
from legato.expressions.juel._values import METHODS

__all__ = ["METHODS", "JuelExpression", "compile_juel"]
