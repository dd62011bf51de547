"""The Logs Insights parser: commands, precedence, and compile errors located in the query."""

import pytest

from cloudlet.services.logs.insights.compiler import compile_query
from cloudlet.services.logs.insights.errors import MalformedQuery
from cloudlet.services.logs.insights.query import parse
from cloudlet.services.logs.insights.syntax import Binary, Call, Field, Like, Literal, Regex


def test_seed_query_parses_into_its_commands():
    commands = parse('fields @timestamp, @message | filter @message like /ERROR/ '
                     '| filter requestId = "abc-123" | sort @timestamp desc | limit 100')
    assert [c.name for c in commands] == ["fields", "filter", "filter", "sort", "limit"]
    like = commands[1].condition
    assert isinstance(like, Like) and isinstance(like.pattern, Regex)
    assert like.pattern.pattern == "ERROR"
    eq = commands[2].condition
    assert eq.op == "=" and eq.left == Field(61 + 7, 76, "requestId")
    assert commands[3].keys[0][1] is True
    assert commands[4].count == 100


def test_precedence_and_binds_tighter_than_or_and_power_is_right_associative():
    (cmd,) = parse("filter a = 1 or b = 2 and c = 3")
    assert cmd.condition.op == "or" and cmd.condition.right.op == "and"
    (cmd,) = parse("fields 2 ^ 3 ^ 2 as x")
    expr = cmd.items[0].expr
    assert isinstance(expr, Binary) and expr.op == "^" and expr.right.op == "^"


def test_stats_items_keep_their_text_as_default_names():
    (cmd,) = parse("stats count(*), pct(latency, 99) as p99 by bin(5m), region")
    assert [i.text for i in cmd.aggregates] == ["count(*)", "pct(latency, 99)"]
    assert cmd.aggregates[1].alias == "p99"
    assert isinstance(cmd.groups[0].expr, Call) and cmd.groups[0].text == "bin(5m)"


def test_division_is_not_a_regex_but_parse_takes_one():
    (cmd,) = parse("fields a / 2 / b")
    assert cmd.items[0].expr.op == "/"
    (cmd,) = parse(r"parse @message /user=(?<user>\w+)/")
    assert cmd.regex and cmd.pattern == r"user=(?<user>\w+)"


def test_comments_backticks_and_array_indexes():
    (cmd,) = parse("# a comment\nfields `user-agent`, arr[1], a.b.0, a[0].b[2].c  # trailing")
    assert [i.expr.name for i in cmd.items] == ["user-agent", "arr.1", "a.b.0", "a.0.b.2.c"]


def test_in_not_in_and_not_like():
    (cmd,) = parse('filter status in [500, 503] and method not in ["GET"] '
                   'and @message not like "health"')
    cond = cmd.condition
    assert cond.right.negated and isinstance(cond.right.pattern, Literal)
    assert cond.left.right.negated


@pytest.mark.parametrize("query,start,end", [
    ("fields a,, b", 9, 9),
    ("filter x = ", 10, 10),
    ("fields a | bogus x", 11, 15),
    ("limit 0", 6, 6),
    ("stats count(*) by", 16, 16),
])
def test_syntax_errors_say_where(query, start, end):
    with pytest.raises(MalformedQuery) as err:
        parse(query)
    location = err.value.fields["queryCompileError"]["location"]
    assert (location["startCharOffset"], location["endCharOffset"]) == (start, end)
    assert err.value.code == "MalformedQueryException"


def test_unknown_function_is_malformed_at_the_call():
    with pytest.raises(MalformedQuery) as err:
        compile_query("fields nosuchfn(@message) as x")
    assert (err.value.start, err.value.end) == (7, 24)
    assert "nosuchfn" in err.value.message


@pytest.mark.parametrize("query", [
    "fields count(*)",                         # an aggregate outside stats
    "stats @message",                          # stats without an aggregate
    "stats count(*) | stats count(*) | stats count(*)",   # three stats
    "stats pct(x, 101)",
    "fields substr(@message)",                 # too few arguments
    "fields bin(5)",                           # not a period
    "filter @message like /(?<=a)b/",          # lookbehind: RE2 cannot
    r"filter @message like /(a)\1/",           # backreference
    "filter @message like /((a{1000}){1000}){1000}/",   # bounded: refused, not run
    'parse @message "a * b" as x, y',          # two names for one wildcard
])
def test_what_cannot_run_is_refused_at_compile_time(query):
    with pytest.raises(MalformedQuery):
        compile_query(query)


def test_unterminated_string_and_regex():
    for query in ['filter a = "abc', "filter @message like /abc"]:
        with pytest.raises(MalformedQuery):
            parse(query)


def test_deeply_nested_queries_are_refused_not_crashed():
    for query in ["filter " + "(" * 4990 + "x" + ")" * 4990,
                  "filter " + " + ".join(["x"] * 2400)]:
        with pytest.raises(MalformedQuery):
            compile_query(query)
