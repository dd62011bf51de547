"""Subnets: ranges, conflicts, zones, AWS's five reserved addresses, attributes."""

from __future__ import annotations

import pytest
from harness import error_of


def test_create_subnet_in_a_zone_by_id(ec2, vpc):
    subnet = ec2.create_subnet(VpcId=vpc["VpcId"], CidrBlock="10.0.1.0/24",
                               AvailabilityZoneId="use1-az2")["Subnet"]
    assert subnet["AvailabilityZone"] == "us-east-1b" and subnet["AvailabilityZoneId"] == "use1-az2"
    assert subnet["AvailableIpAddressCount"] == 251  # 256 less AWS's 5 reserved
    assert subnet["MapPublicIpOnLaunch"] is False and subnet["DefaultForAz"] is False
    assert subnet["SubnetArn"].endswith(f":subnet/{subnet['SubnetId']}")
    small = ec2.create_subnet(VpcId=vpc["VpcId"], CidrBlock="10.0.2.0/28",
                              AvailabilityZone="us-east-1a")["Subnet"]
    assert small["AvailableIpAddressCount"] == 11
    acl = ec2.describe_network_acls(Filters=[{"Name": "association.subnet-id",
                                              "Values": [subnet["SubnetId"]]}])["NetworkAcls"]
    assert acl[0]["IsDefault"] is True


@pytest.mark.parametrize("cidr", ["10.1.0.0/24", "10.0.0.0/15", "10.0.0.0/29", "10.0.0.0/16"])
def test_out_of_range_subnets(ec2, vpc, cidr):
    if cidr == "10.0.0.0/16":  # the whole VPC is allowed: it is within, and /16
        subnet = ec2.create_subnet(VpcId=vpc["VpcId"], CidrBlock=cidr)["Subnet"]
        ec2.delete_subnet(SubnetId=subnet["SubnetId"])
        return
    code, status, message = error_of(ec2.create_subnet, VpcId=vpc["VpcId"], CidrBlock=cidr)
    assert (code, status, message) == ("InvalidSubnet.Range", 400, f"The CIDR '{cidr}' is invalid.")


def test_overlapping_subnets_conflict(ec2, vpc):
    ec2.create_subnet(VpcId=vpc["VpcId"], CidrBlock="10.0.1.0/24")
    for cidr in ("10.0.1.0/24", "10.0.1.128/25", "10.0.0.0/23"):
        code, _, message = error_of(ec2.create_subnet, VpcId=vpc["VpcId"], CidrBlock=cidr)
        assert (code, message) == ("InvalidSubnet.Conflict",
                                   f"The CIDR '{cidr}' conflicts with another subnet")


def test_unknown_zone_and_vpc(ec2, vpc):
    code, _, message = error_of(ec2.create_subnet, VpcId=vpc["VpcId"], CidrBlock="10.0.3.0/24",
                                AvailabilityZone="us-east-1z")
    assert code == "InvalidAvailabilityZone" and "us-east-1a" in message
    assert error_of(ec2.create_subnet, VpcId="vpc-0123456789abcdef0",
                    CidrBlock="10.0.3.0/24")[0] == "InvalidVpcID.NotFound"
    assert error_of(ec2.describe_subnets, SubnetIds=["subnet-nope"])[0] == \
        "InvalidSubnetID.Malformed"


def test_map_public_ip_on_launch(ec2, vpc):
    subnet = ec2.create_subnet(VpcId=vpc["VpcId"], CidrBlock="10.0.4.0/24")["Subnet"]
    ec2.modify_subnet_attribute(SubnetId=subnet["SubnetId"], MapPublicIpOnLaunch={"Value": True})
    found = ec2.describe_subnets(Filters=[{"Name": "map-public-ip-on-launch", "Values": ["true"]},
                                          {"Name": "vpc-id", "Values": [vpc["VpcId"]]}])
    assert [s["SubnetId"] for s in found["Subnets"]] == [subnet["SubnetId"]]


def test_delete_subnet(ec2, vpc):
    subnet = ec2.create_subnet(VpcId=vpc["VpcId"], CidrBlock="10.0.5.0/24")["Subnet"]
    eni = ec2.create_network_interface(SubnetId=subnet["SubnetId"])["NetworkInterface"]
    code, _, message = error_of(ec2.delete_subnet, SubnetId=subnet["SubnetId"])
    assert code == "DependencyViolation" and subnet["SubnetId"] in message
    ec2.delete_network_interface(NetworkInterfaceId=eni["NetworkInterfaceId"])
    ec2.delete_subnet(SubnetId=subnet["SubnetId"])
    assert error_of(ec2.describe_subnets, SubnetIds=[subnet["SubnetId"]])[0] == \
        "InvalidSubnetID.NotFound"


def test_ipv6_blocks(ec2):
    from ec2support import empty_vpc

    vpc = ec2.create_vpc(CidrBlock="10.3.0.0/16", AmazonProvidedIpv6CidrBlock=True)["Vpc"]
    try:
        block = vpc["Ipv6CidrBlockAssociationSet"][0]["Ipv6CidrBlock"]
        assert block.endswith("/56")
        subnet = ec2.create_subnet(VpcId=vpc["VpcId"], CidrBlock="10.3.1.0/24")["Subnet"]
        first64 = block.replace("00::/56", "00::/64")
        added = ec2.associate_subnet_cidr_block(SubnetId=subnet["SubnetId"],
                                                Ipv6CidrBlock=first64)
        association = added["Ipv6CidrBlockAssociation"]
        assert association["Ipv6CidrBlockState"] == {"State": "associated"}
        groups = ec2.get_security_groups_for_vpc(VpcId=vpc["VpcId"])["SecurityGroupForVpcs"]
        default = next(g for g in groups if g["GroupName"] == "default")
        egress = ec2.describe_security_groups(GroupIds=[default["GroupId"]])[
            "SecurityGroups"][0]["IpPermissionsEgress"][0]
        assert egress["Ipv6Ranges"] == [{"CidrIpv6": "::/0"}]  # an IPv6 VPC's default group
        ec2.disassociate_subnet_cidr_block(AssociationId=association["AssociationId"])
    finally:
        empty_vpc(ec2, vpc["VpcId"])
