"""PutLogEvents and GetLogEvents through boto3."""

import time

from botocore.config import Config
from harness import error_of


def now_ms() -> int:
    return int(time.time() * 1000)


def put(logs, group, stream, messages, start=None, step=1):
    start = now_ms() - 60_000 if start is None else start
    events = [{"timestamp": start + i * step, "message": m} for i, m in enumerate(messages)]
    return logs.put_log_events(logGroupName=group, logStreamName=stream, logEvents=events)


def test_put_then_get_from_head(logs, stream):
    group, name = stream
    result = put(logs, group, name, [f"line {i}" for i in range(5)])
    assert "rejectedLogEventsInfo" not in result
    got = logs.get_log_events(logGroupName=group, logStreamName=name, startFromHead=True)
    assert [e["message"] for e in got["events"]] == [f"line {i}" for i in range(5)]
    assert all(e["ingestionTime"] >= e["timestamp"] for e in got["events"])
    # at the end, the same forward token comes back
    again = logs.get_log_events(logGroupName=group, logStreamName=name,
                                nextToken=got["nextForwardToken"])
    assert again["events"] == []
    assert again["nextForwardToken"] == got["nextForwardToken"]


def test_get_pages_forward_and_backward(logs, stream):
    group, name = stream
    put(logs, group, name, [f"m{i}" for i in range(10)])
    # without startFromHead: the newest events
    last = logs.get_log_events(logGroupName=group, logStreamName=name, limit=3)
    assert [e["message"] for e in last["events"]] == ["m7", "m8", "m9"]
    back = logs.get_log_events(logGroupName=group, logStreamName=name, limit=3,
                               nextToken=last["nextBackwardToken"])
    assert [e["message"] for e in back["events"]] == ["m4", "m5", "m6"]
    token = back["nextBackwardToken"]
    while True:  # back to the head, where the same backward token comes back
        page = logs.get_log_events(logGroupName=group, logStreamName=name, limit=3,
                                   nextToken=token)
        if not page["events"]:
            assert page["nextBackwardToken"] == token
            break
        token = page["nextBackwardToken"]
    first = logs.get_log_events(logGroupName=group, logStreamName=name, limit=4,
                                startFromHead=True)
    assert [e["message"] for e in first["events"]] == ["m0", "m1", "m2", "m3"]
    seen = [e["message"] for e in first["events"]]
    token = first["nextForwardToken"]
    while True:
        page = logs.get_log_events(logGroupName=group, logStreamName=name, limit=4,
                                   nextToken=token)
        if not page["events"]:
            assert page["nextForwardToken"] == token
            break
        seen += [e["message"] for e in page["events"]]
        token = page["nextForwardToken"]
    assert seen == [f"m{i}" for i in range(10)]


def test_get_time_range(logs, stream):
    group, name = stream
    start = now_ms() - 100_000
    put(logs, group, name, [f"t{i}" for i in range(10)], start=start, step=1000)
    got = logs.get_log_events(logGroupName=group, logStreamName=name, startFromHead=True,
                              startTime=start + 2000, endTime=start + 5000)
    assert [e["message"] for e in got["events"]] == ["t2", "t3", "t4"]


def test_sequence_token_is_ignored(logs, stream):
    group, name = stream
    first = put(logs, group, name, ["a"])
    assert first["nextSequenceToken"]
    logs.put_log_events(logGroupName=group, logStreamName=name, sequenceToken="bogus",
                        logEvents=[{"timestamp": now_ms(), "message": "b"}])
    got = logs.get_log_events(logGroupName=group, logStreamName=name, startFromHead=True)
    assert [e["message"] for e in got["events"]] == ["a", "b"]


def test_unsorted_batch_is_rejected(logs, stream):
    group, name = stream
    t = now_ms()
    code, status, message = error_of(
        logs.put_log_events, logGroupName=group, logStreamName=name,
        logEvents=[{"timestamp": t, "message": "b"}, {"timestamp": t - 5, "message": "a"}])
    assert (code, status) == ("InvalidParameterException", 400)
    assert "chronological order" in message


def test_batch_over_24_hours_is_rejected(logs, stream):
    group, name = stream
    t = now_ms()
    code, _, message = error_of(
        logs.put_log_events, logGroupName=group, logStreamName=name,
        logEvents=[{"timestamp": t - 25 * 3600_000, "message": "a"},
                   {"timestamp": t, "message": "b"}])
    assert code == "InvalidParameterException"
    assert "24 hours" in message


def test_too_old_and_too_new_are_rejected_but_rest_stored(logs, stream):
    group, name = stream
    t = now_ms()
    events = [{"timestamp": t - 15 * 86400_000, "message": "old"},
              {"timestamp": t - 15 * 86400_000 + 1, "message": "old2"}]
    result = logs.put_log_events(logGroupName=group, logStreamName=name, logEvents=events)
    assert result["rejectedLogEventsInfo"] == {"tooOldLogEventEndIndex": 2}
    new = logs.put_log_events(logGroupName=group, logStreamName=name, logEvents=[
        {"timestamp": t, "message": "ok"}, {"timestamp": t + 1, "message": "ok2"},
        {"timestamp": t + 3 * 3600_000, "message": "future"}])
    assert new["rejectedLogEventsInfo"] == {"tooNewLogEventStartIndex": 2}
    got = logs.get_log_events(logGroupName=group, logStreamName=name, startFromHead=True)
    assert [e["message"] for e in got["events"]] == ["ok", "ok2"]


def test_batch_size_limits(logs, stream):
    group, name = stream
    t = now_ms()
    big = "x" * 100_000
    code, _, message = error_of(
        logs.put_log_events, logGroupName=group, logStreamName=name,
        logEvents=[{"timestamp": t, "message": big} for _ in range(11)])
    assert code == "InvalidParameterException"
    assert "1048576" in message
    code, _, _ = error_of(
        logs.put_log_events, logGroupName=group, logStreamName=name,
        logEvents=[{"timestamp": t, "message": "m"} for _ in range(10_001)])
    assert code in ("InvalidParameterException", "ValidationException")
    # exactly at the limit is fine: 10 events of (104_831 + 26) bytes = 1,048,570
    ok = logs.put_log_events(logGroupName=group, logStreamName=name,
                             logEvents=[{"timestamp": t, "message": "y" * 104_831}
                                        for _ in range(10)])
    assert "rejectedLogEventsInfo" not in ok


def test_missing_group_and_stream(logs, stream):
    group, name = stream
    event = [{"timestamp": now_ms(), "message": "m"}]
    code, _, message = error_of(logs.put_log_events, logGroupName=group + "-nope",
                                logStreamName=name, logEvents=event)
    assert (code, message) == ("ResourceNotFoundException",
                               "The specified log group does not exist.")
    code, _, message = error_of(logs.put_log_events, logGroupName=group,
                                logStreamName=name + "-nope", logEvents=event)
    assert (code, message) == ("ResourceNotFoundException",
                               "The specified log stream does not exist.")
    for token in ("garbage", "f/" + "9" * 38, "b/" + "٣" * 38):
        code, _, _ = error_of(logs.get_log_events, logGroupName=group, logStreamName=name,
                              nextToken=token)
        assert code == "InvalidParameterException", token


def test_bad_input_gets_the_generic_errors(cloudlet, stream):
    logs = cloudlet.client("logs", config=Config(parameter_validation=False,
                                                 retries={"max_attempts": 1}))
    group, name = stream
    code, _, message = error_of(logs.put_log_events, logGroupName=group, logStreamName=name,
                                logEvents=[{"timestamp": "soon", "message": "m"}])
    assert code == "SerializationException"
    code, _, message = error_of(logs.put_log_events, logGroupName=group, logStreamName=name,
                                logEvents=[{"timestamp": 1, "message": ""}])
    assert code == "ValidationException"
    assert "logEvents.1.member.message" in message
    code, _, message = error_of(logs.put_log_events, logGroupName=group, logStreamName=name,
                                logEvents=[])
    assert code == "ValidationException"
    assert "logEvents" in message


def test_lone_surrogate_is_a_validation_error_not_a_500(cloudlet, stream):
    """JSON's "\\ud800" has no UTF-8 form. Once stored as "?" (so "a\\ud800b" and
    "a\\udfffb" became one message, as k%FF and k%FE became one S3 key); now the
    validator refuses it in any string, for every service (issue 12)."""
    from harness import send_signed

    group, name = stream
    events = f'[{{"timestamp": {now_ms()}, "message": "a\\ud800b"}}]'
    body = f'{{"logGroupName": "{group}", "logStreamName": "{name}", "logEvents": {events}}}'
    reply = send_signed(cloudlet.endpoint, "logs", body, {
        "Content-Type": "application/x-amz-json-1.1",
        "X-Amz-Target": "Logs_20140328.PutLogEvents"})
    assert reply.status_code == 400, reply.text
    assert reply.json()["__type"] == "ValidationException"
    assert "logEvents.1.member.message" in reply.json()["message"]
    logs = cloudlet.client("logs")
    got = logs.get_log_events(logGroupName=group, logStreamName=name, startFromHead=True)
    assert got["events"] == []
