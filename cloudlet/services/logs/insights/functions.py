"""Logs Insights functions, each as the DuckDB SQL it compiles to.

A value is a pair (sql, type). Types: "str", "num", "time" (epoch milliseconds), "bool",
"json" (a jsonParse() value, whose members are read as `value.key`), and "any" (a field
discovered in the event, text that may hold a number). FUNCTIONS maps a name
(lower case) to (minimum args, maximum args or None, builder); AGGREGATES likewise, for
`stats`. A builder receives the compiler (for `@timestamp` and errors), the call node and the
compiled arguments.
"""

from __future__ import annotations

import ipaddress

from cloudlet.services.logs.insights.syntax import Duration, Literal

# bin() and datefloor() units, in milliseconds; months, quarters and years are calendar units
UNITS_MS = {"ms": 1, "s": 1000, "m": 60_000, "h": 3_600_000, "d": 86_400_000, "w": 604_800_000}
UNIT_ALIASES = {
    "sec": "s", "secs": "s", "second": "s", "seconds": "s", "min": "m", "mins": "m",
    "minute": "m", "minutes": "m", "hr": "h", "hrs": "h", "hour": "h", "hours": "h",
    "day": "d", "days": "d", "week": "w", "weeks": "w", "month": "mo", "months": "mo",
    "quarter": "q", "quarters": "q", "year": "y", "years": "y",
}
CALENDAR = {"mo": 1, "q": 3, "y": 12}   # months per unit

IPV4 = (r"(?:(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])\.){3}"
        r"(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])")
_H = "[0-9A-Fa-f]{1,4}"
IPV6 = ("(?:" + "|".join([
    f"(?:{_H}:){{7}}{_H}",
    f"(?:{_H}:){{1,7}}:",
    f"(?:{_H}:){{1,6}}:{_H}",
    f"(?:{_H}:){{1,5}}(?::{_H}){{1,2}}",
    f"(?:{_H}:){{1,4}}(?::{_H}){{1,3}}",
    f"(?:{_H}:){{1,3}}(?::{_H}){{1,4}}",
    f"(?:{_H}:){{1,2}}(?::{_H}){{1,5}}",
    f"{_H}:(?::{_H}){{1,6}}",
    f":(?:(?::{_H}){{1,7}}|:)",
    f"(?:{_H}:){{6}}{IPV4}",
    f"::(?:ffff(?::0{{1,4}})?:)?{IPV4}",
    f"(?:{_H}:){{1,4}}:{IPV4}",
]) + ")")


def sql_string(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def num(value) -> str:
    sql, typ = value
    if typ == "bool":             # true and false count as 1 and 0: sum(ispresent(x))
        return f"CAST({sql} AS INTEGER)"
    return sql if typ in ("num", "time") else f"TRY_CAST({sql} AS DOUBLE)"


def text(value) -> str:
    sql, typ = value
    if typ == "bool":
        return f"CAST(CAST({sql} AS INTEGER) AS VARCHAR)"
    return sql if typ in ("str", "any") else f"CAST({sql} AS VARCHAR)"


def period_ms(compiler, node) -> tuple[str, float]:
    if not isinstance(node, Duration):
        compiler.fail(node, "expected a time period such as 5m, 1h or 1d")
    unit = UNIT_ALIASES.get(node.unit, node.unit)
    if node.amount <= 0:
        compiler.fail(node, "the time period must be positive")
    if unit in CALENDAR:
        if node.amount != int(node.amount):
            compiler.fail(node, "calendar periods must be whole numbers")
        return unit, node.amount
    return unit, node.amount * UNITS_MS[unit]


def floor_time(compiler, ts: str, node) -> str:
    unit, amount = period_ms(compiler, node)
    if unit in CALENDAR:
        months = int(amount) * CALENDAR[unit]
        return (f"epoch_ms(time_bucket(INTERVAL {months} MONTH, "
                f"make_timestamp({ts} * 1000)))")
    if unit == "w":
        weeks = int(amount / UNITS_MS['w']) or 1
        return (f"epoch_ms(time_bucket(INTERVAL {weeks * 7} DAY, "
                f"make_timestamp({ts} * 1000)))")
    step = int(amount) or 1
    return f"(({ts}) // {step}) * {step}"


def ceil_time(compiler, ts: str, node) -> str:
    unit, amount = period_ms(compiler, node)
    floor = floor_time(compiler, ts, node)
    if unit in CALENDAR:
        months = int(amount) * CALENDAR[unit]
        step = f"epoch_ms(make_timestamp({floor} * 1000) + INTERVAL {months} MONTH)"
    else:
        step = f"{floor} + {int(amount) or 1}"
    return f"CASE WHEN {floor} = ({ts}) THEN ({ts}) ELSE {step} END"


def timestamp_of(compiler, node) -> str:
    return compiler.timestamp(node)


# --- scalar functions ---

def f_bin(c, node, args):
    return floor_time(c, timestamp_of(c, node), node.args[0]), "time"


def f_datefloor(c, node, args):
    return floor_time(c, c.as_time(args[0], node.args[0]), node.args[1]), "time"


def f_dateceil(c, node, args):
    return ceil_time(c, c.as_time(args[0], node.args[0]), node.args[1]), "time"


def f_frommillis(c, node, args):
    return f"CAST({num(args[0])} AS BIGINT)", "time"


def f_tomillis(c, node, args):
    return f"CAST({c.as_time(args[0], node.args[0])} AS BIGINT)", "num"


def f_ispresent(c, node, args):
    return f"({args[0][0]} IS NOT NULL)", "bool"


def f_coalesce(c, node, args):
    types = {t for _, t in args}
    typ = types.pop() if len(types) == 1 else "str"
    parts = [a[0] if typ != "str" else text(a) for a in args]
    return f"coalesce({', '.join(parts)})", typ


def f_isempty(c, node, args):
    return f"({args[0][0]} IS NULL OR {text(args[0])} = '')", "bool"


def f_isblank(c, node, args):
    return f"({args[0][0]} IS NULL OR trim({text(args[0])}) = '')", "bool"


def f_concat(c, node, args):
    return f"concat({', '.join(text(a) for a in args)})", "str"


def trimmer(sql_name):
    def build(c, node, args):
        extra = f", {text(args[1])}" if len(args) > 1 else ""
        return f"{sql_name}({text(args[0])}{extra})", "str"
    return build


def f_strlen(c, node, args):
    return f"length({text(args[0])})", "num"


def f_toupper(c, node, args):
    return f"upper({text(args[0])})", "str"


def f_tolower(c, node, args):
    return f"lower({text(args[0])})", "str"


def f_substr(c, node, args):
    start = f"CAST({num(args[1])} AS BIGINT) + 1"
    if len(args) > 2:
        return f"substring({text(args[0])}, {start}, CAST({num(args[2])} AS BIGINT))", "str"
    return f"substring({text(args[0])}, {start})", "str"


def f_replace(c, node, args):
    return f"replace({text(args[0])}, {text(args[1])}, {text(args[2])})", "str"


def f_strcontains(c, node, args):
    s = text(args[0])
    return f"CASE WHEN {s} IS NULL THEN NULL WHEN contains({s}, {text(args[1])}) THEN 1 ELSE 0 END", \
        "num"


def unary_math(sql_name):
    def build(c, node, args):
        return f"{sql_name}({num(args[0])})", "num"
    return build


def variadic_math(sql_name):
    def build(c, node, args):
        return f"{sql_name}({', '.join(num(a) for a in args)})", "num"
    return build


def f_round(c, node, args):
    digits = f", CAST({num(args[1])} AS INTEGER)" if len(args) > 1 else ""
    return f"round({num(args[0])}{digits})", "num"


def f_isvalidipv4(c, node, args):
    return f"regexp_full_match({text(args[0])}, {sql_string(IPV4)})", "bool"


def f_isvalidipv6(c, node, args):
    return f"regexp_full_match({text(args[0])}, {sql_string(IPV6)})", "bool"


def f_isvalidip(c, node, args):
    s = text(args[0])
    return (f"(regexp_full_match({s}, {sql_string(IPV4)}) OR "
            f"regexp_full_match({s}, {sql_string(IPV6)}))"), "bool"


def ipv4_number(sql: str) -> str:
    parts = [f"TRY_CAST(string_split({sql}, '.')[{i}] AS BIGINT)" for i in (1, 2, 3, 4)]
    return f"((({parts[0]} * 256 + {parts[1]}) * 256 + {parts[2]}) * 256 + {parts[3]})"


def ipv6_groups(sql: str) -> str:
    """The eight 16-bit groups of an IPv6 address, as integers (`::` expanded)."""
    parts = f"string_split({sql}, '::')"
    head = f"CASE WHEN {parts}[1] = '' THEN []::VARCHAR[] ELSE string_split({parts}[1], ':') END"
    tail = (f"CASE WHEN len({parts}) < 2 OR {parts}[2] = '' THEN []::VARCHAR[] "
            f"ELSE string_split({parts}[2], ':') END")
    groups = (f"CASE WHEN len({parts}) = 1 THEN {head} ELSE list_concat({head}, "
              f"list_transform(range(8 - len({head}) - len({tail})), lambda x: '0'), {tail}) END")
    return f"list_transform({groups}, lambda g: TRY_CAST('0x' || g AS INTEGER))"


def ipv6_in_subnet(sql: str, net) -> str:
    wanted = [(int(net.network_address) >> (16 * (7 - i))) & 0xFFFF for i in range(8)]
    whole, rest = divmod(net.prefixlen, 16)
    groups = ipv6_groups(sql)
    checks = [f"regexp_full_match({sql}, {sql_string(IPV6)})", f"NOT contains({sql}, '.')"]
    if whole:
        checks.append(f"{groups}[1:{whole}] = {wanted[:whole]}")
    if rest:
        shift = 16 - rest
        checks.append(f"({groups}[{whole + 1}] >> {shift}) = {wanted[whole] >> shift}")
    return "coalesce(" + " AND ".join(checks) + ", FALSE)"


def subnet_of(c, node):
    if not isinstance(node, Literal) or not isinstance(node.value, str):
        c.fail(node, "the subnet must be a string literal such as \"10.0.0.0/8\"")
    try:
        return ipaddress.ip_network(node.value, strict=False)
    except ValueError:
        c.fail(node, f"{node.value} is not a valid subnet")


def ip_in_subnet(version):
    def build(c, node, args):
        net = subnet_of(c, node.args[1])
        if version and net.version != version:
            c.fail(node.args[1], f"{net} is not an IPv{version} subnet")
        s = text(args[0])
        if net.version == 6:
            return ipv6_in_subnet(s, net), "bool"
        shift = 32 - net.prefixlen
        return (f"(regexp_full_match({s}, {sql_string(IPV4)}) AND "
                f"({ipv4_number(s)} >> {shift}) = {int(net.network_address) >> shift})"), "bool"
    return build


def f_unmask(c, node, args):
    return args[0]


def f_jsonparse(c, node, args):
    return f"try(CAST({text(args[0])} AS JSON))", "json"


def f_jsonstringify(c, node, args):
    sql, typ = args[0]
    if typ == "json":
        return f"CAST({sql} AS VARCHAR)", "str"
    if typ == "any":        # an object or list read from JSON is JSON text already
        return (f"CASE WHEN starts_with({sql}, '{{') OR starts_with({sql}, '[') THEN {sql} "
                f"ELSE CAST(to_json({sql}) AS VARCHAR) END"), "str"
    return f"CAST(to_json({sql}) AS VARCHAR)", "str"


FUNCTIONS = {
    "bin": (1, 1, f_bin),
    "datefloor": (2, 2, f_datefloor),
    "dateceil": (2, 2, f_dateceil),
    "frommillis": (1, 1, f_frommillis),
    "tomillis": (1, 1, f_tomillis),
    "ispresent": (1, 1, f_ispresent),
    "coalesce": (1, None, f_coalesce),
    "isempty": (1, 1, f_isempty),
    "isblank": (1, 1, f_isblank),
    "concat": (1, None, f_concat),
    "ltrim": (1, 2, trimmer("ltrim")),
    "rtrim": (1, 2, trimmer("rtrim")),
    "trim": (1, 2, trimmer("trim")),
    "strlen": (1, 1, f_strlen),
    "toupper": (1, 1, f_toupper),
    "tolower": (1, 1, f_tolower),
    "substr": (2, 3, f_substr),
    "replace": (3, 3, f_replace),
    "strcontains": (2, 2, f_strcontains),
    "abs": (1, 1, unary_math("abs")),
    "ceil": (1, 1, unary_math("ceil")),
    "floor": (1, 1, unary_math("floor")),
    "log": (1, 1, unary_math("ln")),
    "sqrt": (1, 1, unary_math("sqrt")),
    "greatest": (1, None, variadic_math("greatest")),
    "least": (1, None, variadic_math("least")),
    "round": (1, 2, f_round),
    "isvalidip": (1, 1, f_isvalidip),
    "isvalidipv4": (1, 1, f_isvalidipv4),
    "isvalidipv6": (1, 1, f_isvalidipv6),
    "isipinsubnet": (2, 2, ip_in_subnet(None)),
    "isipv4insubnet": (2, 2, ip_in_subnet(4)),
    "isipv6insubnet": (2, 2, ip_in_subnet(6)),
    "unmask": (1, 1, f_unmask),
    "jsonparse": (1, 1, f_jsonparse),
    "jsonstringify": (1, 1, f_jsonstringify),
}


# --- aggregates (stats only) ---

def a_count(c, node, args):
    if not args or args[0] == ("*", "star"):
        return "count(*)", "num"
    return f"count({args[0][0]})", "num"


def a_count_distinct(c, node, args):
    return f"count(DISTINCT {args[0][0]})", "num"


def numeric_aggregate(sql_name):
    def build(c, node, args):
        return f"{sql_name}({num(args[0])})", "num"
    return build


def ordered_aggregate(sql_name):
    def build(c, node, args):
        sql, typ = args[0]
        if typ in ("num", "time"):
            return f"{sql_name}({sql})", typ
        return f"{sql_name}({num(args[0])})", "num"
    return build


def a_pct(c, node, args):
    p = node.args[1]
    if not isinstance(p, Literal) or isinstance(p.value, (str, bool)) or not 0 <= p.value <= 100:
        c.fail(p, "the percentile must be a number from 0 to 100")
    return f"quantile_disc({num(args[0])}, {p.value / 100})", "num"


def by_time(sql_name):
    def build(c, node, args):
        sql, typ = args[0]
        return f"{sql_name}({sql}, {timestamp_of(c, node)})", typ
    return build


def sorted_value(sql_name):
    def build(c, node, args):
        sql, typ = args[0]
        return f"{sql_name}({sql})", typ
    return build


AGGREGATES = {
    "count": (0, 1, a_count),
    "count_distinct": (1, 1, a_count_distinct),
    "sum": (1, 1, numeric_aggregate("sum")),
    "avg": (1, 1, numeric_aggregate("avg")),
    "stddev": (1, 1, numeric_aggregate("stddev_samp")),
    "min": (1, 1, ordered_aggregate("min")),
    "max": (1, 1, ordered_aggregate("max")),
    "pct": (2, 2, a_pct),
    "earliest": (1, 1, by_time("arg_min")),
    "latest": (1, 1, by_time("arg_max")),
    "sortsfirst": (1, 1, sorted_value("min")),
    "sortslast": (1, 1, sorted_value("max")),
}
