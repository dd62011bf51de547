"""Internet and egress-only gateways, Elastic IPs from the loopback range, and NAT
gateways through pending -> available -> deleting -> deleted."""

from __future__ import annotations

import ipaddress
import time

from harness import error_of, public_range_for


def wait_state(ec2, nat_id, state, timeout=10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = ec2.describe_nat_gateways(NatGatewayIds=[nat_id])["NatGateways"][0]
        if found["State"] == state:
            return found
        time.sleep(0.1)
    raise AssertionError(f"{nat_id} never became {state}: {found['State']}")


def test_internet_gateway_attach_detach(ec2, vpc):
    igw = ec2.create_internet_gateway(TagSpecifications=[{
        "ResourceType": "internet-gateway", "Tags": [{"Key": "Name", "Value": "edge"}]}])[
        "InternetGateway"]
    igw_id = igw["InternetGatewayId"]
    assert igw["Attachments"] == [] and igw["Tags"] == [{"Key": "Name", "Value": "edge"}]
    ec2.attach_internet_gateway(InternetGatewayId=igw_id, VpcId=vpc["VpcId"])
    found = ec2.describe_internet_gateways(Filters=[{"Name": "attachment.vpc-id",
                                                     "Values": [vpc["VpcId"]]}])
    assert found["InternetGateways"][0]["Attachments"] == [{"State": "available",
                                                            "VpcId": vpc["VpcId"]}]
    assert error_of(ec2.attach_internet_gateway, InternetGatewayId=igw_id,
                    VpcId=vpc["VpcId"])[0] == "Resource.AlreadyAssociated"
    assert error_of(ec2.delete_internet_gateway, InternetGatewayId=igw_id)[0] == \
        "DependencyViolation"
    ec2.detach_internet_gateway(InternetGatewayId=igw_id, VpcId=vpc["VpcId"])
    assert error_of(ec2.detach_internet_gateway, InternetGatewayId=igw_id,
                    VpcId=vpc["VpcId"])[0] == "Gateway.NotAttached"
    ec2.delete_internet_gateway(InternetGatewayId=igw_id)
    assert error_of(ec2.describe_internet_gateways, InternetGatewayIds=[igw_id])[0] == \
        "InvalidInternetGatewayID.NotFound"


def test_egress_only_gateway(ec2, vpc):
    made = ec2.create_egress_only_internet_gateway(VpcId=vpc["VpcId"])
    gateway = made["EgressOnlyInternetGateway"]
    assert gateway["EgressOnlyInternetGatewayId"].startswith("eigw-")
    assert gateway["Attachments"] == [{"State": "attached", "VpcId": vpc["VpcId"]}]
    ec2.delete_egress_only_internet_gateway(
        EgressOnlyInternetGatewayId=gateway["EgressOnlyInternetGatewayId"])


def test_elastic_ips_come_from_the_loopback_range_and_are_never_shared(cloudlet, ec2):
    first = ec2.allocate_address(Domain="vpc")
    second = ec2.allocate_address(Domain="vpc")
    for address in (first, second):  # the server's CLOUDLET_PUBLIC_RANGE, in 127.0.0.0/8
        assert ipaddress.IPv4Address(address["PublicIp"]) in ipaddress.IPv4Network(
            public_range_for(cloudlet.port))
        assert address["AllocationId"].startswith("eipalloc-") and address["Domain"] == "vpc"
    assert first["PublicIp"] != second["PublicIp"]
    found = ec2.describe_addresses(PublicIps=[first["PublicIp"]])["Addresses"]
    assert found[0]["AllocationId"] == first["AllocationId"]
    assert error_of(ec2.describe_addresses, PublicIps=["127.0.255.254"])[0] == \
        "InvalidAddress.NotFound"
    for address in (first, second):
        ec2.release_address(AllocationId=address["AllocationId"])
    assert error_of(ec2.release_address, AllocationId=first["AllocationId"])[0] == \
        "InvalidAllocationID.NotFound"


def test_associate_an_elastic_ip_with_an_interface(ec2, vpc):
    subnet = ec2.create_subnet(VpcId=vpc["VpcId"], CidrBlock="10.0.1.0/24")["Subnet"]["SubnetId"]
    eni = ec2.create_network_interface(SubnetId=subnet)["NetworkInterface"]
    address = ec2.allocate_address(Domain="vpc")
    assert error_of(ec2.associate_address, AllocationId=address["AllocationId"],
                    NetworkInterfaceId=eni["NetworkInterfaceId"])[0] == "Gateway.NotAttached"
    igw = ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
    ec2.attach_internet_gateway(InternetGatewayId=igw, VpcId=vpc["VpcId"])
    association = ec2.associate_address(AllocationId=address["AllocationId"],
                                        NetworkInterfaceId=eni["NetworkInterfaceId"])
    found = ec2.describe_addresses(AllocationIds=[address["AllocationId"]])["Addresses"][0]
    assert found["AssociationId"] == association["AssociationId"]
    assert found["PrivateIpAddress"] == eni["PrivateIpAddress"]
    shown = ec2.describe_network_interfaces(
        NetworkInterfaceIds=[eni["NetworkInterfaceId"]])["NetworkInterfaces"][0]
    assert shown["Association"]["PublicIp"] == address["PublicIp"]
    assert error_of(ec2.release_address, AllocationId=address["AllocationId"])[0] == \
        "InvalidIPAddress.InUse"
    assert error_of(ec2.detach_internet_gateway, InternetGatewayId=igw,
                    VpcId=vpc["VpcId"])[0] == "DependencyViolation"
    ec2.disassociate_address(AssociationId=association["AssociationId"])
    ec2.release_address(AllocationId=address["AllocationId"])


def test_nat_gateway_life(ec2, vpc):
    igw = ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
    ec2.attach_internet_gateway(InternetGatewayId=igw, VpcId=vpc["VpcId"])
    subnet = ec2.create_subnet(VpcId=vpc["VpcId"], CidrBlock="10.0.1.0/24")["Subnet"]
    address = ec2.allocate_address(Domain="vpc")
    nat = ec2.create_nat_gateway(SubnetId=subnet["SubnetId"],
                                 AllocationId=address["AllocationId"])["NatGateway"]
    assert nat["State"] == "pending" and nat["NatGatewayId"].startswith("nat-")
    available = wait_state(ec2, nat["NatGatewayId"], "available")
    item = available["NatGatewayAddresses"][0]
    assert (item["AllocationId"], item["PublicIp"], item["IsPrimary"]) == (
        address["AllocationId"], address["PublicIp"], True)
    assert item["PrivateIp"].startswith("10.0.1.")
    eni = ec2.describe_network_interfaces(NetworkInterfaceIds=[item["NetworkInterfaceId"]])[
        "NetworkInterfaces"][0]
    assert eni["InterfaceType"] == "nat_gateway" and eni["RequesterManaged"] is True
    left = ec2.describe_subnets(SubnetIds=[subnet["SubnetId"]])["Subnets"][0]
    assert left["AvailableIpAddressCount"] == 250
    table = ec2.create_route_table(VpcId=vpc["VpcId"])["RouteTable"]["RouteTableId"]
    ec2.create_route(RouteTableId=table, DestinationCidrBlock="0.0.0.0/0",
                     NatGatewayId=nat["NatGatewayId"])
    assert error_of(ec2.release_address, AllocationId=address["AllocationId"])[0] == \
        "InvalidIPAddress.InUse"
    assert ec2.delete_nat_gateway(NatGatewayId=nat["NatGatewayId"])["NatGatewayId"] == \
        nat["NatGatewayId"]
    wait_state(ec2, nat["NatGatewayId"], "deleted")
    routes = ec2.describe_route_tables(RouteTableIds=[table])["RouteTables"][0]["Routes"]
    assert next(r for r in routes if r.get("NatGatewayId"))["State"] == "blackhole"
    ec2.delete_route(RouteTableId=table, DestinationCidrBlock="0.0.0.0/0")
    ec2.release_address(AllocationId=address["AllocationId"])
    assert ec2.describe_network_interfaces(Filters=[
        {"Name": "subnet-id", "Values": [subnet["SubnetId"]]}])["NetworkInterfaces"] == []


def test_a_nat_gateway_without_an_internet_gateway_fails(ec2, vpc):
    subnet = ec2.create_subnet(VpcId=vpc["VpcId"], CidrBlock="10.0.2.0/24")["Subnet"]["SubnetId"]
    address = ec2.allocate_address(Domain="vpc")
    nat = ec2.create_nat_gateway(SubnetId=subnet, AllocationId=address["AllocationId"])
    found = ec2.describe_nat_gateways(NatGatewayIds=[nat["NatGateway"]["NatGatewayId"]])[
        "NatGateways"][0]
    assert (found["State"], found["FailureCode"]) == ("failed", "Gateway.NotAttached")
    ec2.delete_nat_gateway(NatGatewayId=found["NatGatewayId"])
    ec2.release_address(AllocationId=address["AllocationId"])
    assert error_of(ec2.create_nat_gateway, SubnetId=subnet,
                    AllocationId="eipalloc-0123456789abcdef0")[0] == "InvalidAllocationID.NotFound"
