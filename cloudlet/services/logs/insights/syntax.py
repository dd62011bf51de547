"""The Logs Insights query language: tokens and the syntax tree.

    tokenize(text) -> [Token]        one pass; `/re/` is a regex where a value may start
    parse(text) -> [Command]         in query.py, a recursive-descent parser over the tokens

Every node keeps its character offsets in the query (`start`, `end`), so a compile error
can say where it is, as AWS's `queryCompileError.location` does.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from cloudlet.services.logs.insights.errors import MalformedQuery

KEYWORDS = {"and", "or", "not", "in", "like", "as", "by", "asc", "desc", "true", "false"}
# Tokens after which a value ends, so `/` divides instead of opening a regex.
VALUE_ENDS = {"ident", "member", "number", "string", "duration", ")", "]", "regex"}

_TOKEN = re.compile(r"""
    (?P<space>\s+|\#[^\n]*)
  | (?P<duration>\d+(?:\.\d+)?(?:ms|mo|[smhdwqy]|sec|secs|second|seconds|min|mins|minute|minutes
                   |hr|hrs|hour|hours|day|days|week|weeks|month|months|quarter|quarters|year|years)
                 (?![A-Za-z0-9_]))
  | (?P<number>\d+(?:\.\d+)?(?:[eE][+-]?\d+)?|\.\d+)
  | (?P<member>\.[A-Za-z_@$][A-Za-z0-9_@$]*(?:\.[A-Za-z0-9_@$]+)*)
  | (?P<ident>@?[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z0-9_@$]+)*|@[A-Za-z0-9_.]*)
  | (?P<backtick>`(?:[^`]|``)*`)
  | (?P<string>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')
  | (?P<op>=~|!=|<=|>=|==|[-+*/%^=<>(),|\[\]!])
""", re.VERBOSE)
_REGEX = re.compile(r"/((?:[^/\\\n]|\\.)*)/")


@dataclass
class Token:
    kind: str     # ident, keyword, number, duration, string, regex, op (kind is the op itself)
    text: str
    start: int
    end: int
    value: object = None


def tokenize(text: str) -> list[Token]:
    tokens: list[Token] = []
    pos = 0
    while pos < len(text):
        if text[pos] == "/" and _regex_allowed(tokens):
            m = _REGEX.match(text, pos)
            if not m:
                raise MalformedQuery(f"unterminated regular expression at position {pos}",
                                     pos, len(text) - 1)
            tokens.append(Token("regex", m.group(0), pos, m.end() - 1, m.group(1)))
            pos = m.end()
            continue
        m = _TOKEN.match(text, pos)
        if not m:
            raise MalformedQuery(f"unexpected symbol found {text[pos]} at line "
                                 f"{text.count(chr(10), 0, pos) + 1} and position {pos}", pos, pos)
        kind, raw = m.lastgroup, m.group(0)
        pos = m.end()
        if kind == "space":
            continue
        tokens.append(_token(kind, raw, m.start(), pos - 1))
    return tokens


def _token(kind: str, raw: str, start: int, end: int) -> Token:
    if kind == "ident" and raw.lower() in KEYWORDS:
        return Token("keyword", raw.lower(), start, end)
    if kind == "backtick":
        return Token("ident", raw, start, end, raw[1:-1].replace("``", "`"))
    if kind in ("ident", "member"):
        return Token(kind, raw, start, end, raw)
    if kind == "string":
        return Token("string", raw, start, end, _unescape(raw[1:-1]))
    if kind == "number":
        return Token("number", raw, start, end, float(raw) if any(c in raw for c in ".eE")
                     else int(raw))
    if kind == "duration":
        m = re.match(r"(\d+(?:\.\d+)?)(\w+)", raw)
        return Token("duration", raw, start, end, (float(m.group(1)), m.group(2)))
    return Token(raw, raw, start, end)


def _unescape(body: str) -> str:
    return re.sub(r"\\(.)", lambda m: {"n": "\n", "t": "\t", "r": "\r"}.get(m.group(1), m.group(1)),
                  body)


def _regex_allowed(tokens: list[Token]) -> bool:
    if not tokens:
        return True
    last = tokens[-1]
    if last.kind in VALUE_ENDS:
        # `parse @message /re/`: the field to parse is followed by the pattern
        return len(tokens) >= 2 and tokens[-2].kind == "ident" and tokens[-2].text.lower() == "parse"
    return True


# --- the syntax tree ---------------------------------------------------------------------

@dataclass
class Node:
    start: int
    end: int


@dataclass
class Field(Node):
    name: str


@dataclass
class Literal(Node):
    value: object         # str, int, float or bool


@dataclass
class Regex(Node):
    pattern: str


@dataclass
class Duration(Node):
    amount: float
    unit: str


@dataclass
class Call(Node):
    name: str
    args: list
    text: str             # the call as written: AWS names an unnamed column after it


@dataclass
class Unary(Node):
    op: str
    operand: Node


@dataclass
class Binary(Node):
    op: str
    left: Node
    right: Node


@dataclass
class InList(Node):
    operand: Node
    items: list
    negated: bool = False


@dataclass
class Like(Node):
    operand: Node
    pattern: Node         # Literal (substring) or Regex
    negated: bool = False


@dataclass
class Item:
    expr: Node
    alias: str | None
    text: str


@dataclass
class Command(Node):
    name: str


@dataclass
class Fields(Command):
    items: list[Item] = field(default_factory=list)


@dataclass
class Filter(Command):
    condition: Node = None


@dataclass
class Stats(Command):
    aggregates: list[Item] = field(default_factory=list)
    groups: list[Item] = field(default_factory=list)


@dataclass
class Sort(Command):
    keys: list[tuple[Node, bool]] = field(default_factory=list)   # (expr, descending)


@dataclass
class Limit(Command):
    count: int = 0


@dataclass
class Parse(Command):
    source: Node = None
    pattern: str = ""
    regex: bool = False
    names: list[str] = field(default_factory=list)


@dataclass
class Dedup(Command):
    keys: list[Node] = field(default_factory=list)


@dataclass
class Pattern(Command):
    source: Node = None
