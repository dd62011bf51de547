"""Compile a parsed Logs Insights query to one DuckDB SQL statement over `log_events`.

Each command becomes one CTE over the previous one (`s0` the events in range, `s1` the JSON
fields discovered in them, then one per command), so DuckDB plans the whole pipeline at
once and pushes filters down to the scan. Columns inside the CTEs have internal names
(`c1`, `c2`, ...); `scope` maps the query's field names to them. Expressions (fields,
operators, function calls) compile in expressions.py.

    compile_query(text, limit) -> Compiled(sql, params, columns, matched_sql, ...)

`columns` lists the result fields in order, with their types, so results.py can render
every value as AWS does (a string; timestamps as `YYYY-MM-DD HH:MM:SS.mmm`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from cloudlet.services.logs.insights import functions as fn
from cloudlet.services.logs.insights.errors import MalformedQuery
from cloudlet.services.logs.insights.expressions import Expressions, children, json_path
from cloudlet.services.logs.insights.query import parse
from cloudlet.services.logs.insights.regex import check_regex, glob_to_regex, named_groups
from cloudlet.services.logs.insights.syntax import (
    Call,
    Dedup,
    Field,
    Fields,
    Filter,
    Limit,
    Literal,
    Parse,
    Pattern,
    Sort,
    Stats,
)

DEFAULT_LIMIT = 10_000      # rows when neither the query nor StartQuery's limit says
MAX_LIMIT = 100_000         # StartQuery's limit goes up to 100,000 (pages of 10,000)
MAX_STATS = 2
DEFAULT_FIELDS = ["@timestamp", "@message", "@logStream", "@log"]

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


class Compiler(Expressions):
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


def compile_query(text: str, limit: int | None = None) -> Compiled:
    try:
        return Compiler(text).compile(limit)
    except RecursionError:
        raise MalformedQuery("The query is too complex: its expressions nest too deeply",
                             0, max(len(text) - 1, 0)) from None


def order_sql(order: list[tuple[str, bool]]) -> list[str]:
    return [f"{sql} {'DESC' if desc else 'ASC'} NULLS LAST" for sql, desc in order]
