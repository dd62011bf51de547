"""Compile a parsed Logs Insights query to one DuckDB SQL statement over `log_events`.

Each command becomes one CTE over the previous one (`s0` the events in range, `s1` the JSON
fields discovered in them, then one per command), so DuckDB plans the whole pipeline at
once and pushes filters down to the scan. Columns inside the CTEs have internal names
(`c1`, `c2`, ...); `Scope` maps the query's field names to them.

    compile_query(text, limit) -> Compiled(sql, params, columns, matched_sql, ...)

`columns` lists the result fields in order, with their types, so results.py can render
every value as AWS does (a string; timestamps as `YYYY-MM-DD HH:MM:SS.mmm`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from cloudlet.services.logs.insights import functions as fn
from cloudlet.services.logs.insights.errors import MalformedQuery
from cloudlet.services.logs.insights.query import parse
from cloudlet.services.logs.insights.regex import check_regex, glob_to_regex, named_groups
from cloudlet.services.logs.insights.syntax import (
    Binary,
    Call,
    Dedup,
    Duration,
    Field,
    Fields,
    Filter,
    InList,
    Like,
    Limit,
    Literal,
    Node,
    Parse,
    Pattern,
    Regex,
    Sort,
    Stats,
    Unary,
)

DEFAULT_LIMIT = 10_000      # rows when neither the query nor StartQuery's limit says
MAX_LIMIT = 100_000         # StartQuery's limit goes up to 100,000 (pages of 10,000)
MAX_STATS = 2
DEFAULT_FIELDS = ["@timestamp", "@message", "@logStream", "@log"]

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

BASE_COLUMNS = {
    "@timestamp": ("ts", "time"),
    "@message": ("msg", "str"),
    "@logStream": ("stream", "str"),
    "@log": ("log", "str"),
    "@ingestionTime": ("ingested", "time"),
}


@dataclass
class Compiled:
    sql: str                       # the rows, in order, with columns then __group, __id
    columns: list[tuple[str, str]]  # (field, type) of each result column
    matched_sql: str | None        # one row: (recordsMatched,); None: rows end with it
    scanned_sql: str               # one row: (recordsScanned, bytesScanned)
    with_ptr: bool                 # rows are events: each carries @ptr
    limit: int
    regexes: list[str] = field(default_factory=list)


class Compiler:
    def __init__(self, text: str):
        self.text = text
        self.ctes: list[str] = []
        self.scope: dict[str, tuple[str, str]] = {k: v for k, v in BASE_COLUMNS.items()}
        self.raw = True                 # rows are still log events
        self.discovered: dict[str, int] = {}   # JSON field -> index in the extracted list
        self.counter = 0
        self.order: list[tuple[str, bool]] = []
        self.display: list[str] | None = None
        self.displayed = False          # a display command has chosen the result fields
        self.stats = 0
        self.limit: int | None = None
        self.matched_cte = ""
        self.filtered = False           # a filter or dedup has dropped events
        self.in_aggregate = False
        self.stats_context = False

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

    def column(self) -> str:
        self.counter += 1
        return f"c{self.counter}"

    def stage(self, select: str, where: str = "", tail: str = "") -> None:
        prev = f"s{len(self.ctes) - 1}"
        sql = f"SELECT {select} FROM {prev}"
        if where:
            sql += f" WHERE {where}"
        if tail:
            sql += f" {tail}"
        self.ctes.append(sql)

    # --- the query ---

    def compile(self, limit: int | None = None) -> Compiled:
        commands = parse(self.text)
        self.ctes.append("SELECT timestamp AS ts, message AS msg, log_stream AS stream, "
                         "account || ':' || log_group AS log, ingestion_time AS ingested, "
                         "log_group AS __group, event_id AS __id FROM log_events "
                         "WHERE account = $account AND region = $region "
                         "AND list_contains($groups, log_group) "
                         "AND timestamp >= $start AND timestamp <= $end")
        self.ctes.append("")          # s1: the discovered JSON fields, filled in at the end
        for command in commands:
            getattr(self, f"command_{type(command).__name__.lower()}")(command)
        if not self.matched_cte:
            self.matched_cte = f"s{len(self.ctes) - 1}"
        return self.finish(limit)

    def json_stage(self) -> str:
        if not self.discovered:
            return "SELECT *, NULL AS __json FROM s0"
        paths = ", ".join(fn.sql_string(json_path(name)) for name in self.discovered)
        # One parse per event for all its fields; try() turns malformed JSON into NULL
        return ("SELECT *, CASE WHEN starts_with(msg, '{') "
                f"THEN try(json_extract_string(msg, [{paths}])) END AS __json FROM s0")

    def finish(self, limit: int | None) -> Compiled:
        names = self.display if self.display is not None else (
            DEFAULT_FIELDS if self.raw else list(self.scope))
        columns, select = [], []
        for name in names:
            sql, typ = self.resolve(name, None)
            select.append(f"{sql} AS {self.column()}")
            columns.append((name, typ))
        matched_here = self.raw and self.filtered
        if matched_here:
            # filtered events are counted on the way (a window over what the filters kept)
            # rather than by running the filters twice
            k = int(self.matched_cte[1:])
            self.ctes[k] = f"SELECT *, count(*) OVER () AS __matched FROM ({self.ctes[k]})"
        if self.raw:
            select += ["__group", "__id"]
        if self.stats or matched_here:
            select.append("__matched")
        order = self.current_order()
        final_limit = min(self.limit or limit or DEFAULT_LIMIT, MAX_LIMIT)
        self.ctes[1] = self.json_stage()
        last = f"s{len(self.ctes) - 1}"
        body = f"SELECT {', '.join(select) or 'NULL'} FROM {last}"
        if order:
            body += " ORDER BY " + ", ".join(order_sql(order))
        body += f" LIMIT {final_limit}"
        ctes = ", ".join(f"s{i} AS ({sql})" for i, sql in enumerate(self.ctes))
        matched_ctes = ", ".join(f"s{i} AS ({sql})" for i, sql in
                                 enumerate(self.ctes[:int(self.matched_cte[1:]) + 1]))
        return Compiled(
            sql=f"WITH {ctes} {body}",
            columns=columns,
            matched_sql=None if self.stats or matched_here else
            f"WITH {matched_ctes} SELECT count(*) FROM {self.matched_cte}",
            scanned_sql=f"WITH s0 AS ({self.ctes[0]}) SELECT count(*), "
                        "coalesce(sum(strlen(msg)), 0) FROM s0",
            with_ptr=self.raw,
            limit=final_limit,
        )

    # --- commands ---

    def command_fields(self, cmd: Fields) -> None:
        if cmd.name == "unmask" and not cmd.items:
            return
        names, added = [], []
        for item in cmd.items:
            if isinstance(item.expr, Field) and item.alias is None:
                self.resolve(item.expr.name, item.expr)
                names.append(item.expr.name)
                continue
            sql, typ = self.expr(item.expr)
            col = self.column()
            added.append(f"{sql} AS {col}")
            name = item.alias or item.text
            self.scope[name] = (col, typ)
            names.append(name)
        if added:
            self.stage("*, " + ", ".join(added))
        # the last display decides; without one, every fields command's fields show
        if cmd.name == "display":
            self.display, self.displayed = names, True
        elif self.display is None:
            self.display = names
        elif not self.displayed:
            self.display = self.display + [n for n in names if n not in self.display]

    def command_filter(self, cmd: Filter) -> None:
        self.stage("*", where=self.condition(cmd.condition))
        self.filtered = self.filtered or self.raw

    def command_stats(self, cmd: Stats) -> None:
        self.stats += 1
        if self.stats > MAX_STATS:
            self.fail(cmd, "a query may contain at most two stats commands")
        if self.raw:
            self.matched_cte = f"s{len(self.ctes) - 1}"
        select, scope, groups = [], {}, []
        for item in cmd.groups:
            sql, typ = self.expr(item.expr)
            col = self.column()
            select.append(f"{sql} AS {col}")
            groups.append(col)
            scope[item.alias or item.text] = (col, typ)
        self.stats_context = True
        try:
            for item in cmd.aggregates:
                sql, typ = self.expr(item.expr)
                if not self.has_aggregate(item.expr):
                    self.fail(item.expr, f"{item.text} is not an aggregate function; stats "
                              "needs functions such as count(), sum() or avg()")
                col = self.column()
                select.append(f"{sql} AS {col}")
                scope[item.alias or item.text] = (col, typ)
        finally:
            self.stats_context = False
        tail = f"GROUP BY {', '.join(groups)}" if groups else ""
        # recordsMatched: the events that reached the first stats, counted on the way
        if self.raw:
            self.stage(", ".join(select + ["count(*) AS __n"]), tail=tail)
            self.stage("*, sum(__n) OVER () AS __matched")
        else:
            self.stage(", ".join(select + ["any_value(__matched) AS __matched"]), tail=tail)
        # groups come out in order: time bins newest first, other groups ascending
        order = [(scope[item.alias or item.text][0], scope[item.alias or item.text][1] == "time")
                 for item in cmd.groups]
        self.scope, self.raw, self.order, self.display = scope, False, order, None
        self.displayed = False

    def has_aggregate(self, node) -> bool:
        if isinstance(node, Call) and node.name.lower() in fn.AGGREGATES:
            return True
        return any(self.has_aggregate(child) for child in children(node))

    def command_sort(self, cmd: Sort) -> None:
        self.order = []
        for expr, desc in cmd.keys:
            sql, typ = self.expr(expr)
            if isinstance(expr, Literal):       # a constant orders nothing
                continue
            if typ == "any":        # a discovered field: numbers in numeric order, then text
                self.order.append((f"TRY_CAST({sql} AS DOUBLE)", desc))
            self.order.append((sql, desc))

    def command_limit(self, cmd: Limit) -> None:
        if self.raw:
            self.matched_cte = self.matched_cte or f"s{len(self.ctes) - 1}"
        order = " ORDER BY " + ", ".join(order_sql(self.current_order()))
        self.stage("*", tail=f"{order if self.current_order() else ''} LIMIT {cmd.count}")
        self.limit = cmd.count if self.limit is None else min(self.limit, cmd.count)

    def command_parse(self, cmd: Parse) -> None:
        source = fn.text(self.expr(cmd.source))
        if cmd.regex:
            pattern, groups = named_groups(cmd.pattern)
            if not groups:
                self.fail(cmd, "a parse regular expression needs named groups, such as "
                          "(?<name>\\S+)")
        else:
            pattern, groups = glob_to_regex(cmd.pattern, cmd.names)
            if not groups:
                self.fail(cmd, "a parse pattern needs at least one * to capture a field")
        check_regex(pattern, cmd)
        col = self.column()
        count = max(groups.values())
        names = ", ".join(f"'g{i}'" for i in range(1, count + 1))
        self.stage(f"*, CASE WHEN regexp_matches({source}, {fn.sql_string(pattern)}) THEN "
                   f"regexp_extract({source}, {fn.sql_string(pattern)}, [{names}]) END AS {col}")
        for name, index in groups.items():
            self.scope[name] = (f"{col}.g{index}", "any")

    def command_dedup(self, cmd: Dedup) -> None:
        keys = [self.expr(k)[0] for k in cmd.keys]
        order = (" ORDER BY " + ", ".join(order_sql(self.current_order()))
                 if self.current_order() else "")
        self.stage("*", tail=f"QUALIFY row_number() OVER (PARTITION BY {', '.join(keys)}"
                             f"{order}) = 1")
        self.filtered = self.filtered or self.raw

    def command_pattern(self, cmd: Pattern) -> None:
        if self.raw:
            self.matched_cte = f"s{len(self.ctes) - 1}"
        source = fn.text(self.expr(cmd.source))
        shape = (f"regexp_replace(regexp_replace({source}, "
                 r"'[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}'"
                 r", '<*>', 'g'), '\b[0-9][0-9A-Za-z.:_-]*', '<*>', 'g')")
        self.stage(f"{shape} AS pattern, count(*) AS samples, "
                   "count(*) / sum(count(*)) OVER () AS ratio", tail="GROUP BY 1")
        self.scope = {"@pattern": ("pattern", "str"), "@sampleCount": ("samples", "num"),
                      "@ratio": ("ratio", "num")}
        self.raw, self.display = False, None
        self.order = [("samples", True)]

    def current_order(self) -> list[tuple[str, bool]]:
        """The sort in force; events without one come newest first, as on AWS."""
        return self.order or ([("ts", True)] if self.raw else [])

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


def compile_query(text: str, limit: int | None = None) -> Compiled:
    return Compiler(text).compile(limit)


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


def order_sql(order: list[tuple[str, bool]]) -> list[str]:
    return [f"{sql} {'DESC' if desc else 'ASC'} NULLS LAST" for sql, desc in order]


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
