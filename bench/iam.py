"""IAM authorization costs. Figures are printed, never asserted.

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


def main() -> None:
    engine_decision()


if __name__ == "__main__":
    main()
