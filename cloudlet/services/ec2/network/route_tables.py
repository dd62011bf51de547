"""Route tables: the main table of each VPC, Create/Describe/DeleteRouteTable,
Create/Replace/DeleteRoute (to an internet gateway, egress-only gateway, NAT gateway, ENI,
instance or gateway endpoint), Associate/Disassociate/ReplaceRouteTableAssociation.

A route's state is `active`, or `blackhole` once its target is gone (a NAT gateway
deleted, an internet gateway detached, an interface deleted), worked out when described.
"""

from __future__ import annotations

from cloudlet.services.ec2 import errors
from cloudlet.services.ec2.filters import declare
from cloudlet.services.ec2.ids import new_id, well_formed
from cloudlet.services.ec2.network import cidrs
from cloudlet.services.ec2.network.prefix_lists import check_prefix_list
from cloudlet.services.ec2.store import View

declare("route-table", {
    "association.gateway-id": "Associations.GatewayId",
    "association.route-table-association-id": "Associations.RouteTableAssociationId",
    "association.route-table-id": "Associations.RouteTableId",
    "association.subnet-id": "Associations.SubnetId",
    "association.main": lambda d: [a.get("Main", False) for a in d["Associations"]] or [False],
    "owner-id": "OwnerId",
    "route-table-id": "RouteTableId",
    "route.destination-cidr-block": "Routes.DestinationCidrBlock",
    "route.destination-ipv6-cidr-block": "Routes.DestinationIpv6CidrBlock",
    "route.destination-prefix-list-id": "Routes.DestinationPrefixListId",
    "route.egress-only-internet-gateway-id": "Routes.EgressOnlyInternetGatewayId",
    "route.gateway-id": "Routes.GatewayId",
    "route.instance-id": "Routes.InstanceId",
    "route.nat-gateway-id": "Routes.NatGatewayId",
    "route.transit-gateway-id": "Routes.TransitGatewayId",
    "route.origin": "Routes.Origin",
    "route.state": "Routes.State",
    "route.vpc-peering-connection-id": "Routes.VpcPeeringConnectionId",
    "vpc-id": "VpcId",
})

DESTINATIONS = ("DestinationCidrBlock", "DestinationIpv6CidrBlock", "DestinationPrefixListId")
# request member -> (the route's member, how AWS names it in its messages, the NotFound of
# targets Cloudlet does not have: peering connections, transit gateways, ...)
TARGETS = {
    "GatewayId": ("GatewayId", "gatewayId", None),
    "NatGatewayId": ("NatGatewayId", "natGatewayId", None),
    "NetworkInterfaceId": ("NetworkInterfaceId", "networkInterfaceId", None),
    "InstanceId": ("InstanceId", "instanceId", None),
    "EgressOnlyInternetGatewayId": ("EgressOnlyInternetGatewayId", "egressOnlyInternetGatewayId",
                                    None),
    "VpcEndpointId": ("GatewayId", "vpcEndpointId", None),
    "VpcPeeringConnectionId": ("VpcPeeringConnectionId", "vpcPeeringConnectionId",
                               errors.PeeringNotFound),
    "TransitGatewayId": ("TransitGatewayId", "transitGatewayId", errors.TransitGatewayNotFound),
    "LocalGatewayId": ("LocalGatewayId", "localGatewayId", errors.LocalGatewayNotFound),
    "CarrierGatewayId": ("CarrierGatewayId", "carrierGatewayId", errors.CarrierGatewayNotFound),
    "CoreNetworkArn": ("CoreNetworkArn", "coreNetworkArn", errors.CoreNetworkNotFound),
}


def local_routes(vpc: dict) -> list[dict]:
    routes = [{"DestinationCidrBlock": str(block), "GatewayId": "local",
               "Origin": "CreateRouteTable", "State": "active"}
              for block in cidrs.vpc_blocks(vpc)]
    routes += [{"DestinationIpv6CidrBlock": str(block), "GatewayId": "local",
                "Origin": "CreateRouteTable", "State": "active"}
               for block in cidrs.vpc_blocks6(vpc)]
    return routes


def new_table(view: View, vpc: dict) -> dict:
    return {"RouteTableId": new_id("rtb"), "VpcId": vpc["VpcId"], "OwnerId": view.account,
            "Routes": local_routes(vpc), "Associations": [], "PropagatingVgws": []}


def main_table(view: View, vpc: dict) -> dict:
    table = new_table(view, vpc)
    table["Associations"].append({
        "Main": True, "RouteTableAssociationId": new_id("rtbassoc"),
        "RouteTableId": table["RouteTableId"], "AssociationState": {"State": "associated"}})
    view.put("route-table", table)
    return table


def is_main(table: dict) -> bool:
    return any(a.get("Main") for a in table["Associations"])


def table_of_subnet(view: View, subnet: dict) -> dict | None:
    """The table a subnet's traffic follows: its explicit association, else the main one."""
    main = None
    for table in view.find("route-table", vpc_ids=[subnet["VpcId"]]):
        for association in table["Associations"]:
            if association.get("SubnetId") == subnet["SubnetId"]:
                return table
            if association.get("Main"):
                main = table
    return main


def route_key(route: dict) -> tuple:
    return tuple(route.get(d) for d in DESTINATIONS)


def refresh_local_routes(view: View, vpc: dict, fabric) -> None:
    """After a CIDR block is added or removed: each table's local routes follow."""
    for table in view.find("route-table", vpc_ids=[vpc["VpcId"]]):
        others = [r for r in table["Routes"] if r.get("GatewayId") != "local"]
        table["Routes"] = local_routes(vpc) + others
        view.put("route-table", table)
        fabric.route_table_changed(view, table)


def with_route_states(view: View, tables: list[dict]) -> list[dict]:
    """Each route `active`, or `blackhole` when its target is gone."""
    if not tables:
        return tables
    attached = {(a.get("VpcId"), g["InternetGatewayId"]) for g in view.find("internet-gateway")
                for a in g.get("Attachments") or [] if a.get("State") == "available"}
    attached |= {(a.get("VpcId"), g["EgressOnlyInternetGatewayId"])
                 for g in view.find("egress-only-internet-gateway")
                 for a in g.get("Attachments") or []}
    live_nat = {n["NatGatewayId"] for n in view.find("natgateway")
                if n["State"] in ("pending", "available")}
    enis = {e["NetworkInterfaceId"] for e in view.find("network-interface")}
    endpoints = {e["VpcEndpointId"] for e in view.find("vpc-endpoint")}
    for table in tables:
        vpc_id = table["VpcId"]
        for route in table["Routes"]:
            gateway = route.get("GatewayId") or route.get("EgressOnlyInternetGatewayId")
            if gateway == "local":
                alive = True
            elif gateway and gateway.startswith(("igw-", "eigw-")):
                alive = (vpc_id, gateway) in attached
            elif gateway and gateway.startswith("vpce-"):
                alive = gateway in endpoints
            elif route.get("NatGatewayId"):
                alive = route["NatGatewayId"] in live_nat
            elif route.get("NetworkInterfaceId"):
                alive = route["NetworkInterfaceId"] in enis
            else:
                alive = True
            route["State"] = "active" if alive else "blackhole"
    return tables


class RouteTableOperations:
    def create_route_table(self, ctx, params):
        with self.records.write(ctx.account_id, ctx.region) as view:
            vpc = self.require(view, "vpc", params.get("VpcId"))
            table = new_table(view, vpc)
            shown = self.created(view, "route-table", table, params)
            self.fabric.route_table_changed(view, table)
        return {"RouteTable": shown}

    def describe_route_tables(self, ctx, params):
        return self.describe(ctx, params, "route-table", "RouteTables",
                             ids_member="RouteTableIds", complete=with_route_states,
                             maximum=100)

    def delete_route_table(self, ctx, params):
        with self.records.write(ctx.account_id, ctx.region) as view:
            table = self.require(view, "route-table", params.get("RouteTableId"))
            if table["Associations"]:
                raise errors.DependencyViolation(
                    message=f"The routeTable '{table['RouteTableId']}' has dependencies and "
                            "cannot be deleted.")
            view.delete(table["RouteTableId"])
            self.fabric.route_table_deleted(view, table)
        return {}

    # -- routes --------------------------------------------------------------------------
    def _route(self, view: View, table: dict, params: dict) -> dict:
        """The route a CreateRoute or ReplaceRoute asks for, its target checked."""
        destinations = [d for d in DESTINATIONS if params.get(d)]
        if len(destinations) != 1:
            raise errors.MissingParameter(
                name="destinationCidrBlock, destinationIpv6CidrBlock or destinationPrefixListId"
            ) if not destinations else errors.InvalidParameterCombination(
                message="Only one of destinationCidrBlock, destinationIpv6CidrBlock and "
                        "destinationPrefixListId may be given.")
        destination = destinations[0]
        value = params[destination]
        route = {destination: value, "Origin": "CreateRoute", "State": "active"}
        if destination == "DestinationCidrBlock":
            net = cidrs.any_network(value)
            if net is None or net.version != 4:
                raise errors.InvalidRouteDestination(cidr=value)
            route[destination] = str(net)
        elif destination == "DestinationIpv6CidrBlock":
            route[destination] = str(cidrs.network6(value, "destinationIpv6CidrBlock"))
        else:
            check_prefix_list(value)
        targets = [t for t in TARGETS if params.get(t)]
        if len(targets) != 1:
            if not targets:
                raise errors.MissingParameter(
                    name="gatewayId, natGatewayId, networkInterfaceId, instanceId, "
                         "egressOnlyInternetGatewayId, vpcPeeringConnectionId or "
                         "transitGatewayId")
            raise errors.InvalidParameterCombination(
                message="More than one target specified: " + ", ".join(
                    TARGETS[t][1] for t in targets))
        target = targets[0]
        route.update(self._target(view, table, target, params[target]))
        net = cidrs.any_network(route.get("DestinationCidrBlock")
                                or route.get("DestinationIpv6CidrBlock") or "")
        vpc = view.get(table["VpcId"], "vpc")
        blocks = cidrs.vpc_blocks(vpc) + cidrs.vpc_blocks6(vpc)
        if net is not None and cidrs.inside(net, blocks) and "NetworkInterfaceId" not in route:
            raise errors.InvalidRouteLocal(cidr=value)
        return route

    def _target(self, view: View, table: dict, target: str, value: str) -> dict:
        member, _, unsupported = TARGETS[target]
        vpc_id = table["VpcId"]
        if unsupported is not None:
            raise unsupported(id=value)
        if target == "GatewayId" and value.startswith("igw-"):
            gateway = view.get(value, "internet-gateway")
            if gateway is None or not well_formed(value, "igw"):
                raise errors.GatewayNotFound(id=value)
            if not any(a.get("VpcId") == vpc_id for a in gateway["Attachments"]):
                raise errors.InvalidParameterValue(
                    message=f"route table {table['RouteTableId']} and network gateway {value} "
                            "belong to different networks")
            return {"GatewayId": value}
        if target in ("GatewayId", "VpcEndpointId") and value.startswith("vpce-"):
            view.require(value, "vpc-endpoint")
            return {"GatewayId": value}
        if target == "GatewayId":
            raise errors.GatewayNotFound(id=value)
        if target == "NatGatewayId":
            nat = view.get(value, "natgateway")
            if nat is None or nat["State"] in ("deleting", "deleted", "failed"):
                raise errors.NatGatewayNotFound(id=value)
            return {"NatGatewayId": value}
        if target == "EgressOnlyInternetGatewayId":
            view.require(value, "egress-only-internet-gateway")
            return {"EgressOnlyInternetGatewayId": value}
        if target == "NetworkInterfaceId":
            eni = view.require(value, "network-interface")
            if eni["VpcId"] != vpc_id:
                raise errors.InvalidParameterValue(
                    message=f"route table {table['RouteTableId']} and interface {value} belong "
                            "to different networks")
            found = {"NetworkInterfaceId": value}
            instance = (eni.get("Attachment") or {}).get("InstanceId")
            if instance:
                found.update(InstanceId=instance, InstanceOwnerId=view.account)
            return found
        if target == "InstanceId":
            raise errors.InvalidInstanceNotFound(id=value)
        return {member: value}

    def create_route(self, ctx, params):
        with self.records.write(ctx.account_id, ctx.region) as view:
            table = self.require(view, "route-table", params.get("RouteTableId"))
            route = self._route(view, table, params)
            key = route_key(route)
            if any(route_key(r) == key for r in table["Routes"]):
                shown = next(v for v in key if v)
                raise errors.RouteAlreadyExists(cidr=shown)
            table["Routes"].append(route)
            view.put("route-table", table)
            self.fabric.route_table_changed(view, table)
        return {"Return": True}

    def replace_route(self, ctx, params):
        with self.records.write(ctx.account_id, ctx.region) as view:
            table = self.require(view, "route-table", params.get("RouteTableId"))
            route = self._route(view, table, params)
            index = self._route_index(table, route)
            if table["Routes"][index].get("GatewayId") == "local":
                raise errors.CannotReplaceLocal(cidr=next(v for v in route_key(route) if v),
                                                table=table["RouteTableId"])
            route["Origin"] = "CreateRoute"
            table["Routes"][index] = route
            view.put("route-table", table)
            self.fabric.route_table_changed(view, table)
        return {}

    def delete_route(self, ctx, params):
        with self.records.write(ctx.account_id, ctx.region) as view:
            table = self.require(view, "route-table", params.get("RouteTableId"))
            wanted = {d: params[d] for d in DESTINATIONS if params.get(d)}
            if "DestinationCidrBlock" in wanted:
                net = cidrs.any_network(wanted["DestinationCidrBlock"])
                wanted["DestinationCidrBlock"] = str(net) if net else wanted["DestinationCidrBlock"]
            index = self._route_index(table, wanted)
            if table["Routes"][index].get("GatewayId") == "local":
                raise errors.CannotReplaceLocal(cidr=next(iter(wanted.values())),
                                                table=table["RouteTableId"])
            del table["Routes"][index]
            view.put("route-table", table)
            self.fabric.route_table_changed(view, table)
        return {}

    @staticmethod
    def _route_index(table: dict, route: dict) -> int:
        key = route_key(route)
        for index, existing in enumerate(table["Routes"]):
            if route_key(existing) == key:
                return index
        raise errors.RouteNotFound(cidr=next((v for v in key if v), ""),
                                   table=table["RouteTableId"])

    # -- associations --------------------------------------------------------------------
    def associate_route_table(self, ctx, params):
        with self.records.write(ctx.account_id, ctx.region) as view:
            table = self.require(view, "route-table", params.get("RouteTableId"))
            association = {"Main": False, "RouteTableAssociationId": new_id("rtbassoc"),
                           "RouteTableId": table["RouteTableId"],
                           "AssociationState": {"State": "associated"}}
            if params.get("SubnetId"):
                subnet = self.require(view, "subnet", params["SubnetId"])
                if subnet["VpcId"] != table["VpcId"]:
                    raise errors.InvalidParameterValue(
                        message=f"Route table {table['RouteTableId']} and subnet "
                                f"{subnet['SubnetId']} belong to different networks.")
                for other in view.find("route-table", vpc_ids=[table["VpcId"]]):
                    if any(a.get("SubnetId") == subnet["SubnetId"] for a in other["Associations"]):
                        raise errors.AssociationConflict(table=table["RouteTableId"])
                association["SubnetId"] = subnet["SubnetId"]
            elif params.get("GatewayId"):
                gateway = self.require(view, "internet-gateway", params["GatewayId"])
                association["GatewayId"] = gateway["InternetGatewayId"]
            else:
                raise errors.MissingParameter(name="subnetId")
            table["Associations"].append(association)
            view.put("route-table", table)
            self.fabric.route_table_changed(view, table)
        return {"AssociationId": association["RouteTableAssociationId"],
                "AssociationState": association["AssociationState"]}

    def _association(self, view: View, association_id) -> tuple[dict, dict]:
        if not well_formed(association_id, "rtbassoc"):
            raise errors.AssociationMalformed(id=association_id)
        for table in view.find("route-table"):
            for association in table["Associations"]:
                if association["RouteTableAssociationId"] == association_id:
                    return table, association
        raise errors.AssociationNotFound(id=association_id)

    def disassociate_route_table(self, ctx, params):
        with self.records.write(ctx.account_id, ctx.region) as view:
            table, association = self._association(view, params.get("AssociationId"))
            if association.get("Main"):
                raise errors.InvalidParameterValue(
                    message=f"cannot disassociate the main route table association "
                            f"{association['RouteTableAssociationId']}")
            table["Associations"].remove(association)
            view.put("route-table", table)
            self.fabric.route_table_changed(view, table)
        return {}

    def replace_route_table_association(self, ctx, params):
        with self.records.write(ctx.account_id, ctx.region) as view:
            old, association = self._association(view, params.get("AssociationId"))
            new = self.require(view, "route-table", params.get("RouteTableId"))
            if new["VpcId"] != old["VpcId"]:
                raise errors.InvalidParameterValue(
                    message=f"Route table {new['RouteTableId']} belongs to another network.")
            old["Associations"].remove(association)
            replacement = {**association, "RouteTableAssociationId": new_id("rtbassoc"),
                           "RouteTableId": new["RouteTableId"]}
            view.put("route-table", old)
            if new["RouteTableId"] == old["RouteTableId"]:
                new = old
            new["Associations"].append(replacement)
            view.put("route-table", new)
            self.fabric.route_table_changed(view, old)
            self.fabric.route_table_changed(view, new)
        return {"NewAssociationId": replacement["RouteTableAssociationId"],
                "AssociationState": replacement["AssociationState"]}
