"""Logs Insights compiled to SQL and run on a DuckDB table shaped like the event store's."""

import json
import statistics
import time

import duckdb
import pytest

from cloudlet.services.logs.insights.compiler import compile_query
from cloudlet.services.logs.insights.results import format_time, parse_pointer, render
from cloudlet.services.logs.insights.runner import Query, QueryRunner

T0 = 1_700_000_000_000   # 2023-11-14 22:13:20 UTC
ACCOUNT, REGION = "000000000000", "us-east-1"
REPORT = ("REPORT RequestId: 6f6a3c1e-0000-4000-8000-000000000001\tDuration: 12.34 ms\t"
          "Billed Duration: 13 ms\tMemory Size: 128 MB\tMax Memory Used: 64 MB\t"
          "Init Duration: 150.50 ms\t")


def event(i):
    return {"level": "ERROR" if i % 4 == 0 else "INFO", "requestId": f"r{i % 3}",
            "latency": (i * 37) % 100, "region": ["us", "eu"][i % 2], "amount": i * 10.5,
            "user": {"name": f"u{i % 5}", "tags": [f"t{i}", "x"]}, "ip": f"10.0.{i % 3}.{i}"}


@pytest.fixture(scope="module")
def db(tmp_path_factory):
    conn = duckdb.connect(str(tmp_path_factory.mktemp("insights") / "events.duckdb"))
    conn.execute("CREATE TABLE log_events (account VARCHAR, region VARCHAR, log_group VARCHAR, "
                 "log_stream VARCHAR, timestamp BIGINT, ingestion_time BIGINT, "
                 "event_id BIGINT, message VARCHAR)")
    rows = [(ACCOUNT, REGION, "app", f"s{i % 2}", T0 + i * 60_000, T0 + i * 60_000 + 5, i,
             json.dumps(event(i))) for i in range(40)]
    rows.append((ACCOUNT, REGION, "app", "s0", T0 + 1, T0 + 2, 100, "plain user=bob GET 200"))
    rows.append((ACCOUNT, REGION, "/aws/lambda/f", "l", T0, T0, 101, REPORT))
    rows.append((ACCOUNT, REGION, "other", "s", T0, T0, 102, json.dumps(event(0))))
    rows.append(("111111111111", REGION, "app", "s", T0, T0, 103, json.dumps(event(0))))
    conn.executemany("INSERT INTO log_events VALUES (?, ?, ?, ?, ?, ?, ?, ?)", rows)
    yield conn
    conn.close()


def run(db, query, groups=("app",), start=0, end=2**62, limit=None):
    compiled = compile_query(query, limit)
    params = {"account": ACCOUNT, "region": REGION, "groups": list(groups),
              "start": start, "end": end}
    rows = db.execute(compiled.sql, params).fetchall()
    return [{f["field"]: f["value"] for f in row}
            for row in render(rows, compiled.columns, compiled.with_ptr)]


def events():
    return [event(i) for i in range(40)]


def test_seed_query_shape_newest_first(db):
    rows = run(db, 'fields @timestamp, @message | filter @message like /ERROR/ '
                   '| filter requestId = "r0" | sort @timestamp desc | limit 100')
    expected = [i for i in range(40) if i % 4 == 0 and i % 3 == 0]
    assert [json.loads(r["@message"]) for r in rows] == [event(i) for i in reversed(expected)]
    assert rows[0]["@timestamp"] == format_time(T0 + expected[-1] * 60_000)
    assert list(rows[0]) == ["@timestamp", "@message", "@ptr"]
    assert parse_pointer(rows[0]["@ptr"]) == ("app", expected[-1])


def test_timestamps_render_as_aws_does():
    assert format_time(T0 + 7) == "2023-11-14 22:13:20.007"


def test_stats_count_by_bin(db):
    rows = run(db, "filter ispresent(level) | stats count(*) as n by bin(5m)")
    expected = {}
    for i in range(40):
        b = (T0 + i * 60_000) // 300_000 * 300_000
        expected[format_time(b)] = expected.get(format_time(b), 0) + 1
    assert {r["bin(5m)"]: int(r["n"]) for r in rows} == expected


def test_stats_by_region_with_filter_sum_and_pct(db):
    rows = run(db, "filter amount > 100 | stats count(*), sum(amount), pct(latency, 50), "
                   "count_distinct(requestId), stddev(latency) by region")
    for r in rows:
        chosen = [e for e in events() if e["amount"] > 100 and e["region"] == r["region"]]
        assert int(r["count(*)"]) == len(chosen)
        assert float(r["sum(amount)"]) == pytest.approx(sum(e["amount"] for e in chosen))
        lat = sorted(e["latency"] for e in chosen)
        assert float(r["pct(latency, 50)"]) in lat[(len(lat) - 1) // 2:len(lat) // 2 + 1]
        assert int(r["count_distinct(requestId)"]) == len({e["requestId"] for e in chosen})
        assert float(r["stddev(latency)"]) == pytest.approx(statistics.stdev(lat))
    assert {r["region"] for r in rows} == {"us", "eu"}


def test_json_flattening_with_dots_and_array_indexes(db):
    rows = run(db, "filter user.name = 'u3' | fields user.name, user.tags.0, user.tags[1] as t "
                   "| sort latency asc | limit 2")
    chosen = sorted((e for e in events() if e["user"]["name"] == "u3"),
                    key=lambda e: e["latency"])[:2]
    assert [r["user.tags.0"] for r in rows] == [e["user"]["tags"][0] for e in chosen]
    assert {r["t"] for r in rows} == {"x"}


def test_sort_discovered_numbers_numerically(db):
    rows = run(db, "fields latency | sort latency desc | limit 3")
    assert [int(r["latency"]) for r in rows] == sorted(
        (e["latency"] for e in events()), reverse=True)[:3]


def test_parse_glob_and_regex(db):
    rows = run(db, 'parse @message "plain user=* * *" as user, method, status '
                   '| filter ispresent(user) | fields user, method, status')
    assert rows[0]["user"] == "bob" and rows[0]["method"] == "GET" and rows[0]["status"] == "200"
    rows = run(db, r"parse @message /user=(?<who>\w+) (?<verb>[A-Z]+)/ | filter ispresent(who) "
                   "| display who, verb")
    assert [(r["who"], r["verb"]) for r in rows] == [("bob", "GET")]


def test_like_regex_case_insensitive_and_match_operator(db):
    assert len(run(db, "filter @message like /(?i)PLAIN/")) == 1
    assert len(run(db, "filter @message =~ /^plain/")) == 1
    assert len(run(db, 'filter @message like "plain"')) == 1
    assert len(run(db, 'filter @message not like "plain"')) == 40


def test_in_and_arithmetic(db):
    rows = run(db, "filter latency in [0, 37, 74] | fields latency * 2 + 1 as y, latency % 10 "
                   "as m | sort y")
    lat = sorted(e["latency"] for e in events() if e["latency"] in (0, 37, 74))
    assert [int(r["y"]) for r in rows] == [x * 2 + 1 for x in lat]
    assert [int(r["m"]) for r in rows] == [x % 10 for x in lat]


def test_string_functions(db):
    (row,) = run(db, 'filter @message like "plain" | fields toupper(substr(@message, 0, 5)) as a,'
                     ' strlen(@message) as n, replace(@message, "GET", "PUT") as r, '
                     'concat("x", "y") as c, strcontains(@message, "bob") as s, '
                     'trim("  z ") as t, isempty(nothing) as e')
    assert row["a"] == "PLAIN" and row["n"] == str(len("plain user=bob GET 200"))
    assert row["r"] == "plain user=bob PUT 200" and row["c"] == "xy"
    assert row["s"] == "1" and row["t"] == "z" and row["e"] == "1"


def test_datetime_functions(db):
    (row,) = run(db, 'filter @message like "plain" | fields datefloor(@timestamp, 1h) as f, '
                     'dateceil(@timestamp, 1d) as c, toMillis(@timestamp) as ms, '
                     'fromMillis(0) as z, bin(1mo) as mo, bin(1y) as y, bin(1w) as w, '
                     'bin(30s) as s, bin(1q) as q')
    assert row["f"] == "2023-11-14 22:00:00.000" and row["c"] == "2023-11-15 00:00:00.000"
    assert row["ms"] == str(T0 + 1) and row["z"] == "1970-01-01 00:00:00.000"
    assert row["mo"] == "2023-11-01 00:00:00.000" and row["y"] == "2023-01-01 00:00:00.000"
    assert row["w"] == "2023-11-13 00:00:00.000"          # a Monday
    assert row["s"] == "2023-11-14 22:13:00.000" and row["q"] == "2023-10-01 00:00:00.000"


def test_ip_and_general_functions(db):
    rows = run(db, 'filter isIpv4InSubnet(ip, "10.0.1.0/24") | fields ip, '
                   'isValidIp(ip) as v, coalesce(missing, region) as r')
    assert {r["ip"] for r in rows} == {e["ip"] for e in events() if e["ip"].startswith("10.0.1.")}
    assert {r["v"] for r in rows} == {"1"}
    row = run(db, 'fields isValidIpV6("2001:db8::1") as a, isValidIpV4("300.1.1.1") as b, '
                  'isIpInSubnet("192.168.1.7", "192.168.0.0/16") as c | limit 1')[0]
    assert (row["a"], row["b"], row["c"]) == ("1", "0", "1")


def test_earliest_latest_sorts_first_last(db):
    (row,) = run(db, "stats earliest(latency) as e, latest(latency) as l, "
                     "sortsFirst(region) as f, sortsLast(region) as z, min(@timestamp) as t")
    assert row == {"e": str(event(0)["latency"]), "l": str(event(39)["latency"]), "f": "eu",
                   "z": "us", "t": format_time(T0)}


def test_second_stats_over_the_first(db):
    rows = run(db, "filter ispresent(region) | stats count(*) as n by region, requestId "
                   "| stats sum(n) as total, max(n) as most by region")
    assert {r["region"]: int(r["total"]) for r in rows} == {"us": 20, "eu": 20}


def test_dedup_keeps_the_first_in_sort_order(db):
    rows = run(db, "filter ispresent(region) | sort @timestamp desc | dedup region "
                   "| fields region, @timestamp")
    assert {r["region"] for r in rows} == {"us", "eu"} and len(rows) == 2
    assert rows[0]["@timestamp"] == format_time(T0 + 39 * 60_000)


def test_lambda_report_fields(db):
    (row,) = run(db, "filter @type = 'REPORT' | fields @requestId, @duration, @billedDuration, "
                     "@memorySize, @maxMemoryUsed, @initDuration, @type", groups=["/aws/lambda/f"])
    assert row["@requestId"] == "6f6a3c1e-0000-4000-8000-000000000001"
    assert row["@duration"] == "12.34" and row["@billedDuration"] == "13"
    assert row["@memorySize"] == "128000000" and row["@maxMemoryUsed"] == "64000000"
    assert row["@initDuration"] == "150.5"


def test_scope_account_group_and_time_range(db):
    assert len(run(db, "fields @message")) == 41
    assert len(run(db, "fields @message", groups=["app", "other"])) == 42
    assert len(run(db, "fields @message", start=T0 + 60_000, end=T0 + 120_000)) == 2


def test_limits(db):
    assert len(run(db, "fields @message | limit 5")) == 5
    assert len(run(db, "fields @message", limit=3)) == 3


def test_default_fields_and_missing_values_left_out(db):
    rows = run(db, "filter @logStream = 's1' | limit 1")
    assert set(rows[0]) == {"@timestamp", "@message", "@logStream", "@log", "@ptr"}
    assert rows[0]["@log"] == f"{ACCOUNT}:app"
    rows = run(db, 'fields nothing, @message | filter @message like "plain"')
    assert "nothing" not in rows[0]


def test_pattern_groups_similar_messages(db):
    rows = run(db, "filter level = 'INFO' | pattern @message")
    assert sum(int(r["@sampleCount"]) for r in rows) == 30


def test_runner_status_transitions_and_statistics(db):
    runner = QueryRunner(db.cursor)
    query = _query(db, "filter amount > 100 | stats count(*) by region")
    assert query.status == "Scheduled"
    runner.submit(query)
    _wait(query)
    assert query.status == "Complete"
    assert query.statistics["recordsMatched"] == sum(1 for e in events() if e["amount"] > 100)
    assert query.statistics["recordsScanned"] == 41
    assert query.statistics["bytesScanned"] > 0
    for text, matched in [("filter latency > 50 | sort latency | limit 3",
                           sum(1 for e in events() if e["latency"] > 50)),
                          ("fields @message | limit 3", 41)]:
        query = _query(db, text)
        runner.submit(query)
        _wait(query)
        assert len(query.results) == 3
        assert query.statistics["recordsMatched"] == matched
    runner.shutdown()


def test_runner_stops_and_times_out_long_queries(db, monkeypatch):
    slow = ("filter strlen(concat(@message, @message)) > 0 | stats count(*) as n by @message "
            "| stats sum(n)")
    slow_sql = ("SELECT count(*) FROM range(100000000) a, range(1000) b WHERE a.range + b.range "
                "= -1 AND $account || $region || $start || $end || len($groups) IS NOT NULL")
    runner = QueryRunner(db.cursor)
    query = _query(db, slow)
    query.compiled.sql = slow_sql
    runner.submit(query)
    while query.status == "Scheduled":
        time.sleep(0.01)
    time.sleep(0.2)
    assert query.status == "Running"
    assert runner.stop(query) is True
    _wait(query)
    assert query.status == "Cancelled"
    assert runner.stop(query) is False
    monkeypatch.setenv("CLOUDLET_LOGS_QUERY_TIMEOUT", "0.3")
    query = _query(db, slow)
    query.compiled.sql = slow_sql
    runner.submit(query)
    _wait(query)
    assert query.status == "Timeout"
    runner.shutdown()


def _query(db, text):
    return Query(query_id=text[:20] + str(time.monotonic()), account=ACCOUNT, region=REGION,
                 query_string=text, log_groups=["app"], start_ms=0, end_ms=2**62,
                 compiled=compile_query(text), create_time=0)


def _wait(query, timeout=20):
    deadline = time.monotonic() + timeout
    while query.status in ("Scheduled", "Running") and time.monotonic() < deadline:
        time.sleep(0.02)


def test_stats_columns_are_named_by_their_text_for_later_commands(db):
    rows = run(db, "stats count(*) by region | sort count(*) desc, region | limit 1")
    assert rows == [{"region": "eu", "count(*)": "20"}]
    rows = run(db, "stats count(*) as n by bin(10m) | filter n > 5 | display bin(10m), n")
    assert rows and all(int(r["n"]) > 5 and list(r) == ["bin(10m)", "n"] for r in rows)


def test_a_cursor_stays_usable_after_an_interrupted_query(db, monkeypatch):
    cursor = db.cursor()
    runner = QueryRunner(lambda: cursor)
    monkeypatch.setenv("CLOUDLET_LOGS_QUERY_TIMEOUT", "0.2")
    query = _query(db, "fields @message")
    query.compiled.sql = ("SELECT count(*) FROM range(100000000) a, range(1000) b WHERE "
                          "a.range + b.range = -1 AND $account || $region || $start || $end "
                          "|| len($groups) IS NOT NULL")
    runner.submit(query)
    _wait(query)
    assert query.status == "Timeout"
    query = _query(db, "fields @message | limit 2")
    runner.submit(query)
    _wait(query)
    assert query.status == "Complete" and len(query.results) == 2
    runner.shutdown()


def test_limit_without_sort_keeps_the_newest_events(db):
    rows = run(db, "filter ispresent(latency) | limit 2 | fields @timestamp")
    assert [r["@timestamp"] for r in rows] == [format_time(T0 + i * 60_000) for i in (39, 38)]


def test_stats_rows_come_newest_bin_first_then_by_group(db):
    rows = run(db, "filter ispresent(region) | stats count(*) by bin(10m), region")
    keys = [(r["bin(10m)"], r["region"]) for r in rows]
    assert len(keys) > 4
    assert keys == sorted(sorted(keys, key=lambda k: k[1]), key=lambda k: k[0], reverse=True)


def test_json_parse_and_stringify(db):
    rows = run(db, "fields jsonParse(@message) as j | filter j.user.name = 'u1' "
                   "| fields j.user.tags.0 as tag, jsonStringify(j.user) as u | sort tag")
    chosen = sorted(e["user"]["tags"][0] for e in events() if e["user"]["name"] == "u1")
    assert [r["tag"] for r in rows] == chosen
    assert all(json.loads(r["u"])["name"] == "u1" for r in rows)


def test_fields_accumulate_and_the_last_display_decides(db):
    rows = run(db, "fields region | fields level | filter ispresent(level) | limit 1")
    assert set(rows[0]) == {"region", "level", "@ptr"}
    rows = run(db, "display region | fields level | filter ispresent(level) | limit 1")
    assert set(rows[0]) == {"region", "@ptr"}


def test_ipv6_subnets(db):
    row = run(db, 'fields isIpv6InSubnet("2001:db8::1", "2001:db8::/32") as a, '
                  'isIpInSubnet("fe80::1:2", "fe80::/10") as b, '
                  'isIpv6InSubnet("fec0::1", "fe80::/10") as c, '
                  'isIpInSubnet("10.0.0.1", "::/0") as d | limit 1')[0]
    assert (row["a"], row["b"], row["c"], row["d"]) == ("1", "1", "0", "0")
