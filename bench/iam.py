"""IAM authorization costs. Figures are printed, never asserted.

- `enforcement_cost()`: the added cost of enforcement on a real request (iam:ListUsers by an
  IAM user against root, one signed request replayed on one keep-alive connection; target under 10%), and the
  same user's request on moto's server in enforcing mode (INITIAL_NO_AUTH_ACTION_COUNT).
- `engine_decision()`: the pure policy engine (cloudlet.policy) deciding for a principal
  with 10 policies of 5 statements each (50 statements), with conditions and policy
  variables, on allowed, implicitly denied and explicitly denied requests. Target: p50
  under 50 µs.

Each measurement is one function returning nothing and printing its lines; `main()` calls
them in order, so further sections (the added cost of enforcement on a real request) are
one more function and one more line in `main()`.

Run: .venv/bin/python bench/iam.py
"""

from __future__ import annotations

import json
import statistics
import time

from cloudlet.policy.evaluate import AuthzRequest, Policy, Principal, evaluate

ACCOUNT = "000000000000"


def percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    p50 = statistics.median(ordered)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return p50, p99


def timed(fn, n: int = 5000) -> list[float]:
    for _ in range(200):  # warm the caches, as a running server would be
        fn()
    samples = []
    clock = time.perf_counter
    for _ in range(n):
        start = clock()
        fn()
        samples.append(clock() - start)
    return samples


def _statement(p: int, s: int) -> dict:
    """Five kinds of statement, each with conditions; some with variables."""
    service = ["s3", "ec2", "lambda", "logs", "rds"][s]
    statements = [
        {"Sid": f"P{p}S{s}", "Effect": "Allow",
         "Action": ["s3:Get*", f"s3:Put{p}*", "s3:List*"],
         "Resource": [f"arn:aws:s3:::bucket-{p}/users/${{aws:username}}/*",
                      f"arn:aws:s3:::bucket-{p}"],
         "Condition": {"StringLike": {"s3:prefix": ["", "users/${aws:username}/*"]},
                       "Bool": {"aws:SecureTransport": "true"}}},
        {"Sid": f"P{p}S{s}", "Effect": "Allow", "Action": ["ec2:Describe*", f"ec2:Start{p}*"],
         "Resource": "*",
         "Condition": {"StringEquals": {"aws:ResourceTag/team": "${aws:PrincipalTag/team}",
                                        "aws:RequestedRegion": ["us-east-1", "eu-west-1"]}}},
        {"Sid": f"P{p}S{s}", "Effect": "Allow", "Action": f"lambda:Invoke{p}*",
         "Resource": f"arn:aws:lambda:*:{ACCOUNT}:function:team-${{aws:PrincipalTag/team, 'none'}}-*",
         "Condition": {"IpAddress": {"aws:SourceIp": ["10.0.0.0/8", "192.168.0.0/16"]}}},
        {"Sid": f"P{p}S{s}", "Effect": "Deny", "Action": f"logs:Delete{p}*", "Resource": "*",
         "Condition": {"DateGreaterThan": {"aws:CurrentTime": "2020-01-01T00:00:00Z"},
                       "ForAnyValue:StringEquals": {"aws:TagKeys": ["protected"]}}},
        {"Sid": f"P{p}S{s}", "Effect": "Allow", "NotAction": ["iam:*", "organizations:*"],
         "Resource": f"arn:aws:rds:us-east-1:{ACCOUNT}:db:db-{p}-*",
         "Condition": {"NumericLessThanEquals": {"rds:StorageSize": "100"},
                       "StringEqualsIfExists": {"aws:PrincipalTag/env": "dev"}}},
    ][s]
    statements["Sid"] = f"{service}{p}x{s}"
    return statements


def principal_policies() -> list[Policy]:
    return [
        Policy(f"policy-{p}", json.dumps({"Version": "2012-10-17",
                                          "Statement": [_statement(p, s) for s in range(5)]},
                                         indent=2))
        for p in range(10)
    ]


def engine_decision() -> None:
    alice = Principal(f"arn:aws:iam::{ACCOUNT}:user/alice", ACCOUNT, "User",
                      user_id="AIDAALICEEXAMPLE", username="alice",
                      tags={"team": "blue", "env": "dev"})
    policies = principal_policies()
    context = {
        "aws:SourceIp": "10.1.2.3", "aws:CurrentTime": "2026-11-26T12:00:00Z",
        "aws:EpochTime": "1795694400", "aws:SecureTransport": "true",
        "aws:RequestedRegion": "us-east-1", "aws:MultiFactorAuthPresent": "false",
    }
    requests = {
        "allowed (s3:GetObject, variable in Resource)": AuthzRequest(
            alice, "s3:GetObject", "arn:aws:s3:::bucket-9/users/alice/report.csv",
            {**context, "s3:prefix": "users/alice/x"}),
        "implicit deny (no statement matches)": AuthzRequest(
            alice, "iam:CreateUser", f"arn:aws:iam::{ACCOUNT}:user/bob", context),
        "explicit deny (condition on tag keys)": AuthzRequest(
            alice, "logs:Delete9Stream", f"arn:aws:logs:us-east-1:{ACCOUNT}:log-group:g",
            {**context, "aws:TagKeys": ["protected", "x"]}),
        "allowed (ABAC: ResourceTag = ${aws:PrincipalTag/team})": AuthzRequest(
            alice, "ec2:Start9Instances", f"arn:aws:ec2:us-east-1:{ACCOUNT}:instance/i-1",
            {**context, "aws:ResourceTag/team": "blue"}),
    }
    expected = ["allowed", "implicitDeny", "explicitDeny", "allowed"]
    statements = sum(len(p.parsed.statements) for p in policies)
    print(f"Policy engine: 1 principal, {len(policies)} policies, {statements} statements "
          "with conditions and variables")
    for (label, request), want in zip(requests.items(), expected, strict=True):
        decision = evaluate(request, policies)
        samples = timed(lambda request=request: evaluate(request, policies))
        p50, p99 = percentiles(samples)
        flag = "" if decision.decision == want else f"  (UNEXPECTED: {decision.decision})"
        print(f"  {label:58s} p50 {p50 * 1e6:6.1f} µs   p99 {p99 * 1e6:6.1f} µs{flag}")


# --- enforcement on a real request ---------------------------------------------------------

ENFORCEMENT_REQUESTS = 2000


def _serve(args: list[str], env: dict | None = None, health: str = "/_cloudlet/health"):
    import os
    import socket
    import subprocess
    import urllib.request

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    proc = subprocess.Popen([*args, str(port)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, env={**os.environ, **(env or {})})
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}{health}", timeout=1):
                return proc, f"http://127.0.0.1:{port}"
        except OSError:
            time.sleep(0.05)
    proc.kill()
    raise RuntimeError(f"{args[0]} did not start")


def _replay(signed: list[tuple[str, dict, bytes]], n: int) -> list[list[float]]:
    """Send signed requests n times each, interleaved, over one keep-alive connection: the
    server's cost without the client's signing (a SigV4 signature stays valid 15 minutes);
    interleaving keeps a busy machine's drift out of the comparison."""
    import http.client
    from urllib.parse import urlsplit

    parts = urlsplit(signed[0][0])
    conn = http.client.HTTPConnection(parts.hostname, parts.port)
    samples: list[list[float]] = [[] for _ in signed]

    def once(headers, body):
        conn.request("POST", "/", body=body, headers=headers)
        reply = conn.getresponse()
        answer = reply.read()
        if reply.status != 200:
            raise RuntimeError(f"HTTP {reply.status}: {answer[:300]!r}")

    try:
        for _ in range(100):
            for _, headers, body in signed:
                once(headers, body)
        for _ in range(n):
            for i, (_, headers, body) in enumerate(signed):
                start = time.perf_counter()
                once(headers, body)
                samples[i].append(time.perf_counter() - start)
        return samples
    finally:
        conn.close()


def _user_with_policies(iam) -> tuple[str, str]:
    """A user with 5 inline policies (one allows iam:List* and iam:Get*, the others are about
    other services, with conditions): the authorizer evaluates all of them on every request."""
    iam.create_user(UserName="bench-user")
    for p in range(5):
        statement = _statement(p, p % 5)
        if p == 0:
            statement = {"Effect": "Allow", "Action": ["iam:List*", "iam:Get*"], "Resource": "*"}
        iam.put_user_policy(UserName="bench-user", PolicyName=f"p{p}", PolicyDocument=json.dumps(
            {"Version": "2012-10-17", "Statement": [statement]}))
    key = iam.create_access_key(UserName="bench-user")["AccessKey"]
    return key["AccessKeyId"], key["SecretAccessKey"]


def _signed(endpoint: str, key: str, secret: str, action: str) -> tuple[str, dict, bytes]:
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    body = f"Action={action}&Version=2010-05-08".encode()
    request = AWSRequest("POST", endpoint + "/", data=body, headers={
        "Content-Type": "application/x-www-form-urlencoded; charset=utf-8"})
    SigV4Auth(Credentials(key, secret), "iam", "us-east-1").add_auth(request)
    return endpoint, dict(request.headers.items()), body


def _report(label: str, root: list[float], user: list[float]) -> float:
    root_p50, root_p99 = percentiles(root)
    user_p50, user_p99 = percentiles(user)
    print(f"  {label:9s} root p50 {root_p50 * 1e6:7.0f} µs p99 {root_p99 * 1e6:7.0f} µs | "
          f"IAM user p50 {user_p50 * 1e6:7.0f} µs p99 {user_p99 * 1e6:7.0f} µs | "
          f"added {100 * (user_p50 / root_p50 - 1):+5.1f}%")
    return user_p50


def enforcement_cost() -> None:
    """iam:ListUsers signed by root (never judged) and by an IAM user with 5 policies (judged
    on every request), on Cloudlet; the same user on moto's server in enforcing mode
    (INITIAL_NO_AUTH_ACTION_COUNT: the set-up calls, then every request is judged)."""
    import sys

    import boto3

    print(f"\nEnforcement on a real request: {ENFORCEMENT_REQUESTS} signed requests per case, "
          "interleaved, one keep-alive connection")
    figures = {}
    cloudlet, endpoint = _serve([sys.executable, "-m", "cloudlet", "up", "--ephemeral",
                                 "--log-level", "warning", "--port"])
    try:
        root = boto3.client("iam", endpoint_url=endpoint, region_name="us-east-1",
                            aws_access_key_id="test", aws_secret_access_key="test")
        key, secret = _user_with_policies(root)
        # IAM changes keep the authorizer from caching for 2 s (CachedReads.QUIET): measure the
        # steady state, after the set-up's writes
        time.sleep(2.5)
        as_root, as_user = _replay([_signed(endpoint, "test", "test", "ListUsers"),
                                    _signed(endpoint, key, secret, "ListUsers")],
                                   ENFORCEMENT_REQUESTS)
        figures["cloudlet"] = _report("ListUsers", as_root, as_user)
    finally:
        cloudlet.terminate()
        cloudlet.wait()

    moto_cmd = shutil_which("moto_server")
    if moto_cmd is None:
        print("  moto_server not installed: no comparison")
        return
    # moto counts unauthenticated actions: the 7 set-up calls run before enforcement starts
    moto, moto_endpoint = _serve([moto_cmd, "-p"], env={"INITIAL_NO_AUTH_ACTION_COUNT": "7"},
                                 health="/moto-api/")
    try:
        root = boto3.client("iam", endpoint_url=moto_endpoint, region_name="us-east-1",
                            aws_access_key_id="test", aws_secret_access_key="test")
        key, secret = _user_with_policies(root)
        [as_user] = _replay([_signed(moto_endpoint, key, secret, "ListUsers")],
                            ENFORCEMENT_REQUESTS)
        moto_p50, moto_p99 = percentiles(as_user)
        print(f"  moto (enforcing) ListUsers as the IAM user: p50 {moto_p50 * 1e6:7.0f} µs "
              f"p99 {moto_p99 * 1e6:7.0f} µs")
        if "cloudlet" in figures:
            print(f"  ratio moto/cloudlet p50 latency, IAM user, ListUsers: "
                  f"{moto_p50 / figures['cloudlet']:.1f}x")
    finally:
        moto.terminate()
        moto.wait()


def shutil_which(name: str) -> str | None:
    import shutil
    import sys
    from pathlib import Path

    return shutil.which(name, path=str(Path(sys.executable).parent)) or shutil.which(name)


def authorize_step() -> None:
    """The gateway's authorize step alone, in process, for the same IAM user and operation,
    with the user's policies cached (the steady state): no HTTP, no thread hop."""
    import asyncio
    import tempfile
    from pathlib import Path
    from types import SimpleNamespace

    from cloudlet.authz.authorizer import Authorizer
    from cloudlet.models import service_model
    from cloudlet.services.base import RequestContext
    from cloudlet.services.iam.provider import IamProvider
    from cloudlet.store import Store

    with tempfile.TemporaryDirectory() as data:
        store = Store.open(Path(data))
        iam = IamProvider(store)
        root = RequestContext("iam", "CreateUser", "us-east-1", ACCOUNT, "bench")
        calls = SimpleNamespace(
            create_user=lambda **p: iam.create_user(root, p),
            put_user_policy=lambda **p: iam.put_user_policy(root, p),
            create_access_key=lambda **p: iam.create_access_key(root, p))
        key, _ = _user_with_policies(calls)
        caller = iam.credential_for(key)
        ctx = RequestContext("iam", "ListUsers", "us-east-1", ACCOUNT, "bench", caller=caller)
        exchange = SimpleNamespace(
            service="iam", operation=service_model("iam").operation_model("ListUsers"),
            params={}, context=ctx, auth=SimpleNamespace(method="sigv4-header"), codec=None,
            request_id="bench")
        authorizer = Authorizer({"iam": iam})
        asyncio.run(authorizer.authorize(exchange))  # loads the policies into the cache

        def step():
            coroutine = authorizer.authorize(exchange)
            try:
                coroutine.send(None)
            except StopIteration:
                return
            raise RuntimeError("the cached path awaited")

        p50, p99 = percentiles(timed(step))
        lookup_p50, _ = percentiles(timed(lambda: iam.credential_for(key)))
        store.close()
    print(f"  in process: authorize step p50 {p50 * 1e6:5.1f} µs p99 {p99 * 1e6:5.1f} µs; "
          f"the IAM user's access-key lookup (authentication) p50 {lookup_p50 * 1e6:5.1f} µs")


def main() -> None:
    engine_decision()
    enforcement_cost()
    authorize_step()


if __name__ == "__main__":
    main()
