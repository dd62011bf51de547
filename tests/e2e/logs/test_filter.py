"""FilterLogEvents across streams with CloudWatch's filter pattern syntax."""

import json
import time

import pytest
from harness import error_of, unique


@pytest.fixture
def group(logs):
    name = unique("/filter")
    logs.create_log_group(logGroupName=name)
    now = int(time.time() * 1000) - 60_000
    lines = {
        "web-1": ["INFO start", "ERROR disk full", 'ERROR "quoted" thing Exiting',
                  json.dumps({"status": 500, "latency": 150, "user": {"id": "abc-1"}}),
                  '127.0.0.1 - frank [10/Oct/2000:13:25:15 -0700] "GET /a.gif HTTP/1.0" 404 1534'],
        "web-2": ["WARN slow", json.dumps({"status": 500, "latency": 50}),
                  json.dumps({"status": 200, "latency": 300, "flag": True, "gone": None}),
                  '10.0.0.1 - bob [10/Oct/2000:13:26:15 -0700] "GET /b.html HTTP/1.0" 200 99'],
        "api-1": ["ERROR timeout", "Failed to process the request"],
    }
    for i, (stream, messages) in enumerate(lines.items()):
        logs.create_log_stream(logGroupName=name, logStreamName=stream)
        logs.put_log_events(logGroupName=name, logStreamName=stream, logEvents=[
            {"timestamp": now + i * 10 + j, "message": m} for j, m in enumerate(messages)])
    return name


def messages(logs, group, pattern, **kwargs):
    found = logs.filter_log_events(logGroupName=group, filterPattern=pattern, **kwargs)
    return [e["message"] for e in found["events"]]


def test_terms_phrases_any_and_exclude(logs, group):
    assert messages(logs, group, "ERROR") == [
        "ERROR disk full", 'ERROR "quoted" thing Exiting', "ERROR timeout"]
    assert messages(logs, group, "ERROR disk") == ["ERROR disk full"]
    assert messages(logs, group, '"Failed to process"') == ["Failed to process the request"]
    assert messages(logs, group, "?WARN ?timeout") == ["WARN slow", "ERROR timeout"]
    assert messages(logs, group, "ERROR -Exiting") == ["ERROR disk full", "ERROR timeout"]
    assert messages(logs, group, "error") == []  # case-sensitive


def test_json_patterns(logs, group):
    assert messages(logs, group, "{ $.status = 500 && $.latency > 100 }") == [
        json.dumps({"status": 500, "latency": 150, "user": {"id": "abc-1"}})]
    assert len(messages(logs, group, "{ $.status = 500 }")) == 2
    assert len(messages(logs, group, "{ $.status != 500 }")) == 1
    assert len(messages(logs, group, "{ $.latency >= 150 || $.latency < 60 }")) == 3
    assert len(messages(logs, group, '{ $.user.id = "abc*" }')) == 1
    assert len(messages(logs, group, "{ $.flag IS TRUE }")) == 1
    assert len(messages(logs, group, "{ $.gone IS NULL }")) == 1
    assert len(messages(logs, group, "{ $.user NOT EXISTS }")) == 2


def test_space_delimited_patterns(logs, group):
    assert len(messages(logs, group, "[ip, user, username, timestamp, request, status = 404, "
                                     "bytes]")) == 1
    assert len(messages(logs, group, "[ip, user, username, timestamp, request, status = 2* "
                                     "|| status = 4*, bytes]")) == 2
    assert len(messages(logs, group, "[..., status, bytes > 1000]")) == 1


def test_stream_selection_time_range_and_pages(logs, group):
    assert messages(logs, group, "ERROR", logStreamNames=["api-1"]) == ["ERROR timeout"]
    assert messages(logs, group, "ERROR", logStreamNamePrefix="web") == [
        "ERROR disk full", 'ERROR "quoted" thing Exiting']
    every = logs.filter_log_events(logGroupName=group)["events"]
    assert len(every) == 11
    assert all(e["eventId"] and e["logStreamName"] for e in every)
    start = every[3]["timestamp"]
    ranged = logs.filter_log_events(logGroupName=group, startTime=start,
                                    endTime=every[5]["timestamp"])["events"]
    assert [e["eventId"] for e in ranged] == [e["eventId"] for e in every[3:6]]
    seen, token = [], None
    while True:
        kwargs = {"nextToken": token} if token else {}
        page = logs.filter_log_events(logGroupName=group, limit=4, **kwargs)
        seen += [e["eventId"] for e in page["events"]]
        token = page.get("nextToken")
        if not token:
            break
    assert seen == [e["eventId"] for e in every]
    code, _, _ = error_of(logs.filter_log_events, logGroupName=group, logStreamNames=["a"],
                          logStreamNamePrefix="a")
    assert code == "InvalidParameterException"
    for token in ("garbage!", "WzEsMiwieCJd", "Wzk5OTk5OTk5OTk5OTk5OTk5OTk5OTksMCwiZiJd"):
        code, _, _ = error_of(logs.filter_log_events, logGroupName=group, nextToken=token)
        assert code == "InvalidParameterException", token


def test_bad_patterns(logs, group):
    for bad in ("{ $.status = }", "{ $.a > \"x\" }", "[a, a]", '"open'):
        code, status, message = error_of(logs.filter_log_events, logGroupName=group,
                                         filterPattern=bad)
        assert (code, status, message) == ("InvalidParameterException", 400,
                                           "Invalid filter pattern"), bad


def test_newest_first_and_token_direction(logs, group):
    every = [e["eventId"] for e in logs.filter_log_events(logGroupName=group)["events"]]
    first = logs.filter_log_events(logGroupName=group, startFromHead=False, limit=5)
    assert [e["eventId"] for e in first["events"]] == every[::-1][:5]
    # the token keeps the direction, whatever startFromHead says next
    rest = logs.filter_log_events(logGroupName=group, startFromHead=True,
                                  nextToken=first["nextToken"])
    assert [e["eventId"] for e in rest["events"]] == every[::-1][5:]
    code, _, _ = error_of(logs.filter_log_events, logGroupName=group, startFromHead=False,
                          startTime=1_600_000_000_000)
    assert code == "InvalidParameterException"
