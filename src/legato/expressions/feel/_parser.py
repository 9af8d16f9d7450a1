"""The FEEL parser: a Pratt parser from tokens to the syntax tree, with the depth check."""

from __future__ import annotations

from typing import Any, Final, NoReturn

from legato.expressions._budget import MAX_DEPTH, MAX_NODES
from legato.expressions.feel._builtins import _BUILTINS, _FUNCTION_WORDS, _REFUSED_FUNCTIONS, _TYPES
from legato.expressions.feel._lexer import _KEYWORDS, _Source, _Token, _tokens
from legato.expressions.feel._parameters import positions
from legato.expressions.feel._syntax import (
    _Between,
    _Binary,
    _Call,
    _Context,
    _Filter,
    _For,
    _FunctionDefinition,
    _If,
    _In,
    _InstanceOf,
    _Invoke,
    _Iteration,
    _List,
    _Literal,
    _Name,
    _Negate,
    _Node,
    _Path,
    _RangeNode,
    _Test,
)
from legato.expressions.feel._values import _temporal

# --- the parser ---------------------------------------------------------------------------

_INFIX_POWER: Final = {
    "or": 10, "and": 20, "=": 30, "!=": 30, "<": 30, "<=": 30, ">": 30, ">=": 30, "between": 30, "in": 30,
    "instance": 30, "+": 40, "-": 40, "*": 50, "/": 50, "**": 60, ".": 80, "[": 80, "(": 80,
}  # fmt: skip
_COMPARISON_POWER: Final = 30
_NEGATION_POWER: Final = 70
_TEST_OPERATORS: Final = frozenset({"<", "<=", ">", ">=", "=", "!="})


class _Parser:
    """A Pratt parser for FEEL: one loop for all binary operators, recursion only on nesting."""

    def __init__(self, source: _Source) -> None:
        self.source = source
        self.tokens = _tokens(source)
        self.position = 0
        self.depth = 0
        self.nodes = 0
        self.names: set[str] = set()
        self.locals: list[frozenset[str]] = []
        self.input_uses = 0
        self.filters_allowed = True
        self.warnings: list[str] = []
        """What FEEL defines as null at run time (DMN 1.5, 10.3.2.9), said once at compile time."""

    # tokens

    def peek(self, ahead: int = 0) -> _Token:
        return self.tokens[min(self.position + ahead, len(self.tokens) - 1)]

    def advance(self) -> _Token:
        token = self.tokens[self.position]
        self.position = min(self.position + 1, len(self.tokens) - 1)
        return token

    def at(self, text: str, ahead: int = 0) -> bool:
        token = self.peek(ahead)
        return token.text == text and not token.quoted and token.kind in ("op", "name")

    def expect(self, text: str, context: str) -> _Token:
        if not self.at(text) and self.at(".."):
            self.fail("'a..b' is only allowed after 'for x in'; elsewhere write a range such as [a..b]")
        if not self.at(text):
            self.fail(f"expected '{text}' {context}", self.peek())
        return self.advance()

    def fail(self, message: str, token: _Token | None = None) -> NoReturn:
        token = token or self.peek()
        if token.kind == "end" and not message.startswith("expected") and "ends too early" not in message:
            message = f"{message} (the expression ends too early)"
        raise self.source.invalid(message, token.start)

    def null(self, message: str, token: _Token) -> None:
        """Something FEEL evaluates to null (DMN 1.5, 10.3.2.9): a warning, not a refusal."""
        offset = token.start - (self.source.original.rfind("\n", 0, token.start) + 1)
        self.warnings.append(f"{message}, so it is null (at character {offset + 1})")

    def unexpected(self, token: _Token) -> NoReturn:
        if token.kind == "end":
            self.fail("the expression ends too early", token)
        if token.text == "=" and self.position > 0 and self.tokens[self.position - 1].text == "=":
            self.fail("compare with a single '='; '==' is not FEEL", token)
        if token.text == "..":
            self.fail("'a..b' is only allowed after 'for x in'; elsewhere write a range such as [a..b]", token)
        self.fail(f"unexpected {token.text!r}", token)

    def node(self, node: _Node) -> _Node:
        self.nodes += 1
        if self.nodes > MAX_NODES:
            raise self.source.invalid(f"the expression has too many parts (limit {MAX_NODES:,})", node.offset)
        return node

    # expressions

    def expression(self, power: int = 0) -> _Node:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            self.fail(f"the expression is nested too deeply (limit {MAX_DEPTH})")
        left = self.prefix()
        compared = False
        while True:
            token = self.peek()
            if token.kind not in ("op", "name") or token.quoted:
                break
            strength = _INFIX_POWER.get(token.text)
            if strength is None or strength <= power or (token.text == "[" and not self.filters_allowed):
                break
            if strength == _COMPARISON_POWER:
                if compared:
                    self.fail("comparisons cannot be chained; combine them with 'and'", token)
                compared = True
            left = self.infix(left, self.advance(), strength)
        self.depth -= 1
        return left

    def infix(self, left: _Node, token: _Token, strength: int) -> _Node:
        operator_text = token.text
        if operator_text in ("and", "or"):
            return self.node(_Binary(token.start, operator_text, left, self.expression(strength)))
        if operator_text == "between":
            low = self.expression(_COMPARISON_POWER)
            self.expect("and", "in 'x between low and high'")
            return self.node(_Between(token.start, left, low, self.expression(_COMPARISON_POWER)))
        if operator_text == "in":
            return self.node(_In(token.start, left, self.in_tests()))
        if operator_text == "instance":
            self.expect("of", "after 'instance'")
            return self.node(_InstanceOf(token.start, left, self.type_expression()))
        if operator_text == ".":
            key = self.advance()
            if key.kind != "name" or (key.text in _KEYWORDS and not key.quoted):
                self.fail("expected a name after '.'", key)
            words = [key.text]
            while not key.quoted and self.peek().kind == "name" and not self.peek().quoted:
                if self.peek().text in _KEYWORDS:
                    break
                words.append(self.advance().text)  # `applicant.monthly income`
            return self.node(_Path(token.start, left, " ".join(words)))
        if operator_text == "[":
            with self.nested():
                condition = self.expression()
            self.expect("]", "to close the filter")
            return self.node(_Filter(token.start, left, condition))
        if operator_text == "(":
            self.position -= 1
            return self.invocation(token, left)
        return self.node(_Binary(token.start, operator_text, left, self.expression(strength)))

    def prefix(self) -> _Node:
        token = self.peek()
        if token.kind == "number":
            self.advance()
            return self.node(_Literal(token.start, token.value))
        if token.kind == "string":
            self.advance()
            return self.node(_Literal(token.start, token.value))
        if token.kind == "name":
            return self.name()
        text = token.text
        if text == "-":
            self.advance()
            return self.node(_Negate(token.start, self.expression(_NEGATION_POWER)))
        if text == "@":
            self.advance()
            literal = self.advance()
            try:
                value = _temporal(literal.value) if literal.kind == "string" else None
            except (ValueError, KeyError):
                value = None
            if literal.kind != "string":
                self.fail('expected a date, time or duration in quotes after @, like @"2026-01-01"', literal)
            if value is None:
                self.null(f"@{literal.text} is not a date, time, date and time or duration", token)
            return self.node(_Literal(token.start, value))
        if text == "(":
            return self.parenthesis()
        if text == "[":
            return self.bracket()
        if text == "]":
            self.advance()
            low = self.endpoint()
            self.expect("..", "in a range such as ]1..10]")
            return self.range_rest(token, low, closed=False)
        if text == "{":
            return self.context()
        if text in ("<", "<=", ">", ">="):
            self.fail(f"a test such as '{text} 10' is only allowed after 'in' or in a decision table cell", token)
        self.unexpected(token)

    def name(self) -> _Node:
        token = self.advance()
        if token.quoted:
            return self.variable(token)
        text = token.text
        if text in ("true", "false", "null"):
            return self.node(_Literal(token.start, {"true": True, "false": False, "null": None}[text]))
        if text == "if":
            return self.conditional(token)
        if text in ("for", "some", "every"):
            return self.iteration(token)
        if text == "function":
            return self.function_definition(token)
        function = self.function_name(token)
        if function is not None:
            return self.call(token, function)
        if text in _KEYWORDS:
            self.fail(f"unexpected {text!r}", token)
        words, look = [text], 0
        while self.peek(look).kind == "name" and not self.peek(look).quoted and self.peek(look).text not in _KEYWORDS:
            words.append(self.peek(look).text)
            look += 1
        name = " ".join(words)  # DMN 10.3.1.2: a name may have spaces (`Monthly payment`)
        if self.at("(", look) and not any(name in bound for bound in self.locals):
            # Only a context entry or a parameter can hold a function here (no business
            # knowledge models yet), so an unknown name called is a typo, said at deploy.
            self.fail(_REFUSED_FUNCTIONS.get(name, f"{name}() is not a FEEL function here"), token)
        self.position += look
        variable = self.variable(token, name)
        if self.at("("):  # a user function: a variable, a context entry, a business knowledge model
            return self.invocation(token, variable)
        return variable

    def variable(self, token: _Token, name: str | None = None) -> _Node:
        name = token.text if name is None else name
        if name == "?":
            self.input_uses += 1
        elif not any(name in bound for bound in self.locals):
            self.names.add(name)
        return self.node(_Name(token.start, name))

    def arguments(self) -> tuple[list[_Node], list[str] | None]:
        """`(a, b)` or `(name: a, other name: b)`: the arguments, and their names if named."""
        self.expect("(", "after the function name")
        arguments: list[_Node] = []
        names: list[str] = []
        with self.nested():
            while not self.at(")"):
                if arguments:
                    self.expect(",", "between arguments")
                look = 0
                while self.peek(look).kind == "name":
                    look += 1
                if look and self.at(":", look):
                    names.append(" ".join(self.peek(index).text for index in range(look)))
                    self.position += look + 1
                elif names:
                    self.fail("after a named argument, every argument must be named")
                arguments.append(self.expression())
        self.expect(")", "to close the arguments")
        return arguments, names or None

    def invocation(self, token: _Token, callee: _Node) -> _Node:
        arguments, names = self.arguments()
        return self.node(_Invoke(token.start, callee, tuple(arguments), None if names is None else tuple(names)))

    def function_definition(self, token: _Token) -> _Node:
        """`function(a, b) a + b` (DMN 1.5, 10.3.2.13.2); a parameter may have a type, `a: number`."""
        self.expect("(", "after 'function'")
        parameters: list[str] = []
        while not self.at(")"):
            if parameters:
                self.expect(",", "between parameters")
            words = []
            while self.peek().kind == "name" and not (self.peek().text in _KEYWORDS and not self.peek().quoted):
                words.append(self.advance().text)
            if not words:
                self.fail("expected a parameter name", self.peek())
            if self.at(":"):
                self.advance()
                self.type_expression()
            parameters.append(" ".join(words))
        self.advance()
        if self.at("external"):
            self.fail("external functions (Java or PMML) are not supported: they would run code from the model")
        self.locals.append(frozenset(parameters))
        body = self.expression()
        self.locals.pop()
        return self.node(_FunctionDefinition(token.start, tuple(parameters), body))

    def function_name(self, token: _Token) -> str | None:
        for words in _FUNCTION_WORDS.get(token.text, ()):
            following = [self.peek(index) for index in range(len(words) - 1)]
            pairs = zip(following, words[1:], strict=True)
            same = all(token.kind == "name" and not token.quoted and token.text == word for token, word in pairs)
            if same and self.at("(", len(words) - 1):
                self.position += len(words) - 1
                return " ".join(words)
        return None

    def call(self, token: _Token, function: str) -> _Node:
        arguments, names = self.arguments()
        if names is not None:
            places = positions(function, names)
            if places is None:
                self.null(f"{function}() has no parameters named {', '.join(names)}", token)
                return self.node(_Literal(token.start, None))
            ordered: list[_Node] = [_Literal(token.start, None)] * (max(places) + 1)
            for place, argument in zip(places, arguments, strict=True):
                ordered[place] = argument
            arguments = ordered
        builtin = _BUILTINS[function]
        count = len(arguments)
        if count < builtin.fewest or (builtin.most is not None and count > builtin.most):
            if builtin.most == builtin.fewest:
                wanted = f"{builtin.fewest}"
            elif builtin.most is None:
                wanted = f"at least {builtin.fewest}"
            else:
                wanted = f"{builtin.fewest} to {builtin.most}"
            plural = "" if wanted in ("1", "at least 1") else "s"
            self.null(f"{function}() takes {wanted} argument{plural} ({count} given)", token)
            return self.node(_Literal(token.start, None))
        if function == "is defined" and not _is_path(arguments[0]):
            self.fail("is defined() takes a variable name or a path such as order.total", token)
        return self.node(_Call(token.start, function, tuple(arguments)))

    def conditional(self, token: _Token) -> _Node:
        condition = self.expression()
        self.expect("then", "after the condition of 'if'")
        then = self.expression()
        self.expect("else", "in 'if ... then ... else ...'")
        return self.node(_If(token.start, condition, then, self.expression()))

    def iteration(self, token: _Token) -> _Node:
        iterations: list[_Iteration] = []
        bound: set[str] = set()
        while True:
            name = self.advance()
            if name.kind != "name" or (name.text in _KEYWORDS and not name.quoted):
                self.fail(f"expected a name after '{token.text}'", name)
            self.expect("in", f"after '{token.text} {name.text}'")
            self.locals.append(frozenset(bound))
            domain = self.expression()
            end = None
            if self.at(".."):
                self.advance()
                end = self.expression()
            self.locals.pop()
            iterations.append(_Iteration(name.text, domain, end))
            bound.add(name.text)
            if not self.at(","):
                break
            self.advance()
        keyword = "return" if token.text == "for" else "satisfies"
        self.expect(keyword, f"in '{token.text} ... in ... {keyword} ...'")
        if token.text == "for":
            bound.add("partial")  # DMN 1.5, 10.3.2.14: the results so far
        self.locals.append(frozenset(bound))
        body = self.expression()
        self.locals.pop()
        quantifier = None if token.text == "for" else token.text
        return self.node(_For(token.start, tuple(iterations), body, quantifier))

    def parenthesis(self) -> _Node:
        opening = self.advance()
        with self.nested():
            first = self.expression()
        if self.at(".."):
            self.advance()
            return self.range_rest(opening, first, closed=False)
        self.expect(")", "to close '('")
        return first

    def bracket(self) -> _Node:
        opening = self.advance()
        items: list[_Node] = []
        with self.nested():
            while not self.at("]"):
                if self.peek().kind == "end":
                    self.fail("expected ']' to close the list")
                if items:
                    self.expect(",", "between list items")
                items.append(self.expression())
                if len(items) == 1 and self.at(".."):
                    self.advance()
                    return self.range_rest(opening, items[0], closed=True)
        self.advance()
        return self.node(_List(opening.start, tuple(items)))

    def endpoint(self) -> _Node:
        saved, self.filters_allowed = self.filters_allowed, False
        try:
            return self.expression(_COMPARISON_POWER)
        finally:
            self.filters_allowed = saved

    def range_rest(self, opening: _Token, low: _Node, *, closed: bool) -> _Node:
        """The rest of a range after its `..`: the high endpoint and the closing bracket."""
        high = self.endpoint()
        closing = self.advance()
        if closing.text not in ("]", ")", "[") or closing.kind != "op":
            self.fail("expected ']', ')' or '[' to close the range", closing)
        return self.node(_RangeNode(opening.start, low, high, closed, closing.text == "]"))

    def context(self) -> _Node:
        opening = self.advance()
        entries: list[tuple[str, _Node]] = []
        keys: set[str] = set()
        duplicate = False
        while not self.at("}"):
            if self.peek().kind == "end":
                self.fail("expected '}' to close the context")
            if entries:
                self.expect(",", "between context entries")
            key_token = self.peek()
            if key_token.kind == "string":
                key = self.advance().value
            else:
                words = []
                while self.peek().kind == "name":
                    words.append(self.advance().text)
                if not words:
                    self.fail("expected a key (a name or a string) in the context", key_token)
                key = " ".join(words)
            if key in keys:
                duplicate = True
                self.null(f"the key {key!r} appears twice in this context", key_token)
            self.expect(":", "after the context key")
            self.locals.append(frozenset({*keys, key}))  # an entry's function may call itself
            with self.nested():
                entries.append((key, self.expression()))
            self.locals.pop()
            keys.add(key)
        self.advance()
        if duplicate:
            return self.node(_Literal(opening.start, None))
        return self.node(_Context(opening.start, tuple(entries)))

    def type_expression(self) -> str | tuple[Any, ...]:
        """A type (DMN 1.5, 10.3.2.9.4): `number`, `list<number>`, `range<date>`,
        `context<name: string, age: number>`, `function<number, number> -> boolean`."""
        generic = self.peek().text if self.at("<", 1) else None
        if generic in ("list", "range"):
            self.position += 2
            inner = self.type_expression()
            self.expect(">", f"to close {generic}<...>")
            return (generic, inner)
        if generic == "context":
            self.position += 2
            entries: list[tuple[str, Any]] = []
            while not self.at(">"):
                if entries:
                    self.expect(",", "between the entries of context<...>")
                words = []
                while self.peek().kind == "name":
                    words.append(self.advance().text)
                self.expect(":", "after a key of context<...>")
                entries.append((" ".join(words), self.type_expression()))
            self.advance()
            return ("context", tuple(entries))
        if generic == "function":
            self.position += 2
            parameters: list[Any] = []
            while not self.at(">"):
                if parameters:
                    self.expect(",", "between the parameter types of function<...>")
                parameters.append(self.type_expression())
            self.advance()
            self.expect("-", "in function<...> -> type")
            self.expect(">", "in function<...> -> type")
            return ("function", tuple(parameters), self.type_expression())
        return self.type_name()

    def type_name(self) -> str:
        """The longest type name here: `date and time` and not `date`, but `date` in `date and x`."""
        words: list[str] = []
        start, best = self.peek(), None
        while self.peek(len(words)).kind == "name" and " ".join([*words, self.peek(len(words)).text]) in _TYPE_PREFIXES:
            words.append(self.peek(len(words)).text)
            if " ".join(words) in _TYPES:
                best = len(words)
        if best is None:
            self.fail("expected a type such as number, string, boolean, date, list or context", start)
        self.position += best
        return " ".join(words[:best])

    # unary tests

    def positive_test(self, power: int) -> _Test:
        if self.peek().kind == "op" and self.peek().text in _TEST_OPERATORS:
            operator_text = self.advance().text
            return _Test(operator_text, self.expression(_COMPARISON_POWER))
        before = self.input_uses
        expression = self.expression(power)
        return _Test(None, expression, self.input_uses > before)

    def in_tests(self) -> tuple[_Test, ...]:
        if not self.at("("):
            return (self.positive_test(_COMPARISON_POWER),)
        opening = self.advance()
        tests: list[_Test] = []
        with self.nested():
            while True:
                test = self.positive_test(0)
                if not tests and test.operator is None and self.at(".."):
                    self.advance()
                    test = _Test(None, self.range_rest(opening, test.operand, closed=False))
                    return (test,)
                tests.append(test)
                if not self.at(","):
                    break
                self.advance()
        self.expect(")", "to close the list of tests")
        return tuple(tests)

    def nested(self) -> _Nested:
        return _Nested(self)


class _Nested:
    """Inside brackets a `[` is a filter again, even within a range endpoint."""

    def __init__(self, parser: _Parser) -> None:
        self.parser = parser
        self.saved = parser.filters_allowed

    def __enter__(self) -> None:
        self.parser.filters_allowed = True

    def __exit__(self, *exc: object) -> None:
        self.parser.filters_allowed = self.saved


_TYPE_PREFIXES: Final = frozenset(
    " ".join(name.split(" ")[:count]) for name in _TYPES for count in range(1, len(name.split(" ")) + 1)
)


def _children(node: object) -> list[object]:
    found: list[object] = []
    for name in getattr(node, "__dataclass_fields__", ()):
        value = getattr(node, name)
        if isinstance(value, _Node | _Test | _Iteration):
            found.append(value)
        elif isinstance(value, tuple):
            for item in value:
                if isinstance(item, tuple) and len(item) == 2 and isinstance(item[1], _Node):
                    found.append(item[1])  # a context entry: (key, value)
                elif isinstance(item, _Node | _Test | _Iteration):
                    found.append(item)
    return found


def _check_depth(tree: _Node, source: _Source) -> None:
    """Refuse a tree deeper than MAX_DEPTH, without recursing: `1+1+1+...` is deep but not nested."""
    pending: list[tuple[object, int]] = [(tree, 1)]
    while pending:
        node, depth = pending.pop()
        if depth > MAX_DEPTH:
            offset = node.offset if isinstance(node, _Node) else None
            raise source.invalid(f"the expression is nested too deeply (limit {MAX_DEPTH})", offset)
        pending.extend((child, depth + 1) for child in _children(node))


def _is_path(node: _Node) -> bool:
    while isinstance(node, _Path):
        node = node.base
    return isinstance(node, _Name) and node.name != "?"
