"""Acknowledged PutLogEvents survive kill -9; retention really deletes expired events."""

import time


def advance(server, seconds: float) -> None:
    server.advance_clock(seconds)


def test_acknowledged_events_survive_kill_9(fresh_cloudlet):
    server = fresh_cloudlet()
    logs = server.client("logs")
    logs.create_log_group(logGroupName="/durable")
    logs.create_log_stream(logGroupName="/durable", logStreamName="s")
    now = int(time.time() * 1000) - 60_000
    for batch in range(5):
        logs.put_log_events(logGroupName="/durable", logStreamName="s", logEvents=[
            {"timestamp": now + batch * 1000 + i, "message": f"b{batch} e{i}"}
            for i in range(1000)])
    server.kill9()
    server = fresh_cloudlet()
    logs = server.client("logs")
    seen, token = [], None
    while True:
        kwargs = {"nextToken": token} if token else {"startFromHead": True}
        page = logs.get_log_events(logGroupName="/durable", logStreamName="s", **kwargs)
        if not page["events"]:
            break
        seen += [e["message"] for e in page["events"]]
        token = page["nextForwardToken"]
    assert seen == [f"b{b} e{i}" for b in range(5) for i in range(1000)]
    [stream] = logs.describe_log_streams(logGroupName="/durable")["logStreams"]
    assert stream["lastEventTimestamp"] == now + 4999
    # event ids keep increasing after the restart
    logs.put_log_events(logGroupName="/durable", logStreamName="s",
                        logEvents=[{"timestamp": now + 9999, "message": "after"}])
    ids = [e["eventId"] for e in logs.filter_log_events(logGroupName="/durable")["events"]]
    assert len(set(ids)) == 5001


def test_retention_sweeper_deletes_expired_events(fresh_cloudlet):
    server = fresh_cloudlet()
    logs = server.client("logs")
    for name in ("/short", "/forever"):
        logs.create_log_group(logGroupName=name)
        logs.create_log_stream(logGroupName=name, logStreamName="s")
        logs.put_log_events(logGroupName=name, logStreamName="s", logEvents=[
            {"timestamp": int(time.time() * 1000) - 1000, "message": "old news"}])
    logs.put_retention_policy(logGroupName="/short", retentionInDays=1)
    advance(server, 2 * 86400)
    fresh = int(time.time() * 1000) + 2 * 86400 * 1000
    logs.put_log_events(logGroupName="/short", logStreamName="s",
                        logEvents=[{"timestamp": fresh, "message": "fresh"}])
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        messages = [e["message"] for e in logs.filter_log_events(logGroupName="/short")["events"]]
        if messages == ["fresh"]:
            break
        time.sleep(0.3)
    assert messages == ["fresh"]
    [group] = logs.describe_log_groups(logGroupNamePrefix="/short")["logGroups"]
    assert group["storedBytes"] == len("fresh")
    # a group without retention never expires
    assert [e["message"] for e in logs.filter_log_events(logGroupName="/forever")["events"]] \
        == ["old news"]
    # and an event older than the retention is rejected as expired
    result = logs.put_log_events(logGroupName="/short", logStreamName="s", logEvents=[
        {"timestamp": fresh - 25 * 3600_000, "message": "expired"}])
    assert result["rejectedLogEventsInfo"] == {"expiredLogEventEndIndex": 1}
