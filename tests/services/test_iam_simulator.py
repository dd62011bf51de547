"""The simulator's shapes and decisions, on a stand-in for the IAM provider's reads."""

from __future__ import annotations

import json

import pytest

from cloudlet.policy.document import parse
from cloudlet.services.base import RequestContext
from cloudlet.services.iam.errors import NoSuchEntity
from cloudlet.services.iam.simulator import SimulatorOperations

ACCOUNT = "000000000000"
ALICE = f"arn:aws:iam::{ACCOUNT}:user/alice"
SEED = json.dumps({
    "Version": "2012-10-17",
    "Statement": [
        {"Effect": "Allow", "Action": ["s3:GetObject", "s3:PutObject"],
         "Resource": "arn:aws:s3:::acme-prod-uploads/users/${aws:username}/*"},
        {"Effect": "Deny", "Action": "s3:DeleteObject", "Resource": "*"},
    ],
}, indent=2)
ADMIN = json.dumps({"Version": "2012-10-17",
                    "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]})
READ_IAM = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Action": ["iam:Get*", "iam:List*"], "Resource": "*"}]})


class Store:
    def entity(self, kind, account, name):
        return {"name": name} if name == "devs" else None


class FakeIam(SimulatorOperations):
    iam = Store()

    def __init__(self, sources, boundary=None):
        self.sources, self.boundary = sources, boundary

    def principal_policies(self, account, arn):
        return {"identity": [(s["id"], s["document"]) for s in self.sources],
                "boundary": self.boundary, "tags": {}, "sources": self.sources}

    def _sources(self, account, kind, name):
        return self.sources

    def get_user(self, account, name):
        return {"name": name} if name == "alice" else None

    def get_role(self, account, name):
        return {"name": name} if name == "app" else None


CTX = RequestContext("iam", "SimulatePrincipalPolicy", "us-east-1", ACCOUNT, "r")
USERNAME = [{"ContextKeyName": "aws:username", "ContextKeyValues": ["alice"],
             "ContextKeyType": "string"}]


def seed_user(extra=(), boundary=None):
    sources = [{"id": "uploads", "type": "user", "document": SEED}, *extra]
    return FakeIam(sources, boundary)


def decisions(result):
    return [(r["EvalActionName"], r["EvalResourceName"], r["EvalDecision"])
            for r in result["EvaluationResults"]]


def test_the_seed_policy():
    result = seed_user().simulate_principal_policy(CTX, {
        "PolicySourceArn": ALICE,
        "ActionNames": ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"],
        "ResourceArns": ["arn:aws:s3:::acme-prod-uploads/users/alice/a.txt",
                         "arn:aws:s3:::acme-prod-uploads/users/bob/a.txt"],
        "ContextEntries": USERNAME,
    })
    assert decisions(result) == [
        ("s3:GetObject", "arn:aws:s3:::acme-prod-uploads/users/alice/a.txt", "allowed"),
        ("s3:GetObject", "arn:aws:s3:::acme-prod-uploads/users/bob/a.txt", "implicitDeny"),
        ("s3:PutObject", "arn:aws:s3:::acme-prod-uploads/users/alice/a.txt", "allowed"),
        ("s3:PutObject", "arn:aws:s3:::acme-prod-uploads/users/bob/a.txt", "implicitDeny"),
        ("s3:DeleteObject", "arn:aws:s3:::acme-prod-uploads/users/alice/a.txt", "explicitDeny"),
        ("s3:DeleteObject", "arn:aws:s3:::acme-prod-uploads/users/bob/a.txt", "explicitDeny"),
    ]
    allowed = result["EvaluationResults"][0]
    assert allowed["MatchedStatements"] == [{
        "SourcePolicyId": "uploads", "SourcePolicyType": "user",
        "StartPosition": {"Line": 4, "Column": parse(SEED).statements[0].start[1]},
        "EndPosition": {"Line": 11, "Column": parse(SEED).statements[0].end[1]}}]
    [specific] = allowed["ResourceSpecificResults"]
    assert specific["EvalResourceDecision"] == "allowed"
    assert specific["EvalResourceName"] == "arn:aws:s3:::acme-prod-uploads/users/alice/a.txt"
    assert "PermissionsBoundaryDecisionDetail" not in allowed
    denied = result["EvaluationResults"][4]
    assert denied["MatchedStatements"][0]["StartPosition"] == {
        "Line": 12, "Column": parse(SEED).statements[1].start[1]}


def test_explicit_deny_survives_administrator_access():
    admin = {"id": "AdministratorAccess", "type": "aws-managed", "document": ADMIN}
    result = seed_user([admin]).simulate_principal_policy(CTX, {
        "PolicySourceArn": ALICE, "ActionNames": ["s3:DeleteObject", "iam:CreateUser"]})
    assert [r["EvalDecision"] for r in result["EvaluationResults"]] == ["explicitDeny", "allowed"]
    assert result["EvaluationResults"][1]["MatchedStatements"][0] == {
        "SourcePolicyId": "AdministratorAccess", "SourcePolicyType": "aws-managed",
        "StartPosition": {"Line": 1, "Column": parse(ADMIN).statements[0].start[1]},
        "EndPosition": {"Line": 1, "Column": parse(ADMIN).statements[0].end[1]}}


def test_missing_context_values_when_the_variable_has_no_value():
    result = seed_user().simulate_principal_policy(CTX, {
        "PolicySourceArn": ALICE, "ActionNames": ["s3:GetObject"]})
    [r] = result["EvaluationResults"]
    assert r["EvalResourceName"] == "*"
    assert r["EvalDecision"] == "implicitDeny"
    assert r["MissingContextValues"] == ["aws:username"]
    assert "ResourceSpecificResults" not in r


def test_boundary_caps_and_is_reported():
    admin = {"id": "AdministratorAccess", "type": "aws-managed", "document": ADMIN}
    iam = FakeIam([admin], boundary=("ReadIam", READ_IAM))
    result = iam.simulate_principal_policy(CTX, {
        "PolicySourceArn": ALICE, "ActionNames": ["iam:CreateUser", "iam:GetUser"]})
    first, second = result["EvaluationResults"]
    assert first["EvalDecision"] == "implicitDeny"
    assert first["PermissionsBoundaryDecisionDetail"] == {"AllowedByPermissionsBoundary": False}
    assert second["EvalDecision"] == "allowed"
    assert second["PermissionsBoundaryDecisionDetail"] == {"AllowedByPermissionsBoundary": True}


def test_simulated_boundary_replaces_the_principals():
    admin = {"id": "AdministratorAccess", "type": "aws-managed", "document": ADMIN}
    iam = FakeIam([admin], boundary=("ReadIam", READ_IAM))
    result = iam.simulate_principal_policy(CTX, {
        "PolicySourceArn": ALICE, "ActionNames": ["iam:CreateUser"],
        "PermissionsBoundaryPolicyInputList": [ADMIN]})
    assert result["EvaluationResults"][0]["EvalDecision"] == "allowed"


def test_custom_policy_and_conditions():
    policy = json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Action": "ec2:*", "Resource": "*",
        "Condition": {"StringEquals": {"aws:RequestedRegion": "eu-west-1"}}}]})
    iam = FakeIam([])
    base = {"PolicyInputList": [policy], "ActionNames": ["ec2:RunInstances"]}
    no_context = iam.simulate_custom_policy(CTX, base)["EvaluationResults"][0]
    assert no_context["EvalDecision"] == "implicitDeny"
    assert [k.lower() for k in no_context["MissingContextValues"]] == ["aws:requestedregion"]
    region = [{"ContextKeyName": "aws:RequestedRegion", "ContextKeyValues": ["eu-west-1"],
               "ContextKeyType": "string"}]
    ok = iam.simulate_custom_policy(CTX, {**base, "ContextEntries": region})["EvaluationResults"][0]
    assert ok["EvalDecision"] == "allowed"
    assert ok["MatchedStatements"][0]["SourcePolicyId"] == "PolicyInputList.1"
    assert ok["MissingContextValues"] == []


def test_resource_policy_allows_the_caller():
    bucket = json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"AWS": ALICE}, "Action": "s3:GetObject",
        "Resource": "arn:aws:s3:::b/*"}]})
    result = FakeIam([]).simulate_custom_policy(CTX, {
        "PolicyInputList": [READ_IAM], "ResourcePolicy": bucket, "CallerArn": ALICE,
        "ActionNames": ["s3:GetObject"], "ResourceArns": ["arn:aws:s3:::b/k"]})
    [r] = result["EvaluationResults"]
    assert r["EvalDecision"] == "allowed"
    assert r["MatchedStatements"][0]["SourcePolicyId"] == "ResourcePolicy"
    assert r["EvalDecisionDetails"] == {"IAM Policy": "implicitDeny", "Resource Policy": "allowed"}
    assert r["ResourceSpecificResults"][0]["EvalDecisionDetails"] == r["EvalDecisionDetails"]


def test_context_keys():
    iam = seed_user()
    assert iam.get_context_keys_for_principal_policy(CTX, {"PolicySourceArn": ALICE}) == {
        "ContextKeyNames": ["aws:username"]}
    policy = json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Action": "s3:*", "Resource": "*",
        "Condition": {"IpAddress": {"aws:SourceIp": "10.0.0.0/8"},
                      "StringLike": {"s3:prefix": "${aws:PrincipalTag/team}/*"}}}]})
    keys = iam.get_context_keys_for_custom_policy(CTX, {"PolicyInputList": [policy]})
    assert sorted(k.lower() for k in keys["ContextKeyNames"]) == [
        "aws:principaltag/team", "aws:sourceip", "s3:prefix"]


def test_unknown_principal():
    with pytest.raises(NoSuchEntity):
        seed_user().simulate_principal_policy(CTX, {
            "PolicySourceArn": f"arn:aws:iam::{ACCOUNT}:user/nobody", "ActionNames": ["s3:GetObject"]})


def test_pagination():
    result = seed_user().simulate_principal_policy(CTX, {
        "PolicySourceArn": ALICE, "ActionNames": ["s3:GetObject", "s3:PutObject", "s3:ListBucket"],
        "MaxItems": 2})
    assert result["IsTruncated"] and len(result["EvaluationResults"]) == 2
    rest = seed_user().simulate_principal_policy(CTX, {
        "PolicySourceArn": ALICE, "ActionNames": ["s3:GetObject", "s3:PutObject", "s3:ListBucket"],
        "MaxItems": 2, "Marker": result["Marker"]})
    assert not rest["IsTruncated"]
    assert [r["EvalActionName"] for r in rest["EvaluationResults"]] == ["s3:ListBucket"]
