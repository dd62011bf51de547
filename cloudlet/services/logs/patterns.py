"""CloudWatch Logs' filter pattern syntax: a pattern compiled once, matched per event.

    compile_pattern(text) -> Pattern
        .matches(message) -> bool
        .extract(message) -> dict | None     the values a metric filter reads, or None
        .sql_prefilter()  -> (sql, args) | None   a DuckDB condition every match satisfies

Three families, as AWS documents them:

    terms              ERROR  "quoted phrase"  ?ERROR ?WARN  ERROR -Exiting  %regex%
                       (plain terms all match, ?terms at least one, -terms none)
    JSON               { $.status = 500 && ($.latency > 100 || $.user.id = "a*") }
                       = != < > <= >=, strings with * wildcards, %regex%, IS NULL,
                       NOT EXISTS, EXISTS, IS TRUE, IS FALSE, array indexes $.a[0]
    space-delimited    [ip, user, ..., status = 4*, bytes > 1000 && bytes < 5000]

Terms and strings are case-sensitive. A malformed pattern is `InvalidParameterException`
("Invalid filter pattern").
"""

from __future__ import annotations

import json
import re

from cloudlet.services.logs.errors import InvalidParameter

try:  # `regex` bounds a match's time; `re` cannot
    import regex as _regex
except ImportError:  # pragma: no cover
    _regex = None

REGEX_TIMEOUT = 0.05
_NUMBER = re.compile(r"-?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")


def invalid(detail: str = "") -> InvalidParameter:
    """AWS says no more than this; `detail` is for the reader of the code."""
    return InvalidParameter("Invalid filter pattern")


def compile_pattern(text: str) -> Pattern:
    stripped = text.strip()
    try:
        if stripped.startswith("{"):
            return JsonPattern(stripped)
        if stripped.startswith("["):
            return DelimitedPattern(stripped)
        return TermPattern(stripped)
    except RecursionError:  # parentheses nested hundreds deep
        raise invalid("nested too deeply") from None


class Regex:
    """A `%...%` regular expression, its match time bounded."""

    def __init__(self, source: str):
        self.source = source
        try:
            self.compiled = (_regex.compile(source) if _regex is not None
                             else re.compile(source))
        except Exception:
            raise invalid(f"bad regular expression %{source}%") from None

    def search(self, text: str) -> bool:
        if _regex is None:
            return self.compiled.search(text) is not None
        try:
            return self.compiled.search(text, timeout=REGEX_TIMEOUT) is not None
        except TimeoutError:
            return False


def _glob(value: str):
    """A string with `*` wildcards as a predicate on strings."""
    if "*" not in value:
        return value.__eq__
    source = ".*".join(re.escape(p) for p in value.split("*"))
    if _regex is None:  # pragma: no cover
        rx = re.compile(source, re.DOTALL)
        return lambda s: rx.fullmatch(s) is not None
    bounded = _regex.compile(source, _regex.DOTALL)  # many *s backtrack polynomially

    def matches(s: str) -> bool:
        try:
            return bounded.fullmatch(s, timeout=REGEX_TIMEOUT) is not None
        except TimeoutError:
            return False
    return matches


class Pattern:
    def matches(self, message: str) -> bool:
        return self.extract(message) is not None

    def extract(self, message: str) -> dict | None:
        raise NotImplementedError

    def sql_prefilter(self) -> tuple[str, list] | None:
        return None


# -- terms ---------------------------------------------------------------------------------

class TermPattern(Pattern):
    def __init__(self, text: str):
        self.all: list = []
        self.any: list = []
        self.none: list = []
        if text.startswith("%") and text.endswith("%") and len(text) >= 2:
            if len(text) == 2:
                raise invalid("empty regular expression")
            self.all.append(Regex(text[1:-1]))
            return
        for kind, term in _terms(text):
            {"": self.all, "?": self.any, "-": self.none}[kind].append(term)

    def extract(self, message: str) -> dict | None:
        if all(_term_in(t, message) for t in self.all) and \
                (not self.any or any(_term_in(t, message) for t in self.any)) and \
                not any(_term_in(t, message) for t in self.none):
            return {}
        return None

    def matches(self, message: str) -> bool:
        return self.extract(message) is not None

    def sql_prefilter(self) -> tuple[str, list] | None:
        terms = [t for t in self.all if isinstance(t, str)]
        alternatives = self.any if all(isinstance(t, str) for t in self.any) else []
        parts, args = [], []
        for term in terms:
            parts.append("contains(message, ?)")
            args.append(term)
        if alternatives:
            parts.append("(" + " OR ".join("contains(message, ?)" for _ in alternatives) + ")")
            args += alternatives
        for term in self.none:
            if isinstance(term, str):
                parts.append("NOT contains(message, ?)")
                args.append(term)
        return (" AND ".join(parts), args) if parts else None


def _term_in(term, message: str) -> bool:
    return term in message if isinstance(term, str) else term.search(message)


def _terms(text: str):
    """(kind, term) for each term: kind '' (must), '?' (any of), '-' (must not)."""
    i, n = 0, len(text)
    while i < n:
        if text[i].isspace():
            i += 1
            continue
        kind = ""
        if text[i] in "?-" and i + 1 < n and not text[i + 1].isspace():
            kind, i = text[i], i + 1
        if text[i] == '"':
            term, i = _quoted(text, i)
        elif text[i] == "%":
            end = text.find("%", i + 1)
            if end < 0 or end == i + 1:
                raise invalid("unterminated regular expression")
            yield kind, Regex(text[i + 1:end])
            i = end + 1
            continue
        else:
            start = i
            while i < n and not text[i].isspace():
                i += 1
            term = text[start:i]
        yield kind, term


def _quoted(text: str, i: int) -> tuple[str, int]:
    """The string in double quotes at text[i], with \\" and \\\\ escapes; the index after."""
    out, i = [], i + 1
    while i < len(text):
        ch = text[i]
        if ch == "\\" and i + 1 < len(text):
            out.append(text[i + 1])
            i += 2
            continue
        if ch == '"':
            return "".join(out), i + 1
        out.append(ch)
        i += 1
    raise invalid("unterminated quoted string")


# -- a small tokenizer for JSON and space-delimited patterns --------------------------------

_TOKEN = re.compile(r"""
    (?P<ws>\s+)
  | (?P<op>&&|\|\||!=|<=|>=|=|<|>)
  | (?P<word>\$(?:[^\s\[\]{}()=!<>&|,"%]|\[\d+\]|\[\*\])*)
  | (?P<punct>[{}()\[\],])
  | (?P<string>"(?:[^"\\]|\\.)*")
  | (?P<regex>%[^%]+%)
  | (?P<ellipsis>\.\.\.)
  | (?P<plain>[^\s{}()\[\],=!<>&|"%]+)
""", re.VERBOSE)


def _tokens(text: str) -> list[tuple[str, str]]:
    out, i = [], 0
    while i < len(text):
        m = _TOKEN.match(text, i)
        if m is None:
            raise invalid(f"unexpected character at {i}")
        kind = "word" if m.lastgroup == "plain" else m.lastgroup
        if kind != "ws":
            out.append((kind, m.group()))
        i = m.end()
    return out


class _Parser:
    def __init__(self, tokens: list[tuple[str, str]]):
        self.tokens = tokens
        self.i = 0

    def peek(self) -> tuple[str, str] | None:
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def take(self, value: str | None = None, kind: str | None = None) -> tuple[str, str]:
        token = self.peek()
        if token is None or (value is not None and token[1] != value) or \
                (kind is not None and token[0] != kind):
            raise invalid(f"expected {value or kind}")
        self.i += 1
        return token

    def accept(self, value: str) -> bool:
        token = self.peek()
        if token is not None and token[1] == value and token[0] in ("op", "punct", "word"):
            self.i += 1
            return True
        return False


class _Value:
    """The right-hand side of a comparison: a number, a string (maybe with wildcards) or a
    regex."""

    def __init__(self, token: tuple[str, str]):
        kind, text = token
        self.number = None
        self.regex = None
        self.text = None
        if kind == "string":
            self.text = json.loads(text) if "\\" in text else text[1:-1]
        elif kind == "regex":
            self.regex = Regex(text[1:-1])
        elif kind == "word":
            self.text = text
            if _NUMBER.fullmatch(text):
                self.number = float(text)
        else:
            raise invalid(f"unexpected {text}")
        self.equals = _glob(self.text) if self.text is not None else None


def _compare(op: str, left: float, right: float) -> bool:
    if op == "=":
        return left == right
    if op == "!=":
        return left != right
    if op == "<":
        return left < right
    if op == ">":
        return left > right
    if op == "<=":
        return left <= right
    return left >= right


# -- JSON patterns -----------------------------------------------------------------------------

_SELECTOR = re.compile(r"\$((?:\.[^.\[\]]+|\[(?:\d+|\*)\])*)")
_STEP = re.compile(r"\.([^.\[\]]+)|\[(\d+|\*)\]")


def _operator_and_value(p: _Parser) -> tuple[str, _Value]:
    """A comparison's operator and the value it compares with; only = and != take a string."""
    op = p.take(kind="op")[1]
    if op in ("&&", "||"):
        raise invalid("expected a comparison")
    value = _Value(p.take())
    if value.number is None and op not in ("=", "!="):
        raise invalid(f"{op} needs a number")
    return op, value


class JsonPattern(Pattern):
    def __init__(self, text: str):
        tokens = _tokens(text)
        parser = _Parser(tokens)
        parser.take("{")
        self.root = self._or(parser)
        parser.take("}")
        if parser.peek() is not None:
            raise invalid("unexpected text after }")

    # expr := and ('||' and)* ; and := unary ('&&' unary)* ; unary := '(' expr ')' | test
    def _or(self, p: _Parser):
        node = self._and(p)
        while p.accept("||"):
            node = ("or", node, self._and(p))
        return node

    def _and(self, p: _Parser):
        node = self._unary(p)
        while p.accept("&&"):
            node = ("and", node, self._unary(p))
        return node

    def _unary(self, p: _Parser):
        if p.accept("("):
            node = self._or(p)
            p.take(")")
            return node
        kind, text = p.take(kind="word")
        m = _SELECTOR.fullmatch(text)
        if m is None:
            raise invalid(f"bad selector {text}")
        path = [(a or (b if b == "*" else int(b)))
                for a, b in _STEP.findall(m.group(1))]
        token = p.peek()
        if token is None:
            raise invalid("expected an operator")
        if token[1] == "IS":
            p.take()
            what = p.take(kind="word")[1]
            if what not in ("NULL", "TRUE", "FALSE"):
                raise invalid(f"IS {what}")
            return ("is", path, what)
        if token[1] == "NOT":
            p.take()
            p.take("EXISTS")
            return ("exists", path, False)
        if token[1] == "EXISTS":
            p.take()
            return ("exists", path, True)
        op, value = _operator_and_value(p)
        return ("cmp", path, op, value)

    def extract(self, message: str) -> dict | None:
        if not message.lstrip().startswith("{"):
            return None
        try:
            document = json.loads(message)
        except (ValueError, RecursionError):
            return None
        if not isinstance(document, dict):
            return None
        return {} if self._eval(self.root, document) else None

    def _eval(self, node, document) -> bool:
        kind = node[0]
        if kind == "and":
            return self._eval(node[1], document) and self._eval(node[2], document)
        if kind == "or":
            return self._eval(node[1], document) or self._eval(node[2], document)
        values = _resolve(document, node[1])
        if kind == "exists":
            return bool(values) == node[2]
        if kind == "is":
            target = {"NULL": None, "TRUE": True, "FALSE": False}[node[2]]
            return any(v is target for v in values)
        return any(_test(v, node[2], node[3]) for v in values)


def json_value(message: str, selector: str):
    """The value at a `$.a.b[0]` selector in a JSON message; None when there is none."""
    m = _SELECTOR.fullmatch(selector)
    if m is None or not message.lstrip().startswith("{"):
        return None
    try:
        document = json.loads(message)
    except (ValueError, RecursionError):
        return None
    path = [a or int(b) for a, b in _STEP.findall(m.group(1)) if b != "*"]
    values = _resolve(document, path)
    return values[0] if values else None


def _resolve(document, path: list) -> list:
    """Every value the path reaches (`[*]` fans out); [] when it reaches nothing."""
    current = [document]
    for step in path:
        following = []
        for value in current:
            if step == "*":
                if isinstance(value, list):
                    following.extend(value)
            elif isinstance(step, int):
                if isinstance(value, list) and step < len(value):
                    following.append(value[step])
            elif isinstance(value, dict) and step in value:
                following.append(value[step])
        current = following
    return current


def _test(value, op: str, expected: _Value) -> bool:
    if expected.regex is not None:
        matched = isinstance(value, str) and expected.regex.search(value)
        return matched if op == "=" else (isinstance(value, str) and not matched)
    if expected.number is not None and isinstance(value, int | float) and \
            not isinstance(value, bool):
        return _compare(op, value, expected.number)
    if op not in ("=", "!="):
        return False
    if isinstance(value, bool) or value is None or isinstance(value, dict | list):
        return False
    text = value if isinstance(value, str) else _number_text(value)
    matched = expected.equals(text)
    return matched if op == "=" else not matched


def _number_text(value) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


# -- space-delimited patterns ------------------------------------------------------------------

_FIELD = re.compile(r'"([^"]*)"|\[([^\]]*)\]|(\S+)')


def split_fields(message: str) -> list[str]:
    """A message's space-delimited fields; "quoted" and [bracketed] fields are one each."""
    return [a if a is not None else (b if b is not None else c)
            for a, b, c in ((m.group(1), m.group(2), m.group(3))
                            for m in _FIELD.finditer(message))]


class DelimitedPattern(Pattern):
    def __init__(self, text: str):
        parser = _Parser(_tokens(text))
        parser.take("[")
        self.fields: list = []  # (name | None for ..., condition | None)
        names = set()
        if not parser.accept("]"):
            while True:
                self.fields.append(self._field(parser, names))
                if parser.accept("]"):
                    break
                parser.take(",")
        if parser.peek() is not None:
            raise invalid("unexpected text after ]")

    def _field(self, p: _Parser, names: set):
        if p.peek() is not None and p.peek()[0] == "ellipsis":
            p.take()
            return (None, None)
        name = p.take(kind="word")[1]
        if name in names:
            raise invalid(f"duplicate field {name}")
        names.add(name)
        token = p.peek()
        if token is None or token[0] != "op":
            return (name, None)
        return (name, self._condition(p, name))

    def _condition(self, p: _Parser, name: str):
        node = self._comparison(p, name, first=True)
        while True:
            token = p.peek()
            if token is None or token[1] not in ("&&", "||"):
                return node
            p.take()
            node = ("and" if token[1] == "&&" else "or", node, self._comparison(p, name))

    def _comparison(self, p: _Parser, name: str, first: bool = False):
        if not first:
            field = p.take(kind="word")[1]
            if field != name:
                raise invalid(f"condition on {field} inside field {name}")
        op, value = _operator_and_value(p)
        return ("cmp", op, value)

    def extract(self, message: str) -> dict | None:
        fields = split_fields(message)
        bound = self._match(0, fields, 0, {}, set())
        return None if bound is None else {f"${k}": v for k, v in bound.items()}

    def _match(self, pi: int, fields: list[str], fi: int, bound: dict,
               failed: set) -> dict | None:
        """Fields from `fi` on against pattern fields from `pi` on. A condition looks at its
        own field only, so a (pi, fi) that failed once fails again: `failed` keeps the
        search over several `...` polynomial."""
        if (pi, fi) in failed:
            return None
        found = None
        if pi == len(self.fields):
            found = bound if fi == len(fields) else None
        elif self.fields[pi][0] is None:  # ... swallows any number of fields
            for skip in range(len(fields) - fi, -1, -1):
                found = self._match(pi + 1, fields, fi + skip, bound, failed)
                if found is not None:
                    break
        elif fi < len(fields):
            name, condition = self.fields[pi]
            value = fields[fi]
            if condition is None or _holds(condition, value):
                found = self._match(pi + 1, fields, fi + 1, {**bound, name: value}, failed)
        if found is None:
            failed.add((pi, fi))
        return found


def _holds(node, value: str) -> bool:
    kind = node[0]
    if kind == "and":
        return _holds(node[1], value) and _holds(node[2], value)
    if kind == "or":
        return _holds(node[1], value) or _holds(node[2], value)
    _, op, expected = node
    if expected.regex is not None:
        matched = expected.regex.search(value)
        return matched if op == "=" else not matched
    if expected.number is not None and _NUMBER.fullmatch(value):
        return _compare(op, float(value), expected.number)
    if op not in ("=", "!="):
        return False
    matched = expected.equals(value)
    return matched if op == "=" else not matched
