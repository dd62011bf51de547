"""Logs Insights expressions compiled to DuckDB SQL: fields, literals, operators, calls.

A compiled value is a pair (sql, type), as in functions.py. Fields resolve through the
compiler's scope; a name no command defined is discovered in the event: Lambda's REPORT
fields from the text, anything else from the event's JSON (`__json`, one parse per event).
"""

from __future__ import annotations

import re

from cloudlet.services.logs.insights import functions as fn
from cloudlet.services.logs.insights.errors import MalformedQuery
from cloudlet.services.logs.insights.regex import check_regex, named_groups
from cloudlet.services.logs.insights.syntax import (
    Binary,
    Call,
    Duration,
    Field,
    InList,
    Like,
    Literal,
    Node,
    Regex,
    Unary,
)

# Lambda's START/END/REPORT lines, as Logs Insights discovers them
_LAMBDA = r"^(?:START|END|REPORT) RequestId: ([0-9A-Za-z-]+)"
LAMBDA_FIELDS = {
    "@type": (r"^(START|END|REPORT) RequestId: ", "str", None),
    "@requestId": (_LAMBDA, "str", None),
    "@duration": (r"^REPORT RequestId: \S+\s+Duration: ([0-9.]+) ms", "num", 1),
    "@billedDuration": (r"^REPORT .*Billed Duration: ([0-9.]+) ms", "num", 1),
    "@memorySize": (r"^REPORT .*Memory Size: ([0-9]+) MB", "num", 1_000_000),
    "@maxMemoryUsed": (r"^REPORT .*Max Memory Used: ([0-9]+) MB", "num", 1_000_000),
    "@initDuration": (r"^REPORT .*Init Duration: ([0-9.]+) ms", "num", 1),
}


class Expressions:
    """The expression half of the compiler; `Compiler` adds the commands and the scope."""

    scope: dict[str, tuple[str, str]]
    raw: bool
    discovered: dict[str, int]
    in_aggregate: bool
    stats_context: bool

    # --- helpers used by functions.py ---

    def fail(self, node: Node, message: str):
        raise MalformedQuery(message, node.start, node.end)

    def timestamp(self, node: Node) -> str:
        if "@timestamp" not in self.scope:
            self.fail(node, "@timestamp is not available after stats")
        return self.scope["@timestamp"][0]

    def as_time(self, value, node: Node) -> str:
        sql, typ = value
        return sql if typ == "time" else f"CAST({fn.num(value)} AS BIGINT)"

    # --- names and expressions ---

    def resolve(self, name: str, node: Node | None) -> tuple[str, str]:
        if name in self.scope:
            return self.scope[name]
        parts = name.split(".")
        for i in range(len(parts) - 1, 0, -1):       # a path into a jsonParse() value
            base = self.scope.get(".".join(parts[:i]))
            if base is not None and base[1] == "json":
                path = fn.sql_string(json_path(".".join(parts[i:])))
                return f"json_extract_string({base[0]}, {path})", "any"
        if not self.raw:
            return "NULL", "str"
        if name in LAMBDA_FIELDS:
            pattern, typ, scale = LAMBDA_FIELDS[name]
            value = f"NULLIF(regexp_extract(msg, {fn.sql_string(pattern)}, 1), '')"
            if typ == "num":
                value = f"(TRY_CAST({value} AS DOUBLE) * {scale})"
            return value, typ
        if name == "@ptr":
            return "NULL", "str"
        if name not in self.discovered:
            self.discovered[name] = len(self.discovered) + 1
        return f"__json[{self.discovered[name]}]", "any"

    def condition(self, node: Node) -> str:
        value = self.expr(node)
        if isinstance(node, (Binary, Like, InList, Unary)) and value[1] == "bool":
            return value[0]     # never NULL already; bare, so DuckDB can split an AND
        return truthy(value)

    def expr(self, node: Node) -> tuple[str, str]:
        return getattr(self, f"expr_{type(node).__name__.lower()}")(node)

    def expr_field(self, node: Field):
        return self.resolve(node.name, node)

    def expr_literal(self, node: Literal):
        value = node.value
        if value == "*":
            if not self.in_aggregate:
                self.fail(node, "* is only allowed in count(*)")
            return "*", "star"
        if isinstance(value, bool):
            return ("TRUE" if value else "FALSE"), "bool"
        if isinstance(value, str):
            return fn.sql_string(value), "str"
        if isinstance(value, float):
            return f"CAST({value!r} AS DOUBLE)", "num"
        return str(value), "num"

    def expr_regex(self, node: Regex):
        self.fail(node, "a regular expression is only allowed after like, =~ or parse")

    def expr_duration(self, node: Duration):
        self.fail(node, "a time period is only allowed in bin(), datefloor() and dateceil()")

    def expr_unary(self, node: Unary):
        if node.op == "not":
            return f"(NOT {self.condition(node.operand)})", "bool"
        return f"(- {fn.num(self.expr(node.operand))})", "num"

    def expr_binary(self, node: Binary):
        if node.op in ("and", "or"):
            return (f"({self.condition(node.left)} {node.op.upper()} "
                    f"{self.condition(node.right)})"), "bool"
        left, right = self.expr(node.left), self.expr(node.right)
        if node.op in ("=", "!=", "<", ">", "<=", ">="):
            result = compare(node.op, left, right)
            needle = self.json_text_literal(node, left, right) or json_key(node, left, right)
            if needle is not None:
                # text that must appear in the raw event for the comparison to hold (the
                # value, or the field's key): a cheap test that spares parsing the JSON of
                # events that cannot match
                result = f"(contains(msg, {fn.sql_string(needle)}) AND {result})"
            return result, "bool"
        a, b = fn.num(left), fn.num(right)
        if node.op == "/":
            return f"(CAST({a} AS DOUBLE) / {b})", "num"
        if node.op == "^":
            return f"power({a}, {b})", "num"
        if node.op == "%":
            return f"fmod({a}, {b})", "num"
        return f"({a} {node.op} {b})", "num"

    def json_text_literal(self, node: Binary, left, right) -> str | None:
        """The string a discovered field is compared equal to, if JSON writes it verbatim."""
        if node.op != "=" or not self.raw:
            return None
        for field_value, other in ((left, node.right), (right, node.left)):
            if (field_value[0].startswith("__json[") and isinstance(other, Literal)
                    and isinstance(other.value, str) and other.value
                    and re.fullmatch(r"[A-Za-z0-9 _.:@#,;=+-]+", other.value)):
                return other.value
        return None

    def expr_inlist(self, node: InList):
        value = self.expr(node.operand)
        items = [self.expr(item) for item in node.items]
        if not items:
            return ("TRUE" if node.negated else "FALSE"), "bool"
        numeric = all(t == "num" for _, t in items)
        target = fn.num(value) if numeric else fn.text(value)
        listed = ", ".join(sql if numeric else fn.text((sql, t)) for sql, t in items)
        result = f"coalesce({target} IN ({listed}), FALSE)"
        return (f"(NOT {result})" if node.negated else result), "bool"

    def expr_like(self, node: Like):
        value = fn.text(self.expr(node.operand))
        if isinstance(node.pattern, Regex):
            pattern = check_regex(named_groups(node.pattern.pattern)[0], node.pattern)
            result = f"coalesce(regexp_matches({value}, {fn.sql_string(pattern)}), FALSE)"
        else:
            result = f"coalesce(contains({value}, {fn.sql_string(node.pattern.value)}), FALSE)"
        return (f"(NOT {result})" if node.negated else result), "bool"

    def expr_call(self, node: Call):
        if not self.stats_context and node.text in self.scope:   # sort count(*) after stats
            return self.scope[node.text]
        name = node.name.lower()
        if name in fn.AGGREGATES:
            if not self.stats_context:
                self.fail(node, f"{node.name} is an aggregate function: use it in stats")
            if self.in_aggregate:
                self.fail(node, f"aggregate functions cannot be nested: {node.text}")
            table = fn.AGGREGATES
        elif name in fn.FUNCTIONS:
            table = fn.FUNCTIONS
        else:
            self.fail(node, f"unknown function: {node.name}")
        low, high, build = table[name]
        if len(node.args) < low or (high is not None and len(node.args) > high):
            expected = str(low) if low == high else (
                f"at least {low}" if high is None else f"{low} to {high}")
            self.fail(node, f"{node.name} takes {expected} arguments, found {len(node.args)}")
        nested = self.in_aggregate
        self.in_aggregate = table is fn.AGGREGATES
        try:
            args = [self.argument(name, i, arg) for i, arg in enumerate(node.args)]
        finally:
            self.in_aggregate = nested
        return build(self, node, args)

    def argument(self, function: str, index: int, node: Node):
        if isinstance(node, Duration) and function in ("bin", "datefloor", "dateceil"):
            return None, "period"
        if function == "pct" and index == 1:
            return None, "percent"
        if function in ("isipinsubnet", "isipv4insubnet", "isipv6insubnet") and index == 1:
            return None, "subnet"
        return self.expr(node)


def json_path(name: str) -> str:
    path = "$"
    for part in name.split("."):
        if part.isdigit():
            path += f"[{part}]"
        else:
            path += '."' + part.replace('"', '\\"') + '"'
    return path


def json_key(node: Binary, left, right) -> str | None:
    """`"key"`, quoted as JSON writes it, of a field discovered in the event's JSON that the
    comparison reads: an event without it cannot match."""
    for side, value in ((node.left, left), (node.right, right)):
        if isinstance(side, Field) and value[0].startswith("__json["):
            keys = [p for p in side.name.split(".") if not p.isdigit()]
            if keys and re.fullmatch(r"[A-Za-z0-9_-]+", keys[-1]):
                return f'"{keys[-1]}"'
    return None


def truthy(value) -> str:
    sql, typ = value
    if typ == "bool":
        return f"coalesce({sql}, FALSE)"
    if typ in ("num", "time"):
        return f"coalesce({sql} <> 0, FALSE)"
    return f"coalesce({sql} NOT IN ('', 'false', '0'), FALSE)"


def compare(op: str, left, right) -> str:
    types = {left[1], right[1]}
    sql_op = "<>" if op == "!=" else op
    if types & {"num", "time"}:
        return f"coalesce({fn.num(left)} {sql_op} {fn.num(right)}, FALSE)"
    if types == {"bool"}:
        return f"coalesce({left[0]} {sql_op} {right[0]}, FALSE)"
    a, b = fn.text(left), fn.text(right)
    if types == {"any"}:
        # two discovered fields: numbers compare as numbers, anything else as text
        na, nb = f"TRY_CAST({a} AS DOUBLE)", f"TRY_CAST({b} AS DOUBLE)"
        return (f"coalesce(CASE WHEN {na} IS NOT NULL AND {nb} IS NOT NULL "
                f"THEN {na} {sql_op} {nb} ELSE {a} {sql_op} {b} END, FALSE)")
    return f"coalesce({a} {sql_op} {b}, FALSE)"


def children(node) -> list:
    if isinstance(node, Call):
        return node.args
    if isinstance(node, Binary):
        return [node.left, node.right]
    if isinstance(node, Unary):
        return [node.operand]
    if isinstance(node, (InList, Like)):
        return [node.operand]
    return []
