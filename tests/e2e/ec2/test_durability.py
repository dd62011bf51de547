"""EC2's records survive kill -9, and a NAT gateway caught pending settles at the next start."""

from __future__ import annotations

import time


def test_records_survive_kill_9(fresh_cloudlet):
    server = fresh_cloudlet()
    ec2 = server.client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16", TagSpecifications=[
        {"ResourceType": "vpc", "Tags": [{"Key": "Name", "Value": "kept"}]}])["Vpc"]["VpcId"]
    igw = ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
    ec2.attach_internet_gateway(InternetGatewayId=igw, VpcId=vpc)
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.1.0/24")["Subnet"]["SubnetId"]
    group = ec2.create_security_group(GroupName="kept", Description="d", VpcId=vpc)["GroupId"]
    ec2.authorize_security_group_ingress(GroupId=group, IpPermissions=[
        {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "IpRanges": [{"CidrIp": "10.0.0.0/8"}]}])
    address = ec2.allocate_address(Domain="vpc")
    nat = ec2.create_nat_gateway(SubnetId=subnet, AllocationId=address["AllocationId"])[
        "NatGateway"]["NatGatewayId"]
    default_vpc = ec2.describe_vpcs(Filters=[{"Name": "is-default", "Values": ["true"]}])[
        "Vpcs"][0]["VpcId"]
    server.kill9()

    again = fresh_cloudlet()
    ec2 = again.client("ec2")
    found = ec2.describe_vpcs(Filters=[{"Name": "tag:Name", "Values": ["kept"]}])["Vpcs"]
    assert [v["VpcId"] for v in found] == [vpc]
    assert ec2.describe_vpcs(Filters=[{"Name": "is-default", "Values": ["true"]}])["Vpcs"][0][
        "VpcId"] == default_vpc  # not made a second time
    rules = ec2.describe_security_groups(GroupIds=[group])["SecurityGroups"][0]["IpPermissions"]
    assert rules[0]["FromPort"] == 22
    assert ec2.describe_addresses(AllocationIds=[address["AllocationId"]])["Addresses"][0][
        "PublicIp"] == address["PublicIp"]
    deadline = time.monotonic() + 10
    while ec2.describe_nat_gateways(NatGatewayIds=[nat])["NatGateways"][0]["State"] != \
            "available":
        assert time.monotonic() < deadline, "the NAT gateway never settled"
        time.sleep(0.1)
    other = ec2.allocate_address(Domain="vpc")
    assert other["PublicIp"] != address["PublicIp"]  # never handed out twice
