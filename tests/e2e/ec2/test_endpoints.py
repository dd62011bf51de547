"""VPC endpoints (an S3 gateway endpoint's prefix-list route; interface endpoints' ENIs),
managed prefix lists, DHCP options and flow logs."""

from __future__ import annotations

from harness import error_of

S3 = "com.amazonaws.us-east-1.s3"


def test_an_s3_gateway_endpoint_adds_a_prefix_list_route(ec2, vpc):
    table = ec2.create_route_table(VpcId=vpc["VpcId"])["RouteTable"]["RouteTableId"]
    endpoint = ec2.create_vpc_endpoint(VpcId=vpc["VpcId"], ServiceName=S3,
                                       RouteTableIds=[table])["VpcEndpoint"]
    assert endpoint["VpcEndpointType"] == "Gateway" and endpoint["State"] == "available"
    assert endpoint["RouteTableIds"] == [table]
    routes = ec2.describe_route_tables(RouteTableIds=[table])["RouteTables"][0]["Routes"]
    assert {"DestinationPrefixListId": "pl-63a5400a", "GatewayId": endpoint["VpcEndpointId"],
            "Origin": "CreateRoute", "State": "active"} in routes
    lists = ec2.describe_prefix_lists(PrefixListIds=["pl-63a5400a"])["PrefixLists"]
    assert lists == [{"PrefixListId": "pl-63a5400a", "PrefixListName": S3,
                      "Cidrs": ["198.19.0.0/24"]}]
    entries = ec2.get_managed_prefix_list_entries(PrefixListId="pl-02cd2c6b")["Entries"]
    assert entries == [{"Cidr": "198.19.1.0/24"}]
    found = ec2.describe_vpc_endpoints(Filters=[{"Name": "service-name", "Values": [S3]},
                                                {"Name": "vpc-id", "Values": [vpc["VpcId"]]}])
    assert [e["VpcEndpointId"] for e in found["VpcEndpoints"]] == [endpoint["VpcEndpointId"]]
    ec2.delete_vpc_endpoints(VpcEndpointIds=[endpoint["VpcEndpointId"]])
    routes = ec2.describe_route_tables(RouteTableIds=[table])["RouteTables"][0]["Routes"]
    assert [r["GatewayId"] for r in routes] == ["local"]
    gone = ec2.delete_vpc_endpoints(VpcEndpointIds=[endpoint["VpcEndpointId"]])
    assert gone["Unsuccessful"][0]["ResourceId"] == endpoint["VpcEndpointId"]


def test_an_interface_endpoint_has_an_interface_per_subnet(ec2, vpc):
    subnet = ec2.create_subnet(VpcId=vpc["VpcId"], CidrBlock="10.0.1.0/24")["Subnet"]["SubnetId"]
    endpoint = ec2.create_vpc_endpoint(VpcId=vpc["VpcId"], VpcEndpointType="Interface",
                                       ServiceName="com.amazonaws.us-east-1.sts",
                                       SubnetIds=[subnet])["VpcEndpoint"]
    assert len(endpoint["NetworkInterfaceIds"]) == 1 and endpoint["PrivateDnsEnabled"] is True
    eni = ec2.describe_network_interfaces(NetworkInterfaceIds=endpoint["NetworkInterfaceIds"])[
        "NetworkInterfaces"][0]
    assert eni["InterfaceType"] == "vpc_endpoint" and eni["SubnetId"] == subnet
    ec2.delete_vpc_endpoints(VpcEndpointIds=[endpoint["VpcEndpointId"]])
    assert error_of(ec2.create_vpc_endpoint, VpcId=vpc["VpcId"],
                    ServiceName="com.amazonaws.us-east-1.nothing")[0] == "InvalidServiceName"
    services = ec2.describe_vpc_endpoint_services(ServiceNames=[S3])["ServiceDetails"]
    assert {s["ServiceType"][0]["ServiceType"] for s in services} == {"Gateway", "Interface"}
    assert error_of(ec2.describe_vpc_endpoint_services,
                    Filters=[{"Name": "vpc-id", "Values": ["x"]}])[0] == "InvalidFilter"


def test_dhcp_options(ec2, vpc):
    options = ec2.create_dhcp_options(DhcpConfigurations=[
        {"Key": "domain-name", "Values": ["corp.example"]},
        {"Key": "domain-name-servers", "Values": ["10.0.0.2"]}])["DhcpOptions"]
    options_id = options["DhcpOptionsId"]
    ec2.associate_dhcp_options(DhcpOptionsId=options_id, VpcId=vpc["VpcId"])
    assert ec2.describe_vpcs(VpcIds=[vpc["VpcId"]])["Vpcs"][0]["DhcpOptionsId"] == options_id
    assert error_of(ec2.delete_dhcp_options, DhcpOptionsId=options_id)[0] == "DependencyViolation"
    found = ec2.describe_dhcp_options(Filters=[{"Name": "value", "Values": ["corp.example"]}])
    assert options_id in [o["DhcpOptionsId"] for o in found["DhcpOptions"]]
    ec2.associate_dhcp_options(DhcpOptionsId="default", VpcId=vpc["VpcId"])
    ec2.delete_dhcp_options(DhcpOptionsId=options_id)


def test_flow_logs_are_kept(ec2, vpc):
    made = ec2.create_flow_logs(ResourceIds=[vpc["VpcId"], "vpc-0123456789abcdef0"],
                                ResourceType="VPC", TrafficType="ALL", LogGroupName="vpc-flows",
                                DeliverLogsPermissionArn="arn:aws:iam::000000000000:role/flows")
    assert len(made["FlowLogIds"]) == 1
    assert made["Unsuccessful"][0]["Error"]["Code"] == "InvalidVpcID.NotFound"
    flow_log = ec2.describe_flow_logs(FlowLogIds=made["FlowLogIds"])["FlowLogs"][0]
    assert (flow_log["ResourceId"], flow_log["LogGroupName"], flow_log["FlowLogStatus"]) == (
        vpc["VpcId"], "vpc-flows", "ACTIVE")
    assert flow_log["LogFormat"].startswith("${version} ${account-id} ${interface-id}")
    again = ec2.create_flow_logs(ResourceIds=[vpc["VpcId"]], ResourceType="VPC",
                                 TrafficType="ALL", LogGroupName="vpc-flows",
                                 DeliverLogsPermissionArn="arn:aws:iam::000000000000:role/flows")
    assert again["Unsuccessful"][0]["Error"]["Code"] == "FlowLogAlreadyExists"
    ec2.delete_flow_logs(FlowLogIds=made["FlowLogIds"])
    assert ec2.describe_flow_logs(FlowLogIds=made["FlowLogIds"])["FlowLogs"] == []
