"""StartLiveTail: an event stream of the matching events as they arrive."""

import threading
import time

import pytest
from botocore.config import Config
from harness import error_of, unique


@pytest.fixture
def logs(cloudlet):
    """StartLiveTail's endpoint has the host prefix `stream-`; on 127.0.0.1 it must go."""
    return cloudlet.client("logs", config=Config(inject_host_prefix=False,
                                                 retries={"max_attempts": 1}))


def test_live_tail_streams_matching_events(cloudlet, logs):
    group = unique("/tail")
    logs.create_log_group(logGroupName=group)
    for stream in ("app-1", "other"):
        logs.create_log_stream(logGroupName=group, logStreamName=stream)
    arn = f"arn:aws:logs:us-east-1:000000000000:log-group:{group}"
    tail = logs.start_live_tail(logGroupIdentifiers=[arn], logStreamNamePrefixes=["app"],
                                logEventFilterPattern="ERROR")
    stream = tail["responseStream"]
    received, started = [], []

    def read():
        for event in stream:
            if "sessionStart" in event:
                started.append(event["sessionStart"])
            for result in event.get("sessionUpdate", {}).get("sessionResults", []):
                received.append(result)
            if len(received) >= 2:
                return

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    now = int(time.time() * 1000)
    for name in ("app-1", "other"):
        logs.put_log_events(logGroupName=group, logStreamName=name, logEvents=[
            {"timestamp": now, "message": f"ERROR in {name}"},
            {"timestamp": now + 1, "message": "INFO fine"},
            {"timestamp": now + 2, "message": f"ERROR again in {name}"}])
    reader.join(timeout=15)
    stream.close()
    assert started and started[0]["logGroupIdentifiers"] == [arn]
    assert started[0]["logEventFilterPattern"] == "ERROR"
    assert [(r["message"], r["logStreamName"], r["logGroupIdentifier"]) for r in received] == [
        ("ERROR in app-1", "app-1", arn), ("ERROR again in app-1", "app-1", arn)]
    assert received[0]["timestamp"] == now and received[0]["ingestionTime"] >= now


def test_live_tail_errors(logs):
    missing = "arn:aws:logs:us-east-1:000000000000:log-group:" + unique("/nope")
    code, _, _ = error_of(logs.start_live_tail, logGroupIdentifiers=[missing])
    assert code == "ResourceNotFoundException"
    group = unique("/tail-bad")
    logs.create_log_group(logGroupName=group)
    arn = f"arn:aws:logs:us-east-1:000000000000:log-group:{group}"
    code, _, _ = error_of(logs.start_live_tail, logGroupIdentifiers=[arn],
                          logStreamNames=["a"], logStreamNamePrefixes=["b"])
    assert code == "InvalidParameterException"
    code, _, message = error_of(logs.start_live_tail, logGroupIdentifiers=[arn],
                                logEventFilterPattern="{ $.a = ")
    assert (code, message) == ("InvalidParameterException", "Invalid filter pattern")


def test_closed_sessions_are_released(fresh_cloudlet):
    server = fresh_cloudlet()
    logs = server.client("logs", config=Config(inject_host_prefix=False,
                                               retries={"max_attempts": 1}))
    logs.create_log_group(logGroupName="/tails")
    arn = "arn:aws:logs:us-east-1:000000000000:log-group:/tails"
    for _ in range(20):  # more than the 15 sessions an account may hold at once
        deadline = time.monotonic() + 5
        while True:
            try:
                tail = logs.start_live_tail(logGroupIdentifiers=[arn])
                break
            except logs.exceptions.LimitExceededException:
                assert time.monotonic() < deadline, "closed sessions were never released"
                time.sleep(0.1)
        next(iter(tail["responseStream"]))  # sessionStart
        tail["responseStream"].close()
    open_tail = logs.start_live_tail(logGroupIdentifiers=[arn])
    next(iter(open_tail["responseStream"]))
    started = time.monotonic()
    assert server.stop() == 0  # an open session ends with the server, never holds it
    assert time.monotonic() - started < 20
