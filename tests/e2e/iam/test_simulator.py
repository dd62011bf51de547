"""The policy simulator over the wire: boto3 and the AWS CLI."""

from __future__ import annotations

import json
import uuid

ACCOUNT = "000000000000"
ADMIN_ARN = "arn:aws:iam::aws:policy/AdministratorAccess"
SEED = json.dumps({
    "Version": "2012-10-17",
    "Statement": [
        {"Sid": "OwnPrefix", "Effect": "Allow", "Action": ["s3:GetObject", "s3:PutObject"],
         "Resource": "arn:aws:s3:::acme-prod-uploads/users/${aws:username}/*"},
        {"Sid": "NoDeletes", "Effect": "Deny", "Action": "s3:DeleteObject", "Resource": "*"},
    ],
}, indent=4)
MINE = "arn:aws:s3:::acme-prod-uploads/users/alice/report.pdf"
BOBS = "arn:aws:s3:::acme-prod-uploads/users/bob/report.pdf"


def username(name):
    return [{"ContextKeyName": "aws:username", "ContextKeyValues": [name],
             "ContextKeyType": "string"}]


def new_user(iam, *, policy=SEED):
    name = f"alice-{uuid.uuid4().hex[:8]}"
    arn = iam.create_user(UserName=name)["User"]["Arn"]
    iam.put_user_policy(UserName=name, PolicyName="uploads", PolicyDocument=policy)
    return name, arn


def decisions(response):
    return {(r["EvalActionName"], r["EvalResourceName"]): r["EvalDecision"]
            for r in response["EvaluationResults"]}


def test_the_seeds_policy_for_alice(cloudlet):
    iam = cloudlet.client("iam")
    name, arn = new_user(iam, policy=SEED.replace("users/${aws:username}", "users/${aws:username}"))
    mine = MINE.replace("alice", name)
    response = iam.simulate_principal_policy(
        PolicySourceArn=arn, ActionNames=["s3:GetObject", "s3:PutObject", "s3:DeleteObject"],
        ResourceArns=[mine, BOBS], ContextEntries=username(name))
    assert decisions(response) == {
        ("s3:GetObject", mine): "allowed", ("s3:GetObject", BOBS): "implicitDeny",
        ("s3:PutObject", mine): "allowed", ("s3:PutObject", BOBS): "implicitDeny",
        ("s3:DeleteObject", mine): "explicitDeny", ("s3:DeleteObject", BOBS): "explicitDeny",
    }
    first = response["EvaluationResults"][0]
    [matched] = first["MatchedStatements"]
    assert (matched["SourcePolicyId"], matched["SourcePolicyType"]) == ("uploads", "user")
    # the first statement spans lines 4-12 of the document as sent, the second 13-18
    assert (matched["StartPosition"]["Line"], matched["EndPosition"]["Line"]) == (4, 12)
    assert matched["StartPosition"]["Column"] == matched["EndPosition"]["Column"]
    assert first["ResourceSpecificResults"][0]["EvalResourceDecision"] == "allowed"
    delete = response["EvaluationResults"][4]
    assert delete["MatchedStatements"][0]["StartPosition"]["Line"] == 13

    # AdministratorAccess too: deletes stay denied, bob's prefix opens up
    iam.attach_user_policy(UserName=name, PolicyArn=ADMIN_ARN)
    response = iam.simulate_principal_policy(
        PolicySourceArn=arn, ActionNames=["s3:PutObject", "s3:DeleteObject"],
        ResourceArns=[BOBS], ContextEntries=username(name))
    assert decisions(response) == {("s3:PutObject", BOBS): "allowed",
                                   ("s3:DeleteObject", BOBS): "explicitDeny"}
    [admin] = response["EvaluationResults"][0]["MatchedStatements"]
    assert (admin["SourcePolicyId"], admin["SourcePolicyType"]) == ("AdministratorAccess",
                                                                   "aws-managed")


def test_missing_context_values_name_the_variable(cloudlet):
    iam = cloudlet.client("iam")
    _, arn = new_user(iam)
    [result] = iam.simulate_principal_policy(
        PolicySourceArn=arn, ActionNames=["s3:GetObject"])["EvaluationResults"]
    assert result["EvalResourceName"] == "*"
    assert result["EvalDecision"] == "implicitDeny"
    assert result["MissingContextValues"] == ["aws:username"]


def test_the_boundary_decision_is_reported(cloudlet):
    iam = cloudlet.client("iam")
    name, arn = new_user(iam)
    iam.attach_user_policy(UserName=name, PolicyArn=ADMIN_ARN)
    boundary = iam.create_policy(
        PolicyName=f"read-iam-{uuid.uuid4().hex[:8]}",
        PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": ["iam:Get*", "iam:List*"], "Resource": "*"}]}),
    )["Policy"]["Arn"]
    iam.put_user_permissions_boundary(UserName=name, PermissionsBoundary=boundary)
    response = iam.simulate_principal_policy(PolicySourceArn=arn,
                                             ActionNames=["iam:CreateUser", "iam:ListUsers"])
    create, listing = response["EvaluationResults"]
    assert create["EvalDecision"] == "implicitDeny"
    assert create["PermissionsBoundaryDecisionDetail"] == {"AllowedByPermissionsBoundary": False}
    assert listing["EvalDecision"] == "allowed"
    assert listing["PermissionsBoundaryDecisionDetail"] == {"AllowedByPermissionsBoundary": True}


def test_groups_and_unknown_principals(cloudlet):
    iam = cloudlet.client("iam")
    group = f"g-{uuid.uuid4().hex[:8]}"
    arn = iam.create_group(GroupName=group)["Group"]["Arn"]
    iam.attach_group_policy(GroupName=group, PolicyArn=ADMIN_ARN)
    [result] = iam.simulate_principal_policy(PolicySourceArn=arn,
                                             ActionNames=["ec2:RunInstances"])["EvaluationResults"]
    assert result["EvalDecision"] == "allowed"
    try:
        iam.simulate_principal_policy(PolicySourceArn=f"arn:aws:iam::{ACCOUNT}:user/nobody-x",
                                      ActionNames=["s3:GetObject"])
    except iam.exceptions.NoSuchEntityException:
        pass
    else:
        raise AssertionError("an unknown principal must be NoSuchEntity")


def test_custom_policy_with_the_cli(cloudlet):
    # a JSON list of policy documents (the CLI v1 splits a bare file:// string into letters)
    policies = json.dumps([json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Action": "s3:ListBucket", "Resource": "arn:aws:s3:::b",
        "Condition": {"StringLike": {"s3:prefix": "home/${aws:username}/*"}}}]})])
    result = cloudlet.aws(
        "iam", "simulate-custom-policy", "--policy-input-list", policies,
        "--action-names", "s3:ListBucket", "--resource-arns", "arn:aws:s3:::b",
        "--context-entries",
        "ContextKeyName=aws:username,ContextKeyValues=alice,ContextKeyType=string",
        "ContextKeyName=s3:prefix,ContextKeyValues=home/alice/docs,ContextKeyType=string")
    [evaluation] = json.loads(result.stdout)["EvaluationResults"]
    assert evaluation["EvalDecision"] == "allowed"
    assert evaluation["MatchedStatements"][0]["SourcePolicyId"] == "PolicyInputList.1"
    keys = cloudlet.aws("iam", "get-context-keys-for-custom-policy",
                        "--policy-input-list", policies)
    assert sorted(json.loads(keys.stdout)["ContextKeyNames"]) == ["aws:username", "s3:prefix"]


def test_context_keys_for_a_principal(cloudlet):
    iam = cloudlet.client("iam")
    _, arn = new_user(iam)
    extra = json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Action": "ec2:*", "Resource": "*",
        "Condition": {"StringEquals": {"aws:RequestedRegion": "eu-west-1"}}}]})
    keys = iam.get_context_keys_for_principal_policy(PolicySourceArn=arn,
                                                     PolicyInputList=[extra])["ContextKeyNames"]
    assert sorted(keys) == ["aws:RequestedRegion", "aws:username"]


def test_the_seeds_policy_with_the_cli(cloudlet):
    iam = cloudlet.client("iam")
    name, arn = new_user(iam)
    iam.attach_user_policy(UserName=name, PolicyArn=ADMIN_ARN)
    mine = MINE.replace("alice", name)
    result = cloudlet.aws(
        "iam", "simulate-principal-policy", "--policy-source-arn", arn,
        "--action-names", "s3:GetObject", "s3:DeleteObject", "--resource-arns", mine,
        "--context-entries",
        f"ContextKeyName=aws:username,ContextKeyValues={name},ContextKeyType=string")
    results = json.loads(result.stdout)["EvaluationResults"]
    assert [(r["EvalActionName"], r["EvalDecision"]) for r in results] == [
        ("s3:GetObject", "allowed"), ("s3:DeleteObject", "explicitDeny")]
    assert {m["SourcePolicyId"] for m in results[1]["MatchedStatements"]} == {"uploads"}
