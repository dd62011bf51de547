"""EventBridge Scheduler across accounts: a schedule's target role is passed, so it must be
the schedule's own account's role (another account's, even one trusting the scheduler, is
refused as AWS refuses a cross-account pass role); a target function of another account is
invoked only as that function's policy allows the schedule's role."""

from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path

import pytest
from botocore.config import Config
from harness import error_of, unique, unique_account

sys.path.insert(0, str(Path(__file__).parents[1] / "lambda_"))
from invoke_support import eventually, log_messages, make_function, make_role  # noqa: E402

RECORDER = 'import json\ndef handler(e, c):\n    print("EVENT " + json.dumps(e))\n'
TRUST = {"Version": "2012-10-17", "Statement": [{
    "Effect": "Allow", "Principal": {"Service": "scheduler.amazonaws.com"},
    "Action": "sts:AssumeRole"}]}
INVOKE = {"Version": "2012-10-17", "Statement": [{
    "Effect": "Allow", "Action": "lambda:InvokeFunction", "Resource": "*"}]}


def account(cloudlet) -> dict:
    key = unique_account()
    config = Config(retries={"total_max_attempts": 1}, read_timeout=60)
    found = {name: cloudlet.client(name, aws_access_key_id=key, config=config)
             for name in ("lambda", "iam", "logs", "scheduler")}
    role = unique("sched")
    found["scheduler_role"] = found["iam"].create_role(
        RoleName=role, AssumeRolePolicyDocument=json.dumps(TRUST))["Role"]["Arn"]
    found["iam"].put_role_policy(RoleName=role, PolicyName="invoke",
                                 PolicyDocument=json.dumps(INVOKE))
    found["id"] = key
    return found


@pytest.fixture(scope="module")
def a(cloudlet):
    found = account(cloudlet)
    found["function"] = make_function(found["lambda"], make_role(found["iam"]), RECORDER)
    found["arn"] = found["lambda"].get_function(
        FunctionName=found["function"])["Configuration"]["FunctionArn"]
    return found


@pytest.fixture(scope="module")
def b(cloudlet):
    return account(cloudlet)


def soon(seconds: int = 2) -> str:
    when = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=seconds)
    return f"at({when.strftime('%Y-%m-%dT%H:%M:%S')})"


def schedule(client, target: str, role: str, **kwargs) -> str:
    name = unique("once")
    client.create_schedule(Name=name, ScheduleExpression=soon(),
                           FlexibleTimeWindow={"Mode": "OFF"},
                           Target={"Arn": target, "RoleArn": role,
                                   "Input": json.dumps({"from": name})}, **kwargs)
    return name


def received(a) -> list[str]:
    return [json.loads(m.split("EVENT ", 1)[1]).get("from", "a scheduled event")
            for m in log_messages(a["logs"], f"/aws/lambda/{a['function']}") if "EVENT " in m]


def test_another_accounts_role_is_never_a_schedules_role(a, b):
    """Before the fix, B's schedule ran A's function with A's role."""
    code, status, message = error_of(
        b["scheduler"].create_schedule, Name=unique("thief"), ScheduleExpression=soon(),
        FlexibleTimeWindow={"Mode": "OFF"},
        Target={"Arn": a["arn"], "RoleArn": a["scheduler_role"]})
    assert (code, status, message) == ("AccessDeniedException", 403,
                                       "Cross-account pass role is not allowed.")
    name = schedule(b["scheduler"], a["arn"], b["scheduler_role"],
                    State="DISABLED")
    code, _, message = error_of(
        b["scheduler"].update_schedule, Name=name, ScheduleExpression=soon(),
        FlexibleTimeWindow={"Mode": "OFF"},
        Target={"Arn": a["arn"], "RoleArn": a["scheduler_role"]})
    assert (code, message) == ("AccessDeniedException", "Cross-account pass role is not allowed.")


def test_another_accounts_function_runs_only_as_its_policy_allows(a, b):
    refused = schedule(b["scheduler"], a["arn"], b["scheduler_role"])
    assert not eventually(lambda: refused in received(a), 8)
    a["lambda"].add_permission(FunctionName=a["function"], StatementId="b-schedules",
                               Action="lambda:InvokeFunction", Principal=b["id"])
    allowed = schedule(b["scheduler"], a["arn"], b["scheduler_role"])
    assert eventually(lambda: allowed in received(a), 30)
    assert refused not in received(a)
