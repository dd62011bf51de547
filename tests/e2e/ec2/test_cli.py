"""The AWS CLI prints what it prints against AWS: the same members, values and shapes."""

from __future__ import annotations

import json

import pytest
from harness import unique


@pytest.fixture
def cli_vpc(cloudlet, ec2):
    from ec2support import empty_vpc

    vpc = ec2.create_vpc(CidrBlock="10.7.0.0/16", TagSpecifications=[{
        "ResourceType": "vpc", "Tags": [{"Key": "Name", "Value": "cli"}]}])["Vpc"]
    yield vpc
    empty_vpc(ec2, vpc["VpcId"])


def aws(cloudlet, *args) -> dict:
    return json.loads(cloudlet.aws("ec2", *args, "--output", "json").stdout)


def test_describe_vpcs(cloudlet, cli_vpc):
    printed = aws(cloudlet, "describe-vpcs", "--vpc-ids", cli_vpc["VpcId"])
    vpc = printed["Vpcs"][0]
    assert set(vpc) == {"OwnerId", "InstanceTenancy", "CidrBlockAssociationSet", "IsDefault",
                        "Tags", "BlockPublicAccessStates", "VpcId", "State", "CidrBlock",
                        "DhcpOptionsId"}
    assert vpc["CidrBlockAssociationSet"] == [{
        "AssociationId": cli_vpc["CidrBlockAssociationSet"][0]["AssociationId"],
        "CidrBlock": "10.7.0.0/16", "CidrBlockState": {"State": "associated"}}]
    assert (vpc["State"], vpc["IsDefault"], vpc["Tags"]) == (
        "available", False, [{"Key": "Name", "Value": "cli"}])
    assert list(printed) == ["Vpcs"]


def test_create_group_authorize_and_describe_rules(cloudlet, cli_vpc):
    name = unique("cli")
    made = aws(cloudlet, "create-security-group", "--group-name", name,
               "--description", "cli group", "--vpc-id", cli_vpc["VpcId"])
    assert set(made) == {"GroupId", "SecurityGroupArn"}
    group = made["GroupId"]
    assert made["SecurityGroupArn"] == f"arn:aws:ec2:us-east-1:000000000000:security-group/{group}"
    authorized = aws(cloudlet, "authorize-security-group-ingress", "--group-id", group,
                     "--protocol", "tcp", "--port", "22", "--cidr", "203.0.113.0/24")
    assert authorized["Return"] is True
    rule = authorized["SecurityGroupRules"][0]
    assert {k: v for k, v in rule.items() if k not in ("SecurityGroupRuleId",
                                                       "SecurityGroupRuleArn")} == {
        "GroupId": group, "GroupOwnerId": "000000000000", "IsEgress": False,
        "IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "CidrIpv4": "203.0.113.0/24"}
    rules = aws(cloudlet, "describe-security-group-rules", "--filters",
                f"Name=group-id,Values={group}")["SecurityGroupRules"]
    assert sorted((r["IsEgress"], r["IpProtocol"], r["FromPort"], r["ToPort"], r["CidrIpv4"])
                  for r in rules) == [(False, "tcp", 22, 22, "203.0.113.0/24"),
                                      (True, "-1", -1, -1, "0.0.0.0/0")]
    for printed in rules:
        assert printed["Tags"] == [] and printed["GroupOwnerId"] == "000000000000"
        assert printed["SecurityGroupRuleId"].startswith("sgr-")
    source = aws(cloudlet, "create-security-group", "--group-name", unique("src"),
                 "--description", "src", "--vpc-id", cli_vpc["VpcId"])["GroupId"]
    by_group = aws(cloudlet, "authorize-security-group-ingress", "--group-id", group,
                   "--protocol", "tcp", "--port", "5432", "--source-group", source)
    assert by_group["SecurityGroupRules"][0]["ReferencedGroupInfo"] == {
        "GroupId": source, "UserId": "000000000000"}
    failed = cloudlet.aws("ec2", "authorize-security-group-ingress", "--group-id", group,
                          "--protocol", "tcp", "--port", "22", "--cidr", "203.0.113.0/24",
                          check=False)
    assert failed.returncode != 0
    assert "An error occurred (InvalidPermission.Duplicate) when calling the " \
           "AuthorizeSecurityGroupIngress operation: the specified rule \"peer: " \
           "203.0.113.0/24, TCP, from port: 22, to port: 22, ALLOW\" already exists" in failed.stderr
