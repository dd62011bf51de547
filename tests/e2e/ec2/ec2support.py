"""What the EC2 tests share beyond fixtures: emptying a VPC, reading tags."""

from __future__ import annotations


def empty_vpc(ec2, vpc_id: str) -> None:
    """Delete what a test made in a VPC, then the VPC."""
    by_vpc = [{"Name": "vpc-id", "Values": [vpc_id]}]
    for endpoint in ec2.describe_vpc_endpoints(Filters=by_vpc)["VpcEndpoints"]:
        ec2.delete_vpc_endpoints(VpcEndpointIds=[endpoint["VpcEndpointId"]])
    for nat in ec2.describe_nat_gateways(Filter=by_vpc)["NatGateways"]:
        if nat["State"] not in ("deleted", "deleting"):
            ec2.delete_nat_gateway(NatGatewayId=nat["NatGatewayId"])
    for eni in ec2.describe_network_interfaces(Filters=by_vpc)["NetworkInterfaces"]:
        if not eni["RequesterManaged"]:
            ec2.delete_network_interface(NetworkInterfaceId=eni["NetworkInterfaceId"])
    gateways = ec2.describe_internet_gateways(
        Filters=[{"Name": "attachment.vpc-id", "Values": [vpc_id]}])["InternetGateways"]
    for gateway in gateways:
        for address in ec2.describe_addresses()["Addresses"]:
            if address.get("AssociationId") and address.get("NetworkInterfaceId"):
                eni = ec2.describe_network_interfaces(
                    NetworkInterfaceIds=[address["NetworkInterfaceId"]])["NetworkInterfaces"]
                if eni and eni[0]["VpcId"] == vpc_id and not eni[0]["RequesterManaged"]:
                    ec2.disassociate_address(AssociationId=address["AssociationId"])
        ec2.detach_internet_gateway(InternetGatewayId=gateway["InternetGatewayId"], VpcId=vpc_id)
        ec2.delete_internet_gateway(InternetGatewayId=gateway["InternetGatewayId"])
    for gateway in ec2.describe_egress_only_internet_gateways()["EgressOnlyInternetGateways"]:
        if any(a["VpcId"] == vpc_id for a in gateway["Attachments"]):
            ec2.delete_egress_only_internet_gateway(
                EgressOnlyInternetGatewayId=gateway["EgressOnlyInternetGatewayId"])
    for subnet in ec2.describe_subnets(Filters=by_vpc)["Subnets"]:
        ec2.delete_subnet(SubnetId=subnet["SubnetId"])
    for table in ec2.describe_route_tables(Filters=by_vpc)["RouteTables"]:
        if not any(a["Main"] for a in table["Associations"]):
            for association in table["Associations"]:
                ec2.disassociate_route_table(AssociationId=association["RouteTableAssociationId"])
            ec2.delete_route_table(RouteTableId=table["RouteTableId"])
    for acl in ec2.describe_network_acls(Filters=by_vpc)["NetworkAcls"]:
        if not acl["IsDefault"]:
            ec2.delete_network_acl(NetworkAclId=acl["NetworkAclId"])
    groups = [g for g in ec2.describe_security_groups(Filters=by_vpc)["SecurityGroups"]
              if g["GroupName"] != "default"]
    for group in groups:  # references between groups first
        for direction, revoke in (("IpPermissions", ec2.revoke_security_group_ingress),
                                  ("IpPermissionsEgress", ec2.revoke_security_group_egress)):
            if group[direction]:
                revoke(GroupId=group["GroupId"], IpPermissions=group[direction])
    for group in groups:
        ec2.delete_security_group(GroupId=group["GroupId"])
    ec2.delete_vpc(VpcId=vpc_id)


def tags(resource: dict, member: str = "Tags") -> dict:
    return {t["Key"]: t["Value"] for t in resource.get(member, [])}
