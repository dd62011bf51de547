"""Route tables, routes, associations and network ACLs."""

from __future__ import annotations

from harness import error_of


def igw_for(ec2, vpc):
    igw = ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
    ec2.attach_internet_gateway(InternetGatewayId=igw, VpcId=vpc["VpcId"])
    return igw


def test_a_public_route_table(ec2, vpc):
    igw = igw_for(ec2, vpc)
    subnet = ec2.create_subnet(VpcId=vpc["VpcId"], CidrBlock="10.0.1.0/24")["Subnet"]["SubnetId"]
    table = ec2.create_route_table(VpcId=vpc["VpcId"])["RouteTable"]
    assert table["Associations"] == [] and table["Routes"][0]["GatewayId"] == "local"
    table_id = table["RouteTableId"]
    ec2.create_route(RouteTableId=table_id, DestinationCidrBlock="0.0.0.0/0", GatewayId=igw)
    association = ec2.associate_route_table(RouteTableId=table_id, SubnetId=subnet)
    assert association["AssociationState"] == {"State": "associated"}
    found = ec2.describe_route_tables(Filters=[{"Name": "association.subnet-id",
                                                "Values": [subnet]}])["RouteTables"]
    assert [t["RouteTableId"] for t in found] == [table_id]
    assert {"DestinationCidrBlock": "0.0.0.0/0", "GatewayId": igw, "Origin": "CreateRoute",
            "State": "active"} in found[0]["Routes"]
    main = ec2.describe_route_tables(Filters=[{"Name": "vpc-id", "Values": [vpc["VpcId"]]},
                                              {"Name": "association.main", "Values": ["true"]}])
    assert len(main["RouteTables"]) == 1 and main["RouteTables"][0]["RouteTableId"] != table_id
    assert error_of(ec2.create_route, RouteTableId=table_id, DestinationCidrBlock="0.0.0.0/0",
                    GatewayId=igw)[0] == "RouteAlreadyExists"
    assert error_of(ec2.delete_route_table, RouteTableId=table_id)[0] == "DependencyViolation"
    assert error_of(ec2.associate_route_table, RouteTableId=table_id,
                    SubnetId=subnet)[0] == "Resource.AlreadyAssociated"
    ec2.disassociate_route_table(AssociationId=association["AssociationId"])
    ec2.delete_route(RouteTableId=table_id, DestinationCidrBlock="0.0.0.0/0")
    ec2.delete_route_table(RouteTableId=table_id)


def test_route_errors(ec2, vpc):
    table = ec2.create_route_table(VpcId=vpc["VpcId"])["RouteTable"]["RouteTableId"]
    assert error_of(ec2.create_route, RouteTableId=table, DestinationCidrBlock="0.0.0.0/0",
                    GatewayId="igw-0123456789abcdef0")[0] == "InvalidGatewayID.NotFound"
    assert error_of(ec2.create_route, RouteTableId=table, DestinationCidrBlock="0.0.0.0/0",
                    NatGatewayId="nat-0123456789abcdef0")[0] == "NatGatewayNotFound"
    assert error_of(ec2.create_route, RouteTableId=table, DestinationCidrBlock="0.0.0.0/0",
                    InstanceId="i-0123456789abcdef0")[0] == "InvalidInstanceID.NotFound"
    detached = ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
    assert error_of(ec2.create_route, RouteTableId=table, DestinationCidrBlock="0.0.0.0/0",
                    GatewayId=detached)[0] == "InvalidParameterValue"
    ec2.delete_internet_gateway(InternetGatewayId=detached)
    code, _, message = error_of(ec2.delete_route, RouteTableId=table,
                                DestinationCidrBlock="10.0.0.0/16")
    assert code == "InvalidParameterValue" and "local route" in message
    assert error_of(ec2.delete_route, RouteTableId=table,
                    DestinationCidrBlock="192.0.2.0/24")[0] == "InvalidRoute.NotFound"
    assert error_of(ec2.describe_route_tables, RouteTableIds=["rtb-0123456789abcdef0"])[0] == \
        "InvalidRouteTableID.NotFound"


def test_a_route_to_a_gone_target_is_a_blackhole(ec2, vpc):
    igw = igw_for(ec2, vpc)
    table = ec2.create_route_table(VpcId=vpc["VpcId"])["RouteTable"]["RouteTableId"]
    ec2.create_route(RouteTableId=table, DestinationCidrBlock="0.0.0.0/0", GatewayId=igw)
    ec2.detach_internet_gateway(InternetGatewayId=igw, VpcId=vpc["VpcId"])
    routes = ec2.describe_route_tables(RouteTableIds=[table])["RouteTables"][0]["Routes"]
    assert next(r for r in routes if r["DestinationCidrBlock"] == "0.0.0.0/0")["State"] == \
        "blackhole"
    by_state = ec2.describe_route_tables(Filters=[{"Name": "route.state",
                                                   "Values": ["blackhole"]}])["RouteTables"]
    assert table in [t["RouteTableId"] for t in by_state]
    ec2.delete_route(RouteTableId=table, DestinationCidrBlock="0.0.0.0/0")
    ec2.delete_internet_gateway(InternetGatewayId=igw)


def test_replace_the_main_association(ec2, vpc):
    by_vpc = [{"Name": "vpc-id", "Values": [vpc["VpcId"]]}]
    main = ec2.describe_route_tables(Filters=by_vpc)["RouteTables"][0]
    association = main["Associations"][0]["RouteTableAssociationId"]
    other = ec2.create_route_table(VpcId=vpc["VpcId"])["RouteTable"]["RouteTableId"]
    new = ec2.replace_route_table_association(AssociationId=association, RouteTableId=other)
    tables = {t["RouteTableId"]: t for t in ec2.describe_route_tables(Filters=by_vpc)["RouteTables"]}
    assert tables[other]["Associations"][0]["Main"] is True
    assert tables[main["RouteTableId"]]["Associations"] == []
    ec2.replace_route_table_association(AssociationId=new["NewAssociationId"],
                                        RouteTableId=main["RouteTableId"])
    ec2.delete_route_table(RouteTableId=other)


def test_network_acls(ec2, vpc):
    subnet = ec2.create_subnet(VpcId=vpc["VpcId"], CidrBlock="10.0.1.0/24")["Subnet"]["SubnetId"]
    acl = ec2.create_network_acl(VpcId=vpc["VpcId"])["NetworkAcl"]
    acl_id = acl["NetworkAclId"]
    assert acl["IsDefault"] is False and acl["Associations"] == []
    assert {(e["RuleNumber"], e["Egress"], e["RuleAction"]) for e in acl["Entries"]} == {
        (32767, True, "deny"), (32767, False, "deny")}
    ec2.create_network_acl_entry(NetworkAclId=acl_id, RuleNumber=100, Protocol="6",
                                 RuleAction="allow", Egress=False, CidrBlock="0.0.0.0/0",
                                 PortRange={"From": 443, "To": 443})
    ec2.create_network_acl_entry(NetworkAclId=acl_id, RuleNumber=110, Protocol="6",
                                 RuleAction="allow", Egress=True, CidrBlock="0.0.0.0/0",
                                 PortRange={"From": 1024, "To": 65535})
    assert error_of(ec2.create_network_acl_entry, NetworkAclId=acl_id, RuleNumber=100,
                    Protocol="-1", RuleAction="deny", Egress=False,
                    CidrBlock="0.0.0.0/0")[0] == "NetworkAclEntryAlreadyExists"
    assert error_of(ec2.create_network_acl_entry, NetworkAclId=acl_id, RuleNumber=40000,
                    Protocol="-1", RuleAction="deny", Egress=False,
                    CidrBlock="0.0.0.0/0")[0] == "InvalidParameterValue"
    ec2.replace_network_acl_entry(NetworkAclId=acl_id, RuleNumber=100, Protocol="6",
                                  RuleAction="allow", Egress=False, CidrBlock="10.0.0.0/8",
                                  PortRange={"From": 443, "To": 443})
    found = ec2.describe_network_acls(NetworkAclIds=[acl_id])["NetworkAcls"][0]
    entry = next(e for e in found["Entries"] if e["RuleNumber"] == 100)
    assert entry["CidrBlock"] == "10.0.0.0/8" and entry["PortRange"] == {"From": 443, "To": 443}
    default = ec2.describe_network_acls(Filters=[{"Name": "association.subnet-id",
                                                  "Values": [subnet]}])["NetworkAcls"][0]
    association = next(a for a in default["Associations"] if a["SubnetId"] == subnet)
    new = ec2.replace_network_acl_association(
        AssociationId=association["NetworkAclAssociationId"], NetworkAclId=acl_id)
    assert new["NewAssociationId"].startswith("aclassoc-")
    assert error_of(ec2.delete_network_acl, NetworkAclId=acl_id)[0] == "DependencyViolation"
    assert error_of(ec2.delete_network_acl,
                    NetworkAclId=default["NetworkAclId"])[0] == "InvalidParameterValue"
    ec2.replace_network_acl_association(AssociationId=new["NewAssociationId"],
                                        NetworkAclId=default["NetworkAclId"])
    ec2.delete_network_acl_entry(NetworkAclId=acl_id, RuleNumber=100, Egress=False)
    ec2.delete_network_acl(NetworkAclId=acl_id)
