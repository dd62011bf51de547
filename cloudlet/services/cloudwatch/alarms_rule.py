"""A composite alarm's AlarmRule: parsed once, evaluated whenever a child changes.

    rule = parse_rule('ALARM(cpu) AND NOT OK("disk high")')
    rule.children                    # {"cpu", "disk high"} (names or ARNs, as written)
    rule.evaluate({"cpu": "ALARM", "disk high": "ALARM"})   # True

Grammar (NOT binds tightest, then AND, then OR; parentheses group):

    rule   := term ("OR" term)*
    term   := factor ("AND" factor)*
    factor := "NOT" factor | "(" rule ")" | "TRUE" | "FALSE"
            | ("ALARM" | "OK" | "INSUFFICIENT_DATA") "(" name ")"

A name is double-quoted or runs up to the closing parenthesis. A rule names at most 100
children and has at most 500 elements, AWS's limits.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from cloudlet.errors import ServiceError

FUNCTIONS = ("ALARM", "OK", "INSUFFICIENT_DATA")
MAX_CHILDREN = 100
MAX_ELEMENTS = 500

_TOKEN = re.compile(r'\s*(?:(\()|(\))|("(?:[^"\\]|\\.)*")|([A-Za-z_]+))')


class RuleError(ServiceError):
    code = "ValidationError"
    status = 400


@dataclass(frozen=True)
class Node:
    kind: str  # "and", "or", "not", "const", "state"
    args: tuple = ()
    value: object = None  # const: bool; state: (function, child name)


@dataclass
class Rule:
    root: Node
    children: set[str]

    def evaluate(self, states: dict[str, str]) -> bool:
        return _eval(self.root, states)


def _eval(node: Node, states: dict[str, str]) -> bool:
    if node.kind == "const":
        return bool(node.value)
    if node.kind == "state":
        function, child = node.value
        return states.get(child) == function
    if node.kind == "not":
        return not _eval(node.args[0], states)
    if node.kind == "and":
        return all(_eval(a, states) for a in node.args)
    return any(_eval(a, states) for a in node.args)


def parse_rule(text: str) -> Rule:
    parser = _Parser(text)
    root = parser.rule()
    parser.skip_space()
    if parser.pos != len(text):
        parser.fail("unexpected text")
    if len(parser.children) > MAX_CHILDREN:
        raise RuleError(f"An alarm rule can reference at most {MAX_CHILDREN} alarms.")
    if parser.elements > MAX_ELEMENTS:
        raise RuleError(f"An alarm rule can have at most {MAX_ELEMENTS} elements.")
    return Rule(root, parser.children)


class _Parser:
    def __init__(self, text: str):
        self.text, self.pos = text, 0
        self.children: set[str] = set()
        self.elements = 0

    def fail(self, what: str):
        raise RuleError(f"Error in alarm rule at position {self.pos + 1}: {what}.")

    def skip_space(self) -> None:
        while self.pos < len(self.text) and self.text[self.pos].isspace():
            self.pos += 1

    def peek_word(self) -> str | None:
        self.skip_space()
        m = re.compile(r"[A-Za-z_]+").match(self.text, self.pos)
        return m.group(0) if m else None

    def take(self, literal: str) -> bool:
        self.skip_space()
        if self.text.startswith(literal, self.pos):
            end = self.pos + len(literal)
            if literal.isalpha() and end < len(self.text) and (
                    self.text[end].isalnum() or self.text[end] == "_"):
                return False
            self.pos = end
            return True
        return False

    def rule(self) -> Node:
        args = [self.term()]
        while self.take("OR"):
            args.append(self.term())
        return args[0] if len(args) == 1 else Node("or", tuple(args))

    def term(self) -> Node:
        args = [self.factor()]
        while self.take("AND"):
            args.append(self.factor())
        return args[0] if len(args) == 1 else Node("and", tuple(args))

    def factor(self) -> Node:
        self.skip_space()
        if self.pos >= len(self.text):
            self.fail("the rule ends too early")
        if self.take("NOT"):
            return Node("not", (self.factor(),))
        if self.take("("):
            self.elements += 1
            node = self.rule()
            if not self.take(")"):
                self.fail("expected ')'")
            self.elements += 1
            return node
        for constant in ("TRUE", "FALSE"):
            if self.take(constant):
                self.elements += 1
                return Node("const", value=constant == "TRUE")
        word = self.peek_word()
        if word in FUNCTIONS:
            self.take(word)
            if not self.take("("):
                self.fail(f"expected '(' after {word}")
            name = self.name()
            if not self.take(")"):
                self.fail("expected ')'")
            self.children.add(name)
            self.elements += 1
            return Node("state", value=(word, name))
        self.fail(f"unknown function or operator {word or self.text[self.pos]!r}")

    def name(self) -> str:
        self.skip_space()
        if self.pos < len(self.text) and self.text[self.pos] == '"':
            end = self.pos + 1
            while end < len(self.text) and self.text[end] != '"':
                end += 2 if self.text[end] == "\\" else 1
            if end >= len(self.text):
                self.fail("unterminated alarm name")
            name = re.sub(r"\\(.)", r"\1", self.text[self.pos + 1:end])
            self.pos = end + 1
        else:
            end = self.text.find(")", self.pos)
            if end < 0:
                self.fail("expected ')'")
            name = self.text[self.pos:end].strip()
            self.pos = end
        if not name:
            self.fail("empty alarm name")
        return name
