"""The EC2 provider's port to the VPC fabric: each change reaches it inside its transaction,
so a change the fabric refuses leaves nothing behind; desired_state gives a VPC's whole
network from the store."""

from __future__ import annotations

import pytest

from cloudlet.services.base import RequestContext
from cloudlet.services.ec2.fabric import Fabric, desired_state, vpcs
from cloudlet.services.ec2.provider import Ec2Provider
from cloudlet.store import Store

CTX = RequestContext("ec2", "", "us-east-1", "000000000000", "r")


class Refusal(Exception):
    pass


class Recorder(Fabric):
    def __init__(self):
        self.calls: list[tuple[str, str]] = []
        self.refuse: str | None = None

    def __getattribute__(self, name):
        found = object.__getattribute__(self, name)
        if name.endswith(("_created", "_changed", "_deleted", "_released")):
            def record(view, *records):
                assert view.writing  # inside the operation's transaction
                self.calls.append((name, view.account))
                if name == self.refuse:
                    raise Refusal(name)
            return record
        return found


@pytest.fixture
def provider(tmp_path):
    found = Ec2Provider(Store.open(tmp_path))
    found.fabric = Recorder()
    return found


def call(provider, operation, **params):
    return provider.handler(operation)(CTX, params)


def test_every_change_reaches_the_fabric_in_its_transaction(provider):
    vpc = call(provider, "CreateVpc", CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnet = call(provider, "CreateSubnet", VpcId=vpc, CidrBlock="10.0.1.0/24")["Subnet"]
    group = call(provider, "CreateSecurityGroup", GroupName="g", Description="d", VpcId=vpc)
    call(provider, "AuthorizeSecurityGroupIngress", GroupId=group["GroupId"], IpPermissions=[
        {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}])
    names = [name for name, _ in provider.fabric.calls]
    assert "vpc_created" in names  # the default VPC's, then this one's
    assert names[-3:] == ["subnet_changed", "security_group_changed", "security_group_changed"]
    assert subnet["SubnetId"]


def test_a_refused_change_leaves_nothing(provider):
    vpc = call(provider, "CreateVpc", CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    provider.fabric.refuse = "subnet_changed"
    with pytest.raises(Refusal):
        call(provider, "CreateSubnet", VpcId=vpc, CidrBlock="10.0.1.0/24")
    assert call(provider, "DescribeSubnets", Filters=[
        {"Name": "vpc-id", "Values": [vpc]}])["Subnets"] == []
    acl = call(provider, "DescribeNetworkAcls", Filters=[
        {"Name": "vpc-id", "Values": [vpc]}])["NetworkAcls"][0]
    assert acl["Associations"] == []  # the default ACL's association rolled back too
    provider.fabric.refuse = None
    again = call(provider, "CreateSubnet", VpcId=vpc, CidrBlock="10.0.1.0/24")["Subnet"]
    assert again["AvailableIpAddressCount"] == 251


def test_desired_state_of_a_vpc(provider):
    vpc = call(provider, "CreateVpc", CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnet = call(provider, "CreateSubnet", VpcId=vpc, CidrBlock="10.0.1.0/24")["Subnet"]
    call(provider, "CreateNetworkInterface", SubnetId=subnet["SubnetId"])
    view = provider.records.read("000000000000", "us-east-1")
    state = desired_state(view, vpc)
    assert state["vpc"]["VpcId"] == vpc
    assert [s["SubnetId"] for s in state["subnets"]] == [subnet["SubnetId"]]
    assert len(state["route_tables"]) == 1 and len(state["network_acls"]) == 1
    group = state["security_groups"][0]
    assert group["GroupName"] == "default" and len(group["_rules"]) == 2
    assert state["interfaces"][0]["PrivateIpAddress"] == "10.0.1.4"
    assert {p["PrefixListId"] for p in state["prefix_lists"]} == {"pl-63a5400a", "pl-02cd2c6b"}
    assert ("000000000000", "us-east-1", vpc) in vpcs(provider.records)


def test_reads_for_other_services(provider):
    from cloudlet.services.ec2.reads import Ec2Reads

    reads = Ec2Reads(provider)
    default = reads.default_vpc("000000000000", "us-east-1")
    assert default["CidrBlock"] == "172.31.0.0/16"
    subnet = call(provider, "CreateSubnet", VpcId=default["VpcId"], CidrBlock="172.31.96.0/20",
                  AvailabilityZone="us-east-1a")["Subnet"]["SubnetId"]
    found = reads.subnets("000000000000", "us-east-1", [subnet, "subnet-0123456789abcdef0"])
    assert [s["SubnetId"] for s in found] == [subnet] and "_allocated" not in found[0]


def test_other_services_add_names_through_the_reads(provider):
    from cloudlet.services.ec2.fabric import Fabric
    from cloudlet.services.ec2.reads import Ec2Reads

    provider.fabric = Fabric()
    asked = []

    def rds(account, region, vpc_id, name):
        asked.append((account, region, vpc_id, name))
        return "10.0.3.9" if name.endswith(".rds.amazonaws.com") else None

    Ec2Reads(provider).add_names(rds)
    provider.fabric.add_names(lambda *args: 1 / 0)  # a failing callback is passed over
    assert provider.fabric.names("1", "us-east-1", "vpc-1", "db.x.us-east-1.rds.amazonaws.com"
                                 ) == "10.0.3.9"
    assert provider.fabric.names("1", "us-east-1", "vpc-1", "example.com") is None
    assert asked[0] == ("1", "us-east-1", "vpc-1", "db.x.us-east-1.rds.amazonaws.com")


def test_the_resolver_settings_follow_commits(tmp_path):
    provider = Ec2Provider(Store.open(tmp_path))
    vpc = call(provider, "CreateVpc", CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    settings = provider.fabric.dns_settings(vpc)
    assert (settings.enabled, settings.cidrs, settings.domains) == (
        True, ("10.0.0.0/16",), ("ec2.internal",))
    call(provider, "ModifyVpcAttribute", VpcId=vpc, EnableDnsSupport={"Value": False})
    assert not provider.fabric.dns_settings(vpc).enabled
    call(provider, "AssociateVpcCidrBlock", VpcId=vpc, CidrBlock="10.1.0.0/16")
    options = call(provider, "CreateDhcpOptions", DhcpConfigurations=[
        {"Key": "domain-name", "Values": ["corp.example"]}])["DhcpOptions"]["DhcpOptionsId"]
    call(provider, "AssociateDhcpOptions", VpcId=vpc, DhcpOptionsId=options)
    settings = provider.fabric.dns_settings(vpc)
    assert settings.cidrs == ("10.0.0.0/16", "10.1.0.0/16")
    assert settings.domains == ("ec2.internal", "corp.example")
    from cloudlet.services.ec2.errors import InvalidParameterValue

    with pytest.raises(InvalidParameterValue):  # refused: the committed settings stay
        call(provider, "ModifyVpcAttribute", VpcId=vpc, EnableDnsHostnames={"Value": True})
    assert provider.fabric.dns_settings(vpc) == settings
    call(provider, "DeleteVpc", VpcId=vpc)
    assert provider.fabric.dns_settings(vpc) is None
