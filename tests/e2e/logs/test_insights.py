"""Logs Insights through boto3: PutLogEvents, then StartQuery and GetQueryResults.

The acceptance queries run over 100,000 events; every expected answer is computed here from
the events the test wrote, independently of Cloudlet.
"""

import json
import math
import random
import time

import pytest
from botocore.exceptions import ClientError
from harness import error_of, unique

N = 100_000
BATCH = 5_000
REGIONS = ["us-east-1", "eu-west-1", "ap-southeast-2"]


def now_ms() -> int:
    return int(time.time() * 1000)


def put_all(logs, group, stream, events):
    for i in range(0, len(events), BATCH):
        batch = [{"timestamp": t, "message": m} for t, m in events[i:i + BATCH]]
        result = logs.put_log_events(logGroupName=group, logStreamName=stream, logEvents=batch)
        assert "rejectedLogEventsInfo" not in result


def run_query(logs, group, query, start=None, end=None, **kwargs):
    now = int(time.time())
    started = logs.start_query(logGroupName=group, queryString=query,
                               startTime=start if start is not None else now - 86_400,
                               endTime=end if end is not None else now + 60, **kwargs)
    deadline = time.monotonic() + 60
    while True:
        result = logs.get_query_results(queryId=started["queryId"])
        if result["status"] not in ("Scheduled", "Running"):
            break
        assert time.monotonic() < deadline, "query did not finish"
        time.sleep(0.05)
    assert result["status"] == "Complete", result
    result["queryId"] = started["queryId"]
    return result


def rows_of(result):
    return [{f["field"]: f["value"] for f in row} for row in result["results"]]


def utc(ms: int) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(ms // 1000)) + f".{ms % 1000:03d}"


@pytest.fixture(scope="module")
def dataset(cloudlet):
    """100,000 structured events over the last ~80 minutes, one every 48 ms."""
    logs = cloudlet.client("logs")
    group, stream = unique("/insights/app"), "main"
    logs.create_log_group(logGroupName=group)
    logs.create_log_stream(logGroupName=group, logStreamName=stream)
    rng = random.Random(5)
    start = now_ms() - N * 48 - 60_000
    events, records = [], []
    for i in range(N):
        request = "abc-123" if rng.random() < 0.002 else f"req-{rng.randrange(5000)}"
        level = "ERROR" if rng.random() < 0.05 else "INFO"
        record = {"level": level, "requestId": request, "region": rng.choice(REGIONS),
                  "latency": rng.randrange(1, 2000), "amount": round(rng.uniform(1, 300), 2),
                  "msg": f"{level} handled order {i}"}
        ts = start + i * 48
        events.append((ts, json.dumps(record)))
        records.append((ts, record))
    put_all(logs, group, stream, events)
    return group, events, records


def test_seed_query_returns_the_error_lines_of_one_request_newest_first(logs, dataset):
    group, events, records = dataset
    result = run_query(logs, group, 'fields @timestamp, @message\n'
                       '| filter @message like /ERROR/\n'
                       '| filter requestId = "abc-123"\n'
                       '| sort @timestamp desc\n'
                       '| limit 100')
    expected = [(ts, msg) for ts, msg in events
                if "ERROR" in msg and json.loads(msg)["requestId"] == "abc-123"]
    expected = sorted(expected, reverse=True)[:100]
    assert expected, "the data set must hold such lines"
    rows = rows_of(result)
    assert [(r["@timestamp"], r["@message"]) for r in rows] == [(utc(t), m) for t, m in expected]
    assert all(set(r) == {"@timestamp", "@message", "@ptr"} for r in rows)
    assert result["statistics"]["recordsScanned"] == N
    assert result["statistics"]["recordsMatched"] == len(expected)
    assert result["statistics"]["bytesScanned"] >= sum(len(m) for _, m in events)


def test_stats_count_by_bin_5m(logs, dataset):
    group, events, _ = dataset
    result = run_query(logs, group, "stats count(*) by bin(5m)")
    expected = {}
    for ts, _ in events:
        key = utc(ts // 300_000 * 300_000)
        expected[key] = expected.get(key, 0) + 1
    got = {r["bin(5m)"]: int(r["count(*)"]) for r in rows_of(result)}
    assert got == expected
    assert result["statistics"]["recordsMatched"] == N


def test_stats_pct_latency_99_by_region(logs, dataset):
    group, _, records = dataset
    result = run_query(logs, group, "stats pct(latency, 99) by region")
    got = {r["region"]: float(r["pct(latency, 99)"]) for r in rows_of(result)}
    assert set(got) == set(REGIONS)
    for region in REGIONS:
        lat = sorted(r["latency"] for _, r in records if r["region"] == region)
        low = lat[math.floor((len(lat) - 1) * 0.99)]         # the 99th percentile's rank,
        high = lat[math.ceil(len(lat) * 0.99) - 1]           # by either usual definition
        assert min(low, high) <= got[region] <= max(low, high)


def test_orders_over_100_dollars_by_region(logs, dataset):
    group, _, records = dataset
    result = run_query(logs, group, "filter amount > 100 | stats count(*), sum(amount) by region")
    rows = {r["region"]: r for r in rows_of(result)}
    for region in REGIONS:
        chosen = [r["amount"] for _, r in records if r["region"] == region and r["amount"] > 100]
        assert int(rows[region]["count(*)"]) == len(chosen)
        assert float(rows[region]["sum(amount)"]) == pytest.approx(sum(chosen), rel=1e-9)
    assert result["statistics"]["recordsMatched"] == sum(
        1 for _, r in records if r["amount"] > 100)


def test_default_limit_and_paging(logs, dataset):
    group, _, _ = dataset
    result = run_query(logs, group, "fields @timestamp")
    assert len(result["results"]) == 10_000
    page = logs.get_query_results(queryId=result["queryId"], maxItems=3)
    assert len(page["results"]) == 3 and page["nextToken"]
    rest = logs.get_query_results(queryId=result["queryId"], maxItems=3,
                                  nextToken=page["nextToken"])
    assert rest["results"] == result["results"][3:6]


def test_start_query_limit_beyond_one_page(logs, dataset):
    group, _, _ = dataset
    result = run_query(logs, group, "fields @timestamp", limit=12_000)
    assert len(result["results"]) == 10_000 and result["nextToken"]
    rest = logs.get_query_results(queryId=result["queryId"], nextToken=result["nextToken"])
    assert len(rest["results"]) == 2_000 and "nextToken" not in rest
    stamps = [r[0]["value"] for r in result["results"] + rest["results"]]
    assert stamps == sorted(stamps, reverse=True)          # newest first, across pages


@pytest.fixture
def small(logs):
    group = unique("/insights/small")
    logs.create_log_group(logGroupName=group)
    logs.create_log_stream(logGroupName=group, logStreamName="s")
    base = now_ms() - 30_000
    messages = [
        "plain user=bob method=GET status=200",
        json.dumps({"order": {"id": 7, "items": [{"sku": "a1"}, {"sku": "b2"}]}, "ip": "10.1.2.3"}),
        "REPORT RequestId: 0b6d5c6e-9a47-4c1a-9f3e-5b1d7f3c2a10\tDuration: 102.25 ms\t"
        "Billed Duration: 103 ms\tMemory Size: 256 MB\tMax Memory Used: 80 MB\t",
        "a" * 5000 + "!",
    ]
    logs.put_log_events(logGroupName=group, logStreamName="s",
                        logEvents=[{"timestamp": base + i, "message": m}
                                   for i, m in enumerate(messages)])
    return group, base


def test_parse_glob_and_regex_named_groups(logs, small):
    group, _ = small
    rows = rows_of(run_query(logs, group, 'parse @message "user=* method=* status=*" '
                             'as user, method, status | filter ispresent(user) '
                             '| display user, method, status'))
    assert rows[0].pop("@ptr")
    assert rows == [{"user": "bob", "method": "GET", "status": "200"}]
    rows = rows_of(run_query(logs, group, r"parse @message /user=(?<who>\w+) method=(?<m>\w+)/"
                             " | filter ispresent(who) | fields who, m"))
    assert [(r["who"], r["m"]) for r in rows] == [("bob", "GET")]


def test_json_fields_flattened_with_dots_and_indexes(logs, small):
    group, _ = small
    rows = rows_of(run_query(logs, group, "filter order.id = 7 | fields order.items.1.sku, "
                             "order.items[0].sku as first, isIpv4InSubnet(ip, '10.1.0.0/16') "
                             "as inside"))
    assert len(rows) == 1
    assert rows[0]["order.items.1.sku"] == "b2" and rows[0]["first"] == "a1"
    assert rows[0]["inside"] == "1"


def test_lambda_report_fields(logs, small):
    group, base = small
    rows = rows_of(run_query(logs, group, "filter @type = 'REPORT' | fields @requestId, "
                             "@duration, @billedDuration, @memorySize, @maxMemoryUsed, "
                             "@timestamp"))
    assert rows == [{"@requestId": "0b6d5c6e-9a47-4c1a-9f3e-5b1d7f3c2a10", "@duration": "102.25",
                     "@billedDuration": "103", "@memorySize": "256000000",
                     "@maxMemoryUsed": "80000000", "@timestamp": utc(base + 2),
                     "@ptr": rows[0]["@ptr"]}]


def test_catastrophic_regex_runs_in_linear_time(logs, small):
    group, _ = small
    # (a+)+$ backtracks exponentially in a backtracking engine; RE2 answers at once
    rows = rows_of(run_query(logs, group, "filter @message like /^(a+)+$/ | fields @message"))
    assert rows == []
    rows = rows_of(run_query(logs, group, "filter @message like /(?i)^(A+)+!$/ | stats count(*)"))
    assert rows == [{"count(*)": "1"}]


def test_describe_and_stop_queries(logs, small):
    group, _ = small
    done = run_query(logs, group, "fields @message | limit 1")
    listed = logs.describe_queries(logGroupName=group)["queries"]
    mine = [q for q in listed if q["queryId"] == done["queryId"]]
    assert mine and mine[0]["status"] == "Complete"
    assert mine[0]["queryString"] == "fields @message | limit 1"
    assert mine[0]["logGroupName"] == group
    complete = logs.describe_queries(logGroupName=group, status="Complete")["queries"]
    assert all(q["status"] == "Complete" for q in complete)
    assert logs.stop_query(queryId=done["queryId"])["success"] is False


def test_malformed_query_locates_the_fault(logs, small):
    group, _ = small
    now = int(time.time())
    with pytest.raises(ClientError) as err:
        logs.start_query(logGroupName=group, startTime=now - 60, endTime=now,
                         queryString="fields @message | filter x = ")
    response = err.value.response
    assert response["Error"]["Code"] == "MalformedQueryException"
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 400
    location = response["queryCompileError"]["location"]
    assert location["startCharOffset"] == 28       # the end of the query


@pytest.mark.parametrize("query", [
    "fields nosuchfunction(@message)",
    "stats count(*) by",
    "filter @message like /(?<=x)y/",
    "bogus @message",
])
def test_bad_queries_are_malformed(logs, small, query):
    group, _ = small
    now = int(time.time())
    code, status, _ = error_of(logs.start_query, logGroupName=group, startTime=now - 60,
                               endTime=now, queryString=query)
    assert (code, status) == ("MalformedQueryException", 400)


def test_unknown_log_group_and_query(logs):
    now = int(time.time())
    code, _, _ = error_of(logs.start_query, logGroupName=unique("/nope"), startTime=now - 60,
                          endTime=now, queryString="fields @message")
    assert code == "ResourceNotFoundException"
    code, _, _ = error_of(logs.get_query_results, queryId="00000000-0000-0000-0000-000000000000")
    assert code == "ResourceNotFoundException"
    code, _, _ = error_of(logs.start_query, startTime=now - 60, endTime=now,
                          queryString="fields @message")
    assert code == "InvalidParameterException"


def test_get_log_record_behind_a_ptr(logs, small):
    group, base = small
    (row,) = run_query(logs, group, "filter order.id = 7 | fields @message")["results"]
    ptr = {f["field"]: f["value"] for f in row}["@ptr"]
    record = logs.get_log_record(logRecordPointer=ptr)["logRecord"]
    assert record["@timestamp"] == str(base + 1)
    assert record["@log"].endswith(":" + group) and record["@logStream"] == "s"
    assert record["order.items.1.sku"] == "b2" and record["order.id"] == "7"
    assert json.loads(record["@message"])["ip"] == "10.1.2.3"
    code, _, _ = error_of(logs.get_log_record, logRecordPointer="not-a-pointer!")
    assert code == "InvalidParameterException"


def test_several_log_groups_by_name_and_arn(logs, small):
    group, _ = small
    other = unique("/insights/other")
    logs.create_log_group(logGroupName=other)
    logs.create_log_stream(logGroupName=other, logStreamName="o")
    logs.put_log_events(logGroupName=other, logStreamName="o",
                        logEvents=[{"timestamp": now_ms() - 1000, "message": "from the other"}])
    arn = logs.describe_log_groups(logGroupNamePrefix=other)["logGroups"][0]["arn"]
    now = int(time.time())
    qid = logs.start_query(logGroupIdentifiers=[group, arn.removesuffix(":*")],
                           startTime=now - 3600, endTime=now + 60,
                           queryString="stats count(*) as n by @log")["queryId"]
    deadline = time.monotonic() + 30
    while (result := logs.get_query_results(queryId=qid))["status"] != "Complete":
        assert time.monotonic() < deadline and result["status"] in ("Scheduled", "Running")
        time.sleep(0.05)
    counts = {r["@log"]: int(r["n"]) for r in rows_of(result)}
    assert counts == {f"000000000000:{group}": 4, f"000000000000:{other}": 1}
