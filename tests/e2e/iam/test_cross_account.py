"""IAM and STS across accounts: ARNs of other accounts are everyday here, but the one way
in is a role whose trust policy names the caller (and, for an IAM user, its own policy
allowing sts:AssumeRole). Another account's policies, users, roles and OIDC providers,
named by ARN, answer NoSuchEntity as missing ones do."""

from __future__ import annotations

import json

import pytest
from harness import error_of, unique, unique_account

DOCUMENT = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Action": "s3:ListAllMyBuckets", "Resource": "*"}]})


@pytest.fixture(scope="module")
def two(cloudlet):
    a, b = unique_account(), unique_account()
    owner = cloudlet.client("iam", aws_access_key_id=a)
    other = cloudlet.client("iam", aws_access_key_id=b)
    policy = owner.create_policy(PolicyName=unique("p"), PolicyDocument=DOCUMENT)["Policy"]
    user = owner.create_user(UserName=unique("u"))["User"]
    provider = owner.create_open_id_connect_provider(
        Url=f"https://{unique('issuer')}.example.com", ClientIDList=["app"],
        ThumbprintList=["a" * 40])["OpenIDConnectProviderArn"]
    return owner, other, a, b, policy["Arn"], user["Arn"], provider


def no_such_entity(call, **kwargs):
    code, status, message = error_of(call, **kwargs)
    assert (code, status) == ("NoSuchEntity", 404), message


def test_another_accounts_entities_answer_no_such_entity(two):
    owner, other, _, _, policy, user, provider = two
    own_user = other.create_user(UserName=unique("mine"))["User"]["UserName"]
    no_such_entity(other.get_policy, PolicyArn=policy)
    no_such_entity(other.get_policy_version, PolicyArn=policy, VersionId="v1")
    no_such_entity(other.list_entities_for_policy, PolicyArn=policy)
    no_such_entity(other.create_policy_version, PolicyArn=policy, PolicyDocument=DOCUMENT)
    no_such_entity(other.delete_policy, PolicyArn=policy)
    no_such_entity(other.attach_user_policy, UserName=own_user, PolicyArn=policy)
    no_such_entity(other.put_user_permissions_boundary, UserName=own_user,
                   PermissionsBoundary=policy)
    no_such_entity(other.simulate_principal_policy, PolicySourceArn=user,
                   ActionNames=["s3:ListAllMyBuckets"])
    no_such_entity(other.get_context_keys_for_principal_policy, PolicySourceArn=user)
    no_such_entity(other.get_open_id_connect_provider, OpenIDConnectProviderArn=provider)
    no_such_entity(other.tag_open_id_connect_provider, OpenIDConnectProviderArn=provider,
                   Tags=[{"Key": "k", "Value": "v"}])
    assert owner.get_policy(PolicyArn=policy)["Policy"]["DefaultVersionId"] == "v1"


def test_a_role_of_another_account_is_assumed_only_by_its_trust_policy(cloudlet, two):
    owner, other, a, b, policy, _, _ = two
    name = unique("shared-role")
    role = owner.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                                "Principal": {"AWS": f"arn:aws:iam::{a}:root"}}]
    }))["Role"]["Arn"]
    other.create_user(UserName="assumer")
    other.put_user_policy(UserName="assumer", PolicyName="assume", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                                "Resource": "*"}]}))
    key = other.create_access_key(UserName="assumer")["AccessKey"]
    sts = cloudlet.client("sts", aws_access_key_id=key["AccessKeyId"],
                          aws_secret_access_key=key["SecretAccessKey"])
    code, status, _ = error_of(sts.assume_role, RoleArn=role, RoleSessionName="partner")
    assert (code, status) == ("AccessDenied", 403)
    owner.update_assume_role_policy(RoleName=name, PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                                "Principal": {"AWS": f"arn:aws:iam::{b}:root"}}]}))
    # session policies come from the role's account: B's own policy is not one there
    own = other.create_policy(PolicyName=unique("mine"), PolicyDocument=DOCUMENT)["Policy"]
    code, _, _ = error_of(sts.assume_role, RoleArn=role, RoleSessionName="partner",
                          PolicyArns=[{"arn": own["Arn"]}])
    assert code == "ValidationError"
    session = sts.assume_role(RoleArn=role, RoleSessionName="partner",
                              PolicyArns=[{"arn": policy}])["Credentials"]
    identity = cloudlet.client("sts", aws_access_key_id=session["AccessKeyId"],
                               aws_secret_access_key=session["SecretAccessKey"],
                               aws_session_token=session["SessionToken"]).get_caller_identity()
    assert identity["Account"] == a
    assert identity["Arn"] == f"arn:aws:sts::{a}:assumed-role/{name}/partner"
