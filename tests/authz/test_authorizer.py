"""The authorize step in process, on stand-ins for the providers: decisions, error codes,
and when the cached IAM reads are trusted."""

from __future__ import annotations

import asyncio
import json
from types import SimpleNamespace

import pytest

from cloudlet.authz.authorizer import Authorizer
from cloudlet.errors import ServiceError
from cloudlet.models import service_model
from cloudlet.principals import Credential
from cloudlet.services.base import RequestContext

ACCOUNT = "000000000000"
ALICE = Credential("AKIAALICE", "s", ACCOUNT, f"arn:aws:iam::{ACCOUNT}:user/alice",
                   kind="user", user_id="AIDAALICE", name="alice")
ROOT = Credential("test", "test", ACCOUNT, f"arn:aws:iam::{ACCOUNT}:root")


def allow(*actions):
    return json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": list(actions), "Resource": "*"}]})


class FakeIam:
    def __init__(self):
        self.identity = [("p", allow("iam:ListUsers"))]
        self.reads = 0
        self.key_uses = []

    def record_key_use(self, access_key_id, service, region):
        self.key_uses.append((access_key_id, service, region))

    def principal_policies(self, account, arn):
        self.reads += 1
        return {"identity": list(self.identity), "boundary": None, "tags": {}}

    def get_user(self, account, name):
        return {"name": name, "arn": f"arn:aws:iam::{account}:user/{name}", "tags": {}}

    def get_role(self, account, name):
        return None


def exchange(service, operation, caller, params=None, protocol="query"):
    ctx = RequestContext(service, operation, "us-east-1", ACCOUNT, "req", caller=caller)
    return SimpleNamespace(
        service=service, operation=service_model(service).operation_model(operation),
        params=params or {}, context=ctx, auth=SimpleNamespace(method="sigv4-header"),
        codec=SimpleNamespace(protocol=protocol), request_id="req")


def run(authorizer, ex):
    asyncio.run(authorizer.authorize(ex))


def denial(authorizer, ex) -> ServiceError:
    with pytest.raises(ServiceError) as info:
        run(authorizer, ex)
    return info.value


def test_root_and_anonymous_are_not_judged():
    iam = FakeIam()
    authorizer = Authorizer({"iam": iam})
    run(authorizer, exchange("iam", "CreateUser", ROOT, {"UserName": "x"}))
    run(authorizer, exchange("s3", "GetObject", None, {"Bucket": "b", "Key": "k"}, "rest-xml"))
    assert iam.reads == 0


def test_allowed_and_denied_with_the_protocols_code():
    authorizer = Authorizer({"iam": FakeIam()})
    run(authorizer, exchange("iam", "ListUsers", ALICE))
    error = denial(authorizer, exchange("iam", "ListRoles", ALICE))
    assert (error.code, error.status) == ("AccessDenied", 403)
    assert error.message.startswith(f"User: {ALICE.arn} is not authorized to perform: iam:ListRoles")
    error = denial(authorizer, exchange("logs", "DescribeLogGroups", ALICE, protocol="json"))
    assert error.code == "AccessDeniedException"
    assert denial(authorizer, exchange("sns", "ListTopics", ALICE)).code == "AuthorizationError"
    assert denial(authorizer, exchange("ec2", "DescribeVpcs", ALICE, protocol="ec2")).code == \
        "UnauthorizedOperation"


def test_undeclared_operations_fail_closed_for_everyone_but_root():
    authorizer = Authorizer({"iam": FakeIam()})
    error = denial(authorizer, exchange("s3", "CreateSession", ALICE, {"Bucket": "b"}, "rest-xml"))
    assert "no IAM declaration" in error.message and "CreateSession" in error.message
    run(authorizer, exchange("s3", "CreateSession", ROOT, {"Bucket": "b"}, "rest-xml"))


def test_reads_are_cached_until_an_iam_write():
    iam = FakeIam()
    authorizer = Authorizer({"iam": iam})
    authorizer.reads.QUIET = 0.0
    for _ in range(3):
        run(authorizer, exchange("iam", "ListUsers", ALICE))
    assert iam.reads == 1
    # root changes alice's policies: the write is seen at its own authorize step
    iam.identity = [("p", allow("iam:ListRoles"))]
    run(authorizer, exchange("iam", "PutUserPolicy", ROOT, {"UserName": "alice"}))
    denial(authorizer, exchange("iam", "ListUsers", ALICE))
    run(authorizer, exchange("iam", "ListRoles", ALICE))
    assert iam.reads == 2


def test_nothing_is_cached_in_the_quiet_window_after_a_write():
    iam = FakeIam()
    authorizer = Authorizer({"iam": iam})
    run(authorizer, exchange("iam", "TagUser", ROOT, {"UserName": "alice", "Tags": []}))
    for _ in range(3):
        run(authorizer, exchange("iam", "ListUsers", ALICE))
    assert iam.reads == 3  # each read again: the write may not have committed yet


def test_a_users_key_use_is_recorded_once_per_interval():
    iam = FakeIam()
    authorizer = Authorizer({"iam": iam})
    for _ in range(3):
        run(authorizer, exchange("iam", "ListUsers", ALICE))
    run(authorizer, exchange("iam", "ListUsers", ROOT))
    assert iam.key_uses == [("AKIAALICE", "iam", "us-east-1")]
