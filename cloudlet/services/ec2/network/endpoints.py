"""VPC endpoints: Gateway endpoints for S3 and DynamoDB (a route to the service's managed
prefix list in each chosen route table) and Interface endpoints for Cloudlet's services (an
interface in each chosen subnet). Create/Describe/Modify/DeleteVpcEndpoints,
DescribeVpcEndpointServices."""

from __future__ import annotations

import hashlib
import json

from cloudlet import clock
from cloudlet.services.ec2 import errors
from cloudlet.services.ec2.filters import INVALID_FILTER_CODE, Filters, declare
from cloudlet.services.ec2.ids import new_id
from cloudlet.services.ec2.network.interfaces import new_interface, remove_interface
from cloudlet.services.ec2.network.place import zones
from cloudlet.services.ec2.network.prefix_lists import by_service_name
from cloudlet.services.ec2.store import View

# Cloudlet's services that an Interface endpoint can front (their endpoint prefixes).
INTERFACE_SERVICES = ("s3", "sts", "ec2", "rds", "lambda", "logs", "monitoring", "sns",
                      "scheduler", "iam")
GATEWAY_SERVICES = ("s3", "dynamodb")
FULL_ACCESS = json.dumps({"Version": "2008-10-17", "Statement": [
    {"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"}]})

declare("vpc-endpoint", {
    "ip-address-type": "IpAddressType", "service-name": "ServiceName",
    "vpc-id": "VpcId", "vpc-endpoint-id": "VpcEndpointId",
    "vpc-endpoint-state": "State", "vpc-endpoint-type": "VpcEndpointType",
})
declare("vpc-endpoint-service", {
    "service-name": "ServiceName", "service-type": "ServiceType.ServiceType",
    "service-region": "ServiceRegion", "owner": "Owner",
})
INVALID_FILTER_CODE.add("vpc-endpoint-service")


def service_short_name(name: str, region: str) -> str | None:
    prefix = f"com.amazonaws.{region}."
    return name[len(prefix):] if name.startswith(prefix) else None


def service_details(region: str) -> list[dict]:
    details = []
    names = sorted(set(INTERFACE_SERVICES) | set(GATEWAY_SERVICES))
    for short in names:
        name = f"com.amazonaws.{region}.{short}"
        types = [t for t, known in (("Interface", INTERFACE_SERVICES),
                                    ("Gateway", GATEWAY_SERVICES)) if short in known]
        for kind in types:
            details.append({
                "ServiceName": name,
                "ServiceId": "vpce-svc-" + hashlib.sha1(f"{name}/{kind}".encode()).hexdigest()[:17],
                "ServiceType": [{"ServiceType": kind}], "ServiceRegion": region,
                "AvailabilityZones": [z[0] for z in zones(region)], "Owner": "amazon",
                "BaseEndpointDnsNames": [f"{short}.{region}.vpce.amazonaws.com"],
                "PrivateDnsName": f"{short}.{region}.amazonaws.com" if kind == "Interface"
                else None,
                "VpcEndpointPolicySupported": True, "AcceptanceRequired": False,
                "ManagesVpcEndpoints": False, "SupportedIpAddressTypes": ["ipv4"]})
    return details


class EndpointOperations:
    def _gateway_routes(self, view: View, endpoint: dict, table_ids: list[str], add: bool):
        prefix_list = by_service_name(endpoint["ServiceName"], view.region)
        for table_id in table_ids:
            table = self.require(view, "route-table", table_id)
            if table["VpcId"] != endpoint["VpcId"]:
                raise errors.InvalidParameterValue(
                    message=f"route table {table_id} does not belong to {endpoint['VpcId']}")
            routes = [r for r in table["Routes"] if r.get("GatewayId") != endpoint["VpcEndpointId"]]
            if add:
                if any(r.get("DestinationPrefixListId") == prefix_list.id for r in routes):
                    raise errors.PrefixListRouteExists(table=table_id,
                                                       prefix_list=prefix_list.id)
                routes.append({"DestinationPrefixListId": prefix_list.id,
                               "GatewayId": endpoint["VpcEndpointId"], "Origin": "CreateRoute",
                               "State": "active"})
            table["Routes"] = routes
            view.put("route-table", table)
            self.fabric.route_table_changed(view, table)

    def _interfaces(self, view: View, endpoint: dict, subnet_ids: list[str]) -> None:
        for subnet_id in subnet_ids:
            subnet = self.require(view, "subnet", subnet_id)
            if subnet["VpcId"] != endpoint["VpcId"]:
                raise errors.InvalidParameterValue(
                    message=f"subnet {subnet_id} does not belong to {endpoint['VpcId']}")
            eni = new_interface(view, subnet, interface_type="vpc_endpoint",
                                requester_managed=True, groups=endpoint["_groups"],
                                description=f"VPC Endpoint Interface {endpoint['VpcEndpointId']}")
            endpoint["NetworkInterfaceIds"].append(eni["NetworkInterfaceId"])
            endpoint["SubnetIds"].append(subnet_id)
            self.fabric.interface_changed(view, eni)

    def create_vpc_endpoint(self, ctx, params):
        kind = params.get("VpcEndpointType") or "Gateway"
        name = params.get("ServiceName") or ""
        short = service_short_name(name, ctx.region)
        if kind not in ("Gateway", "Interface") or short not in (
                GATEWAY_SERVICES if kind == "Gateway" else INTERFACE_SERVICES):
            raise errors.ServiceNotFound(name=name)
        with self.records.write(ctx.account_id, ctx.region) as view:
            vpc = self.require(view, "vpc", params.get("VpcId"))
            id = new_id("vpce")
            groups = params.get("SecurityGroupIds")
            endpoint = {
                "VpcEndpointId": id, "VpcEndpointType": kind, "VpcId": vpc["VpcId"],
                "ServiceName": name, "State": "available",
                "PolicyDocument": params.get("PolicyDocument") or FULL_ACCESS,
                "RouteTableIds": [], "SubnetIds": [], "Groups": [], "NetworkInterfaceIds": [],
                "DnsEntries": [], "PrivateDnsEnabled": False, "RequesterManaged": False,
                "CreationTimestamp": float(int(clock.timestamp())), "OwnerId": ctx.account_id,
                "IpAddressType": params.get("IpAddressType") or "ipv4",
                "_groups": groups,
            }
            if kind == "Gateway":
                endpoint["RouteTableIds"] = list(params.get("RouteTableIds") or [])
                self._gateway_routes(view, endpoint, endpoint["RouteTableIds"], add=True)
            else:
                from cloudlet.services.ec2.network.interfaces import group_refs

                refs = group_refs(view, vpc["VpcId"], groups)
                endpoint["Groups"] = refs
                endpoint["_groups"] = [g["GroupId"] for g in refs]
                endpoint["PrivateDnsEnabled"] = params.get("PrivateDnsEnabled", True)
                endpoint["DnsOptions"] = {"DnsRecordIpType": "ipv4"}
                self._interfaces(view, endpoint, params.get("SubnetIds") or [])
                endpoint["DnsEntries"] = [{"DnsName": f"{id}.{short}.{ctx.region}.vpce."
                                                      "amazonaws.com",
                                           "HostedZoneId": "Z7HUB22UULQXV"}]
            shown = self.created(view, "vpc-endpoint", endpoint, params)
            self.fabric.endpoint_changed(view, endpoint)
        return {"VpcEndpoint": shown, "ClientToken": params.get("ClientToken")}

    def describe_vpc_endpoints(self, ctx, params):
        return self.describe(ctx, params, "vpc-endpoint", "VpcEndpoints",
                             ids_member="VpcEndpointIds")

    def modify_vpc_endpoint(self, ctx, params):
        with self.records.write(ctx.account_id, ctx.region) as view:
            endpoint = self.require(view, "vpc-endpoint", params.get("VpcEndpointId"))
            if endpoint["VpcEndpointType"] == "Gateway":
                added = params.get("AddRouteTableIds") or []
                removed = params.get("RemoveRouteTableIds") or []
                self._gateway_routes(view, endpoint, removed, add=False)
                self._gateway_routes(view, endpoint, added, add=True)
                endpoint["RouteTableIds"] = [t for t in endpoint["RouteTableIds"]
                                             if t not in removed] + added
            else:
                if params.get("AddSecurityGroupIds") or params.get("RemoveSecurityGroupIds"):
                    from cloudlet.services.ec2.network.interfaces import group_refs

                    ids = [g for g in endpoint["_groups"]
                           if g not in (params.get("RemoveSecurityGroupIds") or [])]
                    ids += params.get("AddSecurityGroupIds") or []
                    endpoint["Groups"] = group_refs(view, endpoint["VpcId"], ids)
                    endpoint["_groups"] = ids
                self._interfaces(view, endpoint, params.get("AddSubnetIds") or [])
                for subnet_id in params.get("RemoveSubnetIds") or []:
                    self._drop_interface(view, endpoint, subnet_id)
                if params.get("PrivateDnsEnabled") is not None:
                    endpoint["PrivateDnsEnabled"] = params["PrivateDnsEnabled"]
            if params.get("ResetPolicy"):
                endpoint["PolicyDocument"] = FULL_ACCESS
            elif params.get("PolicyDocument"):
                endpoint["PolicyDocument"] = params["PolicyDocument"]
            view.put("vpc-endpoint", endpoint)
            self.fabric.endpoint_changed(view, endpoint)
        return {"Return": True}

    def _drop_interface(self, view: View, endpoint: dict, subnet_id: str) -> None:
        for eni_id in list(endpoint["NetworkInterfaceIds"]):
            eni = view.get(eni_id, "network-interface")
            if eni is not None and eni["SubnetId"] == subnet_id:
                remove_interface(view, eni)
                self.fabric.interface_deleted(view, eni)
                endpoint["NetworkInterfaceIds"].remove(eni_id)
        endpoint["SubnetIds"] = [s for s in endpoint["SubnetIds"] if s != subnet_id]

    def delete_vpc_endpoints(self, ctx, params):
        unsuccessful = []
        with self.records.write(ctx.account_id, ctx.region) as view:
            for id in params.get("VpcEndpointIds") or []:
                endpoint = view.get(id, "vpc-endpoint")
                if endpoint is None:
                    unsuccessful.append({"ResourceId": id, "Error": {
                        "Code": "InvalidVpcEndpoint.NotFound",
                        "Message": f"The Vpc Endpoint Id '{id}' does not exist"}})
                    continue
                if endpoint["VpcEndpointType"] == "Gateway":
                    self._gateway_routes(view, endpoint, [
                        t for t in endpoint["RouteTableIds"] if view.get(t, "route-table")],
                        add=False)
                for subnet_id in list(endpoint["SubnetIds"]):
                    self._drop_interface(view, endpoint, subnet_id)
                view.delete(id)
                self.fabric.endpoint_deleted(view, endpoint)
        return {"Unsuccessful": unsuccessful}

    def describe_vpc_endpoint_services(self, ctx, params):
        filters = Filters.compile("vpc-endpoint-service", params.get("Filters"))
        wanted = params.get("ServiceNames")
        details = [d for d in service_details(ctx.region)
                   if (not wanted or d["ServiceName"] in wanted) and filters.matches(d)]
        for name in wanted or []:
            if not any(d["ServiceName"] == name for d in details):
                raise errors.ServiceNotFound(name=name)
        names = sorted({d["ServiceName"] for d in details})
        return {"ServiceNames": names,
                "ServiceDetails": [{k: v for k, v in d.items() if v is not None}
                                   for d in details]}
