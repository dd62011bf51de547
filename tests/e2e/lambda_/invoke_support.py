"""What the Invoke, trigger, limit and seed tests share: zips, roles, functions."""

from __future__ import annotations

import io
import json
import time
import zipfile

from botocore.config import Config
from harness import unique

TRUST = {"Version": "2012-10-17", "Statement": [{
    "Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"},
    "Action": "sts:AssumeRole"}]}
HELLO = '''
def handler(event, context):
    name = event.get("name") if isinstance(event, dict) else None
    if name:
        return {"statusCode": 200, "body": f"Hello, {name}!"}
    return {"statusCode": 200, "body": "Hello, world!"}
'''


def invoke_client(cloudlet):
    """A Lambda client that tries once and waits up to a minute for an answer."""
    return cloudlet.client("lambda", config=Config(retries={"total_max_attempts": 1},
                                                   read_timeout=60))


def plain_zip(files: dict[str, str | bytes]) -> bytes:
    """A deflated zip of files, with zipfile's default member attributes."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, body in files.items():
            archive.writestr(name, body)
    return buffer.getvalue()


def make_zip(files: dict[str, str | bytes], modes: dict[str, int] | None = None) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, body in files.items():
            info = zipfile.ZipInfo(name)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = ((modes or {}).get(name, 0o644) | 0o100000) << 16
            archive.writestr(info, body)
    return buffer.getvalue()


def make_role(iam, statements: list[dict] | None = None) -> str:
    name = unique("fn-role")
    arn = iam.create_role(RoleName=name,
                          AssumeRolePolicyDocument=json.dumps(TRUST))["Role"]["Arn"]
    if statements:
        iam.put_role_policy(RoleName=name, PolicyName="inline", PolicyDocument=json.dumps(
            {"Version": "2012-10-17", "Statement": statements}))
    return arn


def make_function(lam, role: str, code: str | dict | bytes = HELLO, runtime="python3.12",
                  handler="app.handler", name=None, **kwargs) -> str:
    name = name or unique("fn")
    if isinstance(code, str):
        code = make_zip({"app.py": code})
    elif isinstance(code, dict):
        code = make_zip(code)
    lam.create_function(FunctionName=name, Runtime=runtime, Role=role, Handler=handler,
                        Code={"ZipFile": code}, **kwargs)
    lam.get_waiter("function_active_v2").wait(FunctionName=name,
                                              WaiterConfig={"Delay": 0.2, "MaxAttempts": 50})
    return name


def eventually(check, timeout: float = 20.0, interval: float = 0.2):
    """check()'s first truthy value within timeout, else its last value."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(interval)


def log_messages(logs, group: str, pattern: str | None = None) -> list[str]:
    try:
        kwargs = {"logGroupName": group}
        if pattern:
            kwargs["filterPattern"] = pattern
        return [e["message"] for e in logs.filter_log_events(**kwargs)["events"]]
    except logs.exceptions.ResourceNotFoundException:
        return []
