"""The engine's outputs beyond the decision: AccessDenied messages, matched statements with
their positions, missing context keys, boundary details and GetContextKeysFor*Policy."""

import json

from cloudlet.policy.evaluate import (
    AuthzRequest,
    Decision,
    Policy,
    Principal,
    context_keys,
    evaluate,
    normalize_context,
)

ALICE = Principal("arn:aws:iam::000000000000:user/alice", "000000000000", "User",
                  user_id="AIDAALICE", username="alice", tags={"Team": "blue"})
SEED = json.dumps({
    "Version": "2012-10-17",
    "Statement": [
        {"Sid": "OwnPrefix", "Effect": "Allow", "Action": ["s3:GetObject", "s3:PutObject"],
         "Resource": "arn:aws:s3:::acme-prod-uploads/users/${aws:username}/*"},
        {"Sid": "NoDeletes", "Effect": "Deny", "Action": "s3:DeleteObject", "Resource": "*"},
    ],
}, indent=2)
ADMIN = '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}'


def request(action, resource, context=None, principal=ALICE, account=None):
    return AuthzRequest(principal, action, resource, context or {}, account)


def test_seed_policy_decisions_and_messages():
    own = "arn:aws:s3:::acme-prod-uploads/users/alice/report.csv"
    bob = "arn:aws:s3:::acme-prod-uploads/users/bob/report.csv"
    seed = [Policy("seed", SEED)]
    put = evaluate(request("s3:PutObject", own), seed)
    assert put.decision == "allowed" and put.message(ALICE.arn, "s3:PutObject", own) == ""
    assert [(m.policy_id, m.sid, m.index) for m in put.matched] == [("seed", "OwnPrefix", 0)]
    assert put.matched[0].start == (4, 6)

    other = evaluate(request("s3:GetObject", bob), seed)
    assert other.decision == "implicitDeny"
    assert other.message(ALICE.arn, "s3:GetObject", bob) == (
        'User: arn:aws:iam::000000000000:user/alice is not authorized to perform: s3:GetObject '
        'on resource: "arn:aws:s3:::acme-prod-uploads/users/bob/report.csv" '
        "because no identity-based policy allows the s3:GetObject action")

    delete = evaluate(request("s3:DeleteObject", own), seed + [Policy("admin", ADMIN)])
    assert delete.decision == "explicitDeny"
    assert [m.sid for m in delete.matched] == ["NoDeletes"]
    assert delete.message(ALICE.arn, "s3:DeleteObject", own).endswith(
        "with an explicit deny in an identity-based policy")


def test_messages_name_the_deciding_policy_type():
    d = Decision("implicitDeny", deciding_kind="permissions boundary")
    assert d.message("arn:x", "s3:GetObject", "arn:aws:s3:::b").endswith(
        "because no permissions boundary allows the s3:GetObject action")
    d = Decision("explicitDeny", deciding_kind="session policy")
    assert d.message("arn:x", "s3:GetObject", "arn:aws:s3:::b").endswith(
        "with an explicit deny in a session policy")
    d = Decision("explicitDeny", deciding_kind="resource-based policy")
    assert d.message("arn:x", "s3:GetObject", "arn:aws:s3:::b").endswith(
        "with an explicit deny in a resource-based policy")


def test_boundary_and_session_details():
    boundary = Policy("b", '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ec2:*","Resource":"*"}]}',
                      "boundary")
    d = evaluate(request("s3:GetObject", "*"), [Policy("admin", ADMIN)], boundary=boundary)
    assert (d.decision, d.allowed_by_boundary, d.allowed_by_session) == ("implicitDeny", False, None)
    d = evaluate(request("ec2:RunInstances", "*"), [Policy("admin", ADMIN)], boundary=boundary)
    assert d.allowed and d.allowed_by_boundary is True
    assert {m.kind for m in d.matched} == {"identity", "boundary"}
    assert d.by_kind == {"identity": "allowed", "boundary": "allowed"}


def test_each_policy_type_reports_its_own_verdict():
    resource = Policy("r", json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": "*"}]}), "resource")
    session = Policy("s", '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ec2:*","Resource":"*"}]}',
                     "session")
    d = evaluate(request("s3:GetObject", "arn:aws:s3:::b/k"), [Policy("admin", ADMIN)], resource,
                 session=[session])
    assert d.decision == "explicitDeny" and d.deciding_kind == "resource-based policy"
    assert d.by_kind == {"identity": "allowed", "session": "implicitDeny", "resource": "explicitDeny"}
    assert d.allowed_by_session is False


def test_missing_context_keys_are_reported():
    policy = Policy("p", json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "s3:ListBucket", "Resource": "*",
         "Condition": {"StringLike": {"s3:prefix": "home/*"}, "IpAddress": {"aws:SourceIp": "10.0.0.0/8"}}}]}))
    d = evaluate(request("s3:ListBucket", "arn:aws:s3:::b", {"aws:SourceIp": "10.1.1.1"}), [policy])
    assert d.decision == "implicitDeny" and d.missing_context_keys == ["s3:prefix"]
    d = evaluate(request("s3:ListBucket", "arn:aws:s3:::b", {"aws:SourceIp": "10.1.1.1", "S3:Prefix": "home/x"}),
                 [policy])
    assert d.allowed and d.missing_context_keys == []


def test_context_is_normalized_and_principal_keys_filled():
    ctx = normalize_context({"AWS:SecureTransport": True, "aws:TagKeys": ("a", "b"), "n": 5, "x": None},
                            ALICE)
    assert ctx["aws:securetransport"] == "true" and ctx["aws:tagkeys"] == ["a", "b"]
    assert ctx["n"] == "5" and "x" not in ctx
    assert ctx["aws:username"] == "alice" and ctx["aws:principaltag/team"] == "blue"
    assert ctx["aws:principalarn"] == ALICE.arn and ctx["aws:principaltype"] == "User"
    session = Principal("arn:aws:sts::000000000000:assumed-role/app/s", "000000000000", "AssumedRole")
    ctx = normalize_context({}, session)
    assert ctx["aws:principalarn"] == "arn:aws:iam::000000000000:role/app"
    assert "aws:username" not in ctx


def test_context_keys_for_policies():
    policy = Policy("p", json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "s3:*", "Resource": "arn:aws:s3:::b/${aws:username}/*",
         "Condition": {"StringEquals": {"aws:ResourceTag/team": "${aws:PrincipalTag/team, 'x'}",
                                        "AWS:RequestedRegion": "us-east-1"}}},
        {"Effect": "Deny", "Action": "s3:*", "Resource": "*",
         "Condition": {"Bool": {"aws:requestedregion": "false", "aws:SecureTransport": "false"}}}]}))
    assert context_keys([policy]) == ["aws:username", "aws:ResourceTag/team", "aws:PrincipalTag/team",
                                      "AWS:RequestedRegion", "aws:SecureTransport"]
    old = Policy("o", json.dumps({"Version": "2008-10-17", "Statement": [
        {"Effect": "Allow", "Action": "s3:*", "Resource": "arn:aws:s3:::b/${aws:username}/*"}]}))
    assert context_keys([old]) == []


def test_parsed_document_can_be_passed_directly():
    from cloudlet.policy.document import parse

    d = evaluate(request("s3:GetObject", "*"), [Policy("admin", parse(ADMIN))])
    assert d.allowed
