"""DryRun for every operation: DryRunOperation (412) when IAM would allow the request,
UnauthorizedOperation (403) when not; IAM's ec2 condition keys."""

from __future__ import annotations

import json
import uuid

import pytest
from botocore.exceptions import ClientError


def policy(*statements) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


@pytest.fixture
def user(cloudlet):
    iam = cloudlet.client("iam")

    def make(*statements):
        name = f"ec2-{uuid.uuid4().hex[:10]}"
        iam.create_user(UserName=name)
        if statements:
            iam.put_user_policy(UserName=name, PolicyName="p", PolicyDocument=policy(*statements))
        key = iam.create_access_key(UserName=name)["AccessKey"]
        return cloudlet.client("ec2", aws_access_key_id=key["AccessKeyId"],
                               aws_secret_access_key=key["SecretAccessKey"])
    return make


def answer(call, **params) -> tuple[str, int]:
    with pytest.raises(ClientError) as info:
        call(DryRun=True, **params)
    return (info.value.response["Error"]["Code"],
            info.value.response["ResponseMetadata"]["HTTPStatusCode"])


def test_root_dry_runs_succeed_and_change_nothing(ec2):
    before = len(ec2.describe_vpcs()["Vpcs"])
    assert answer(ec2.create_vpc, CidrBlock="10.9.0.0/16") == ("DryRunOperation", 412)
    assert answer(ec2.describe_vpcs) == ("DryRunOperation", 412)
    assert len(ec2.describe_vpcs()["Vpcs"]) == before


def test_dry_run_for_an_iam_user(user, ec2):
    allowed = user({"Effect": "Allow", "Action": ["ec2:Describe*", "ec2:CreateVpc"],
                    "Resource": "*"})
    assert answer(allowed.describe_security_groups) == ("DryRunOperation", 412)
    assert answer(allowed.create_vpc, CidrBlock="10.9.0.0/16") == ("DryRunOperation", 412)
    assert answer(allowed.delete_vpc, VpcId="vpc-0123456789abcdef0") == \
        ("UnauthorizedOperation", 403)
    nobody = user()
    assert answer(nobody.describe_vpcs) == ("UnauthorizedOperation", 403)


def test_resource_tags_decide(user, ec2, vpc):
    ec2.create_tags(Resources=[vpc["VpcId"]], Tags=[{"Key": "team", "Value": "web"}])
    other = ec2.create_vpc(CidrBlock="10.8.0.0/16")["Vpc"]["VpcId"]
    try:
        # the new subnet has no tags yet: it is allowed on its own, as AWS's examples do
        scoped = user(
            {"Effect": "Allow", "Action": "ec2:CreateSubnet",
             "Resource": "arn:aws:ec2:us-east-1:000000000000:subnet/*"},
            {"Effect": "Allow", "Action": "ec2:CreateSubnet",
             "Resource": "arn:aws:ec2:us-east-1:000000000000:vpc/*",
             "Condition": {"StringEquals": {"aws:ResourceTag/team": "web"}}})
        assert answer(scoped.create_subnet, VpcId=vpc["VpcId"], CidrBlock="10.0.9.0/24") == \
            ("DryRunOperation", 412)
        assert answer(scoped.create_subnet, VpcId=other, CidrBlock="10.8.9.0/24") == \
            ("UnauthorizedOperation", 403)
    finally:
        ec2.delete_vpc(VpcId=other)


def test_request_tags_and_tag_on_create(user):
    tagged = [{"ResourceType": "vpc", "Tags": [{"Key": "team", "Value": "web"}]}]
    creator = user({"Effect": "Allow", "Action": "ec2:CreateVpc", "Resource": "*",
                    "Condition": {"StringEquals": {"aws:RequestTag/team": "web"}}})
    # tagging on create also needs ec2:CreateTags
    assert answer(creator.create_vpc, CidrBlock="10.9.0.0/16", TagSpecifications=tagged) == \
        ("UnauthorizedOperation", 403)
    both = user({"Effect": "Allow", "Action": "ec2:CreateVpc", "Resource": "*",
                 "Condition": {"StringEquals": {"aws:RequestTag/team": "web"}}},
                {"Effect": "Allow", "Action": "ec2:CreateTags", "Resource": "*",
                 "Condition": {"StringEquals": {"ec2:CreateAction": "CreateVpc"}}})
    assert answer(both.create_vpc, CidrBlock="10.9.0.0/16", TagSpecifications=tagged) == \
        ("DryRunOperation", 412)
    assert answer(both.create_vpc, CidrBlock="10.9.0.0/16") == ("UnauthorizedOperation", 403)


def test_the_vpc_condition_key(user, ec2, vpc):
    vpc_arn = f"arn:aws:ec2:us-east-1:000000000000:vpc/{vpc['VpcId']}"
    other = ec2.create_vpc(CidrBlock="10.8.0.0/16")["Vpc"]["VpcId"]
    try:
        scoped = user({"Effect": "Allow", "Action": "ec2:CreateSecurityGroup", "Resource": "*",
                       "Condition": {"ArnEquals": {"ec2:Vpc": vpc_arn}}})
        assert answer(scoped.create_security_group, GroupName="g", Description="d",
                      VpcId=vpc["VpcId"]) == ("DryRunOperation", 412)
        assert answer(scoped.create_security_group, GroupName="g", Description="d",
                      VpcId=other) == ("UnauthorizedOperation", 403)
    finally:
        ec2.delete_vpc(VpcId=other)
