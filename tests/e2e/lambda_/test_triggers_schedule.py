"""Scheduled invokes: EventBridge Scheduler's CreateSchedule/GetSchedule/UpdateSchedule/
ListSchedules/DeleteSchedule with rate(), cron() and at() expressions and a Lambda target,
fired on the service clock (advanced with POST /_cloudlet/clock)."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import pytest
from botocore.config import Config
from harness import error_of, unique

sys.path.insert(0, str(Path(__file__).parent))
from invoke_support import eventually, log_messages, make_function, make_role  # noqa: E402

RECORDER = 'import json\ndef handler(e, c):\n    print("EVENT " + json.dumps(e))\n'
SCHEDULER_TRUST = {"Version": "2012-10-17", "Statement": [{
    "Effect": "Allow", "Principal": {"Service": "scheduler.amazonaws.com"},
    "Action": "sts:AssumeRole"}]}


@pytest.fixture
def server(fresh_cloudlet):
    return fresh_cloudlet()


def advance(server, seconds: float) -> None:
    server.advance_clock(seconds)


def scheduler_role(iam, function_arn: str | None) -> str:
    name = unique("sched")
    arn = iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(
        SCHEDULER_TRUST))["Role"]["Arn"]
    if function_arn:
        iam.put_role_policy(RoleName=name, PolicyName="invoke", PolicyDocument=json.dumps({
            "Version": "2012-10-17", "Statement": [{
                "Effect": "Allow", "Action": "lambda:InvokeFunction",
                "Resource": function_arn}]}))
    return arn


def recorder(lam, iam) -> tuple[str, str]:
    """A new RECORDER function's name and ARN."""
    name = make_function(lam, make_role(iam), RECORDER)
    return name, lam.get_function(FunctionName=name)["Configuration"]["FunctionArn"]


def events(logs, name: str) -> list[dict]:
    return [json.loads(m.split("EVENT ", 1)[1]) for m in log_messages(logs, f"/aws/lambda/{name}")
            if "EVENT " in m]


def test_rate_schedule_invokes_lambda(server):
    lam = server.client("lambda", config=Config(retries={"total_max_attempts": 1}))
    iam = server.client("iam")
    scheduler = server.client("scheduler")
    logs = server.client("logs")
    name, arn = recorder(lam, iam)
    role = scheduler_role(iam, arn)
    schedule = unique("every5")
    created = scheduler.create_schedule(
        Name=schedule, ScheduleExpression="rate(5 minutes)",
        FlexibleTimeWindow={"Mode": "OFF"},
        Target={"Arn": arn, "RoleArn": role, "Input": json.dumps({"job": "cleanup"})})
    assert created["ScheduleArn"].endswith(f":schedule/default/{schedule}")
    got = scheduler.get_schedule(Name=schedule)
    assert got["ScheduleExpression"] == "rate(5 minutes)" and got["State"] == "ENABLED"
    assert got["Target"]["Arn"] == arn
    listed = scheduler.list_schedules(NamePrefix=schedule)["Schedules"]
    assert [s["Name"] for s in listed] == [schedule]
    time.sleep(0.6)
    assert events(logs, name) == []  # not yet: five minutes have not passed
    advance(server, 301)
    assert eventually(lambda: events(logs, name)) == [{"job": "cleanup"}]
    advance(server, 300)
    assert eventually(lambda: len(events(logs, name)) == 2)

    scheduler.update_schedule(Name=schedule, ScheduleExpression="rate(5 minutes)",
                              State="DISABLED", FlexibleTimeWindow={"Mode": "OFF"},
                              Target={"Arn": arn, "RoleArn": role})
    advance(server, 600)
    time.sleep(1)
    assert len(events(logs, name)) == 2
    scheduler.delete_schedule(Name=schedule)
    code, status, _ = error_of(scheduler.get_schedule, Name=schedule)
    assert (code, status) == ("ResourceNotFoundException", 404)


def test_at_and_cron_and_errors(server):
    lam = server.client("lambda", config=Config(retries={"total_max_attempts": 1}))
    iam = server.client("iam")
    scheduler = server.client("scheduler")
    logs = server.client("logs")
    name, arn = recorder(lam, iam)
    role = scheduler_role(iam, arn)
    target = {"Arn": arn, "RoleArn": role}
    code, status, message = error_of(scheduler.create_schedule, Name="bad",
                                     ScheduleExpression="rate(1 minutes)",
                                     FlexibleTimeWindow={"Mode": "OFF"}, Target=target)
    assert (code, status) == ("ValidationException", 400)
    assert "Invalid Schedule Expression" in message
    scheduler.create_schedule(Name="daily", ScheduleExpression="cron(0 12 * * ? *)",
                              FlexibleTimeWindow={"Mode": "OFF"}, Target=target)
    code, status, _ = error_of(scheduler.create_schedule, Name="daily",
                               ScheduleExpression="cron(0 12 * * ? *)",
                               FlexibleTimeWindow={"Mode": "OFF"}, Target=target)
    assert (code, status) == ("ConflictException", 409)
    scheduler.create_schedule(Name="once", ScheduleExpression="at(2000-01-01T00:00:00)",
                              FlexibleTimeWindow={"Mode": "OFF"}, Target=target,
                              ActionAfterCompletion="DELETE")
    advance(server, 86400)
    found = eventually(lambda: events(logs, name) if len(events(logs, name)) >= 1 else None)
    assert found and found[0]["detail-type"] == "Scheduled Event"
    assert found[0]["resources"][0].endswith(":schedule/default/daily")

    other, other_arn = recorder(lam, iam)
    scheduler.create_schedule(Name="unallowed", ScheduleExpression="rate(1 minute)",
                              FlexibleTimeWindow={"Mode": "OFF"},
                              Target={"Arn": other_arn, "RoleArn": scheduler_role(iam, None)})
    advance(server, 61)
    time.sleep(1.5)
    assert events(logs, other) == []  # its role may not invoke the function
