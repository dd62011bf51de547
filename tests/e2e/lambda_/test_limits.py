"""Limits that bite, with AWS's errors: timeout, memory overflow, reserved concurrency under
parallel invokes (TooManyRequestsException with its Reason), the regional limit."""

from __future__ import annotations

import json
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from botocore.exceptions import ClientError

sys.path.insert(0, str(Path(__file__).parent))
from invoke_support import invoke_client, make_function, make_role  # noqa: E402

SLEEPY = "import time\ndef handler(e, c):\n    time.sleep(e.get('s', 5))\n    return 'woke'\n"
HUNGRY = ("def handler(e, c):\n    blocks = []\n    for _ in range(100):\n"
          "        blocks.append(bytearray(16 * 1024 * 1024))\n    return len(blocks)\n")


def test_timeout(lam, role):
    name = make_function(lam, role, SLEEPY, Timeout=1)
    out = lam.invoke(FunctionName=name, Payload=b'{"s": 5}')
    assert out["FunctionError"] == "Unhandled"
    body = json.loads(out["Payload"].read())
    assert body["errorType"] == "Sandbox.Timedout"
    assert "Task timed out after 1.00 seconds" in body["errorMessage"]


def test_memory_overflow(lam, role):
    name = make_function(lam, role, HUNGRY, MemorySize=128)
    out = lam.invoke(FunctionName=name)
    assert out["FunctionError"] == "Unhandled"
    body = json.loads(out["Payload"].read())
    assert "Runtime exited with error: signal: killed" in body["errorMessage"]
    assert body["errorType"].startswith("Runtime.")


def _invoke(lam, name, payload=b'{"s": 1.5}'):
    try:
        return lam.invoke(FunctionName=name, Payload=payload)["StatusCode"]
    except ClientError as error:
        return error.response


def test_reserved_concurrency_one_under_five(lam, role):
    name = make_function(lam, role, SLEEPY, Timeout=10)
    lam.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=1)
    lam.invoke(FunctionName=name, Payload=b'{"s": 0}')  # warm, so the first runs at once
    with ThreadPoolExecutor(5) as pool:
        results = list(pool.map(lambda _: _invoke(lam, name), range(5)))
    succeeded = [r for r in results if r == 200]
    throttled = [r for r in results if r != 200]
    assert succeeded and throttled
    for response in throttled:
        assert response["Error"]["Code"] == "TooManyRequestsException"
        assert response["ResponseMetadata"]["HTTPStatusCode"] == 429
        assert response["Reason"] == "ReservedFunctionConcurrentInvocationLimitExceeded"
        assert response["Error"]["Message"] == "Rate Exceeded."


def test_reserved_zero_throttles_everything(lam, role):
    name = make_function(lam, role)
    lam.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=0)
    response = _invoke(lam, name, b"{}")
    assert response["Error"]["Code"] == "TooManyRequestsException"
    lam.delete_function_concurrency(FunctionName=name)
    assert _invoke(lam, name, b"{}") == 200


def test_regional_limit(fresh_cloudlet):
    server = fresh_cloudlet(env={"CLOUDLET_LAMBDA_CONCURRENCY": "2", "CLOUDLET_BODY_TIMEOUT": "3"})
    lam = invoke_client(server)
    name = make_function(lam, make_role(server.client("iam")), SLEEPY, Timeout=10)
    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda _: _invoke(lam, name), range(4)))
    throttled = [r for r in results if r != 200]
    assert len([r for r in results if r == 200]) >= 1 and throttled
    assert all(r["Reason"] == "ConcurrentInvocationLimitExceeded" for r in throttled)


def test_response_over_6_mb(lam, role):
    name = make_function(lam, role, "def handler(e, c):\n    return 'x' * (7 * 1024 * 1024)\n",
                         MemorySize=512)
    out = lam.invoke(FunctionName=name)
    assert out["StatusCode"] == 200 and out["FunctionError"] == "Unhandled"
    body = json.loads(out["Payload"].read())
    assert body["errorType"] == "Function.ResponseSizeTooLarge"
    assert body["errorMessage"].startswith("Response payload size exceeded maximum allowed")
