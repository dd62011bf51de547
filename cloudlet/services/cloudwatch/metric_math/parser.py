"""Metric math's parser: a small precedence climber over the grammar

    expr    := or
    or      := and (("OR" | "||") and)*
    and     := cmp (("AND" | "&&") cmp)*
    cmp     := sum (("==" | "!=" | "<" | "<=" | ">" | ">=") sum)*
    sum     := product (("+" | "-") product)*
    product := power (("*" | "/") power)*
    power   := unary ("^" power)?
    unary   := ("-" | "NOT" | "!") unary | atom
    atom    := number | string | id | NAME "(" args ")" | "[" args "]" | "(" expr ")"

    tree = parse("SUM(METRICS()) / PERIOD(m1)")     # raises MathError with the position
    references(tree)                                  # {"METRICS()", "m1"}

A tree is nested tuples: ("num", 1.0), ("str", "s"), ("ref", id, pos), ("call", NAME, args,
pos), ("array", items), ("neg", x), ("not", x), ("bin", op, left, right).
"""

from __future__ import annotations

import re

from cloudlet.services.cloudwatch.metric_math.values import MathError

_TOKEN = re.compile(r"""
    (?P<space>\s+)
  | (?P<number>(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)
  | (?P<string>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')
  | (?P<name>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<op>==|!=|<=|>=|&&|\|\||[-+*/^()<>,\[\]!])
""", re.VERBOSE)

_KEYWORDS = {"AND": "&&", "OR": "||", "NOT": "!"}
MAX_LENGTH = 1024


def tokenize(text: str) -> list[tuple[str, object, int]]:
    tokens, pos = [], 0
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None:
            raise MathError(f"Unexpected character '{text[pos]}' at position {pos + 1}")
        kind = m.lastgroup
        if kind == "number":
            tokens.append(("num", float(m.group()), pos))
        elif kind == "string":
            raw = m.group()[1:-1]
            tokens.append(("str", re.sub(r"\\(.)", r"\1", raw), pos))
        elif kind == "name":
            word = m.group()
            if word.upper() in _KEYWORDS:
                tokens.append(("op", _KEYWORDS[word.upper()], pos))
            else:
                tokens.append(("name", word, pos))
        elif kind == "op":
            tokens.append(("op", m.group(), pos))
        pos = m.end()
    tokens.append(("end", None, len(text)))
    return tokens


class _Parser:
    LEVELS = [("||",), ("&&",), ("==", "!=", "<", "<=", ">", ">="), ("+", "-"), ("*", "/")]

    def __init__(self, text: str):
        self.tokens = tokenize(text)
        self.i = 0

    def peek(self):
        return self.tokens[self.i]

    def take(self):
        token = self.tokens[self.i]
        self.i += 1
        return token

    def expect(self, op: str):
        kind, value, pos = self.take()
        if kind != "op" or value != op:
            raise MathError(f"Expected '{op}' at position {pos + 1}")

    def parse(self):
        tree = self.level(0)
        kind, value, pos = self.peek()
        if kind != "end":
            raise MathError(f"Unexpected '{value}' at position {pos + 1}")
        return tree

    def level(self, n: int):
        if n == len(self.LEVELS):
            return self.power()
        left = self.level(n + 1)
        while True:
            kind, value, _ = self.peek()
            if kind == "op" and value in self.LEVELS[n]:
                self.take()
                left = ("bin", value, left, self.level(n + 1))
            else:
                return left

    def power(self):
        base = self.unary()
        kind, value, _ = self.peek()
        if kind == "op" and value == "^":
            self.take()
            return ("bin", "^", base, self.power())
        return base

    def unary(self):
        kind, value, _ = self.peek()
        if kind == "op" and value == "-":
            self.take()
            return ("neg", self.unary())
        if kind == "op" and value == "+":
            self.take()
            return self.unary()
        if kind == "op" and value == "!":
            self.take()
            return ("not", self.unary())
        return self.atom()

    def atom(self):
        kind, value, pos = self.take()
        if kind == "num":
            return ("num", value)
        if kind == "str":
            return ("str", value)
        if kind == "name":
            nxt = self.peek()
            if nxt[0] == "op" and nxt[1] == "(":
                self.take()
                return ("call", value.upper(), self.args(")"), pos)
            return ("ref", value, pos)
        if kind == "op" and value == "(":
            inner = self.level(0)
            self.expect(")")
            return inner
        if kind == "op" and value == "[":
            return ("array", self.args("]"))
        if kind == "end":
            raise MathError("Unexpected end of expression")
        raise MathError(f"Unexpected '{value}' at position {pos + 1}")

    def args(self, closing: str) -> list:
        args = []
        kind, value, _ = self.peek()
        if kind == "op" and value == closing:
            self.take()
            return args
        while True:
            args.append(self.level(0))
            kind, value, pos = self.take()
            if kind == "op" and value == closing:
                return args
            if not (kind == "op" and value == ","):
                raise MathError(f"Expected ',' or '{closing}' at position {pos + 1}")


def parse(text: str):
    if not text or not text.strip():
        raise MathError("The expression is empty")
    if len(text) > MAX_LENGTH:
        raise MathError(f"The expression is longer than {MAX_LENGTH} characters")
    try:
        return _Parser(text).parse()
    except RecursionError:
        raise MathError("The expression is nested too deeply") from None


def references(tree) -> set[str]:
    """The query ids an expression reads (METRICS() is reported as "METRICS()")."""
    found: set[str] = set()

    def walk(node):
        kind = node[0]
        if kind == "ref":
            if node[1].upper() not in ("REPEAT", "LINEAR", "ASC", "DESC"):
                found.add(node[1])
        elif kind == "call":
            if node[1] == "METRICS":
                found.add("METRICS()")
            for arg in node[2]:
                walk(arg)
        elif kind == "bin":
            walk(node[2])
            walk(node[3])
        elif kind in ("neg", "not"):
            walk(node[1])
        elif kind == "array":
            for item in node[1]:
                walk(item)

    walk(tree)
    return found

