"""The default VPC, item by item as AWS makes it, in a new account (so no other test has
touched it)."""

from __future__ import annotations

from harness import error_of

ZONES = ["us-east-1a", "us-east-1b", "us-east-1c", "us-east-1d", "us-east-1e", "us-east-1f"]


def test_the_default_vpc_item_by_item(fresh_account):
    ec2 = fresh_account()
    vpcs = ec2.describe_vpcs()["Vpcs"]
    assert len(vpcs) == 1
    vpc = vpcs[0]
    vpc_id = vpc["VpcId"]
    assert vpc["CidrBlock"] == "172.31.0.0/16" and vpc["IsDefault"] is True
    assert vpc["State"] == "available" and vpc["InstanceTenancy"] == "default"
    for attribute, member in (("enableDnsSupport", "EnableDnsSupport"),
                              ("enableDnsHostnames", "EnableDnsHostnames")):
        assert ec2.describe_vpc_attribute(VpcId=vpc_id, Attribute=attribute)[member] == {
            "Value": True}

    subnets = sorted(ec2.describe_subnets()["Subnets"], key=lambda s: s["AvailabilityZone"])
    assert [s["AvailabilityZone"] for s in subnets] == ZONES
    assert sorted(s["CidrBlock"] for s in subnets) == sorted(
        f"172.31.{16 * i}.0/20" for i in range(6))
    for subnet in subnets:
        assert subnet["VpcId"] == vpc_id
        assert subnet["AvailableIpAddressCount"] == 4091
        assert subnet["MapPublicIpOnLaunch"] is True and subnet["DefaultForAz"] is True
        assert subnet["AvailabilityZoneId"].startswith("use1-az")

    gateways = ec2.describe_internet_gateways()["InternetGateways"]
    assert len(gateways) == 1
    igw = gateways[0]["InternetGatewayId"]
    assert gateways[0]["Attachments"] == [{"State": "available", "VpcId": vpc_id}]

    tables = ec2.describe_route_tables()["RouteTables"]
    assert len(tables) == 1 and tables[0]["Associations"][0]["Main"] is True
    routes = {(r["DestinationCidrBlock"], r["GatewayId"], r["State"]) for r in tables[0]["Routes"]}
    assert routes == {("172.31.0.0/16", "local", "active"), ("0.0.0.0/0", igw, "active")}

    group = ec2.describe_security_groups()["SecurityGroups"]
    assert len(group) == 1
    group = group[0]
    assert (group["GroupName"], group["Description"]) == ("default", "default VPC security group")
    assert group["IpPermissions"] == [{
        "IpProtocol": "-1", "IpRanges": [], "Ipv6Ranges": [], "PrefixListIds": [],
        "UserIdGroupPairs": [{"GroupId": group["GroupId"], "UserId": group["OwnerId"]}]}]
    assert group["IpPermissionsEgress"] == [{
        "IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/0"}], "Ipv6Ranges": [],
        "PrefixListIds": [], "UserIdGroupPairs": []}]

    acl = ec2.describe_network_acls()["NetworkAcls"]
    assert len(acl) == 1 and acl[0]["IsDefault"] is True
    entries = {(e["RuleNumber"], e["Egress"], e["RuleAction"], e["Protocol"], e["CidrBlock"])
               for e in acl[0]["Entries"]}
    assert entries == {(100, True, "allow", "-1", "0.0.0.0/0"),
                       (32767, True, "deny", "-1", "0.0.0.0/0"),
                       (100, False, "allow", "-1", "0.0.0.0/0"),
                       (32767, False, "deny", "-1", "0.0.0.0/0")}
    assert {a["SubnetId"] for a in acl[0]["Associations"]} == {s["SubnetId"] for s in subnets}

    options = ec2.describe_dhcp_options(DhcpOptionsIds=[vpc["DhcpOptionsId"]])["DhcpOptions"][0]
    assert {c["Key"]: [v["Value"] for v in c["Values"]]
            for c in options["DhcpConfigurations"]} == {
        "domain-name": ["ec2.internal"], "domain-name-servers": ["AmazonProvidedDNS"]}

    attributes = ec2.describe_account_attributes(AttributeNames=["default-vpc"])
    assert attributes["AccountAttributes"][0]["AttributeValues"] == [{"AttributeValue": vpc_id}]


def test_other_regions_have_their_own(fresh_account):
    ec2 = fresh_account(region="eu-west-1")
    vpc = ec2.describe_vpcs()["Vpcs"][0]
    assert vpc["CidrBlock"] == "172.31.0.0/16"
    zones = ec2.describe_availability_zones()["AvailabilityZones"]
    assert [(z["ZoneName"], z["ZoneId"]) for z in zones] == [
        ("eu-west-1a", "euw1-az1"), ("eu-west-1b", "euw1-az2"), ("eu-west-1c", "euw1-az3")]
    assert len(ec2.describe_subnets()["Subnets"]) == 3
    options = ec2.describe_dhcp_options()["DhcpOptions"][0]["DhcpConfigurations"]
    assert {"Key": "domain-name", "Values": [{"Value": "eu-west-1.compute.internal"}]} in options


def test_delete_then_create_default_vpc(fresh_account):
    ec2 = fresh_account()
    vpc_id = ec2.describe_vpcs()["Vpcs"][0]["VpcId"]
    assert error_of(ec2.create_default_vpc)[0] == "DefaultVpcAlreadyExists"
    for subnet in ec2.describe_subnets()["Subnets"]:
        ec2.delete_subnet(SubnetId=subnet["SubnetId"])
    igw = ec2.describe_internet_gateways()["InternetGateways"][0]["InternetGatewayId"]
    ec2.detach_internet_gateway(InternetGatewayId=igw, VpcId=vpc_id)
    ec2.delete_internet_gateway(InternetGatewayId=igw)
    ec2.delete_vpc(VpcId=vpc_id)
    assert ec2.describe_vpcs()["Vpcs"] == []
    assert error_of(ec2.create_default_subnet, AvailabilityZone="us-east-1a")[0] == \
        "DefaultVpcDoesNotExist"
    attributes = ec2.describe_account_attributes(AttributeNames=["default-vpc"])
    assert attributes["AccountAttributes"][0]["AttributeValues"] == [{"AttributeValue": "none"}]
    again = ec2.create_default_vpc()["Vpc"]
    assert again["IsDefault"] is True and again["CidrBlock"] == "172.31.0.0/16"
    assert len(ec2.describe_subnets()["Subnets"]) == 6
    subnet = ec2.describe_subnets(Filters=[{"Name": "availability-zone",
                                            "Values": ["us-east-1a"]}])["Subnets"][0]
    ec2.delete_subnet(SubnetId=subnet["SubnetId"])
    made = ec2.create_default_subnet(AvailabilityZone="us-east-1a")["Subnet"]
    assert made["DefaultForAz"] is True and made["CidrBlock"].endswith("/20")
    assert error_of(ec2.create_default_subnet, AvailabilityZone="us-east-1a")[0] == \
        "DefaultSubnetAlreadyExistsInAvailabilityZone"


def test_regions_and_zones(ec2):
    regions = [r["RegionName"] for r in ec2.describe_regions()["Regions"]]
    assert "us-east-1" in regions and "eu-west-1" in regions
    one = ec2.describe_regions(RegionNames=["us-west-2"])["Regions"]
    assert one == [{"RegionName": "us-west-2", "Endpoint": "ec2.us-west-2.amazonaws.com",
                    "OptInStatus": "opt-in-not-required"}]
    zones = ec2.describe_availability_zones(ZoneIds=["use1-az4"])["AvailabilityZones"]
    assert [z["ZoneName"] for z in zones] == ["us-east-1c"]
    assert zones[0]["State"] == "available" and zones[0]["RegionName"] == "us-east-1"
