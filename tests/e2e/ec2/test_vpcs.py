"""VPCs: create, describe, attributes, CIDR blocks, delete, and AWS's errors for each."""

from __future__ import annotations

import pytest
from ec2support import empty_vpc, tags
from harness import error_of, send_signed


def test_create_vpc_comes_with_its_main_table_acl_and_group(ec2):
    vpc = ec2.create_vpc(CidrBlock="10.1.0.0/16", TagSpecifications=[
        {"ResourceType": "vpc", "Tags": [{"Key": "Name", "Value": "app"}]}])["Vpc"]
    try:
        assert vpc["VpcId"].startswith("vpc-") and len(vpc["VpcId"]) == 21
        assert vpc["CidrBlock"] == "10.1.0.0/16" and vpc["IsDefault"] is False
        assert vpc["CidrBlockAssociationSet"][0]["CidrBlockState"]["State"] == "associated"
        assert vpc["DhcpOptionsId"].startswith("dopt-")
        assert tags(vpc) == {"Name": "app"}
        by_vpc = [{"Name": "vpc-id", "Values": [vpc["VpcId"]]}]
        tables = ec2.describe_route_tables(Filters=by_vpc)["RouteTables"]
        assert len(tables) == 1 and tables[0]["Associations"][0]["Main"] is True
        assert tables[0]["Routes"] == [{"DestinationCidrBlock": "10.1.0.0/16",
                                        "GatewayId": "local", "Origin": "CreateRouteTable",
                                        "State": "active"}]
        acls = ec2.describe_network_acls(Filters=by_vpc)["NetworkAcls"]
        assert len(acls) == 1 and acls[0]["IsDefault"] is True
        groups = ec2.describe_security_groups(Filters=by_vpc)["SecurityGroups"]
        assert [g["GroupName"] for g in groups] == ["default"]
        found = ec2.describe_vpcs(VpcIds=[vpc["VpcId"]])["Vpcs"]
        assert found[0]["VpcId"] == vpc["VpcId"] and tags(found[0]) == {"Name": "app"}
    finally:
        empty_vpc(ec2, vpc["VpcId"])
    assert error_of(ec2.describe_vpcs, VpcIds=[vpc["VpcId"]])[:2] == ("InvalidVpcID.NotFound", 400)


@pytest.mark.parametrize("cidr", ["10.0.0.0/15", "10.0.0.0/29", "10.0.0.0/8"])
def test_a_vpc_must_be_16_to_28(ec2, cidr):
    code, status, message = error_of(ec2.create_vpc, CidrBlock=cidr)
    assert (code, status, message) == ("InvalidVpc.Range", 400, f"The CIDR '{cidr}' is invalid.")


def test_a_bad_cidr_is_an_invalid_parameter_value(ec2):
    code, _, message = error_of(ec2.create_vpc, CidrBlock="10.0.0.1/16")
    assert code == "InvalidParameterValue" and "10.0.0.1/16" in message
    assert error_of(ec2.create_vpc, CidrBlock="banana")[0] == "InvalidParameterValue"


def test_malformed_and_unknown_ids(ec2):
    assert error_of(ec2.describe_vpcs, VpcIds=["vpc-xyz"])[0] == "InvalidVpcID.Malformed"
    code, _, message = error_of(ec2.describe_vpcs, VpcIds=["vpc-0123456789abcdef0"])
    assert (code, message) == ("InvalidVpcID.NotFound",
                               "The vpc ID 'vpc-0123456789abcdef0' does not exist")
    assert error_of(ec2.delete_vpc, VpcId="vpc-0123456789abcdef0")[0] == "InvalidVpcID.NotFound"


def test_deleting_a_vpc_in_use_is_a_dependency_violation(ec2, vpc):
    ec2.create_subnet(VpcId=vpc["VpcId"], CidrBlock="10.0.1.0/24")
    code, status, message = error_of(ec2.delete_vpc, VpcId=vpc["VpcId"])
    assert (code, status) == ("DependencyViolation", 400)
    assert message == f"The vpc '{vpc['VpcId']}' has dependencies and cannot be deleted."


def test_an_attached_gateway_or_a_group_keeps_the_vpc(ec2, vpc):
    gateway = ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
    ec2.attach_internet_gateway(InternetGatewayId=gateway, VpcId=vpc["VpcId"])
    assert error_of(ec2.delete_vpc, VpcId=vpc["VpcId"])[0] == "DependencyViolation"
    ec2.detach_internet_gateway(InternetGatewayId=gateway, VpcId=vpc["VpcId"])
    ec2.delete_internet_gateway(InternetGatewayId=gateway)
    group = ec2.create_security_group(GroupName="g", Description="d", VpcId=vpc["VpcId"])
    assert error_of(ec2.delete_vpc, VpcId=vpc["VpcId"])[0] == "DependencyViolation"
    ec2.delete_security_group(GroupId=group["GroupId"])


def test_dns_attributes(ec2, vpc):
    vpc_id = vpc["VpcId"]
    support = ec2.describe_vpc_attribute(VpcId=vpc_id, Attribute="enableDnsSupport")
    assert support["EnableDnsSupport"] == {"Value": True}
    hostnames = ec2.describe_vpc_attribute(VpcId=vpc_id, Attribute="enableDnsHostnames")
    assert hostnames["EnableDnsHostnames"] == {"Value": False}
    ec2.modify_vpc_attribute(VpcId=vpc_id, EnableDnsHostnames={"Value": True})
    assert ec2.describe_vpc_attribute(VpcId=vpc_id, Attribute="enableDnsHostnames")[
        "EnableDnsHostnames"] == {"Value": True}


def test_secondary_cidr_blocks(ec2, vpc):
    vpc_id = vpc["VpcId"]
    added = ec2.associate_vpc_cidr_block(VpcId=vpc_id, CidrBlock="10.2.0.0/16")
    association = added["CidrBlockAssociation"]
    assert association["CidrBlock"] == "10.2.0.0/16"
    found = ec2.describe_vpcs(Filters=[{"Name": "cidr-block-association.cidr-block",
                                        "Values": ["10.2.0.0/16"]}])["Vpcs"]
    assert [v["VpcId"] for v in found] == [vpc_id]
    ec2.create_subnet(VpcId=vpc_id, CidrBlock="10.2.5.0/24")
    assert error_of(ec2.associate_vpc_cidr_block, VpcId=vpc_id,
                    CidrBlock="10.2.0.0/20")[0] == "InvalidVpc.CidrConflict"
    primary = vpc["CidrBlockAssociationSet"][0]["AssociationId"]
    assert error_of(ec2.disassociate_vpc_cidr_block,
                    AssociationId=primary)[0] == "InvalidParameterValue"


def test_an_unknown_filter_is_refused(ec2):
    code, _, message = error_of(ec2.describe_vpcs, Filters=[{"Name": "colour", "Values": ["x"]}])
    assert (code, message) == ("InvalidParameterValue", "The filter 'colour' is invalid")


def test_the_error_document_is_ec2s(cloudlet):
    reply = send_signed(cloudlet.endpoint, "ec2",
                        "Action=DescribeVpcs&Version=2016-11-15&VpcId.1=vpc-0123456789abcdef0",
                        {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"})
    assert reply.status_code == 400
    request_id = reply.headers["x-amzn-RequestId"]
    assert reply.text == (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        "<Response><Errors><Error><Code>InvalidVpcID.NotFound</Code><Message>The vpc ID "
        "'vpc-0123456789abcdef0' does not exist</Message></Error></Errors>"
        f"<RequestID>{request_id}</RequestID></Response>")
