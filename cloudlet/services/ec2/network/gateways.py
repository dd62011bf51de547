"""Gateways: internet gateways (create, attach, detach, delete), egress-only internet
gateways, and NAT gateways (public, in a subnet, with an Elastic IP; states pending ->
available -> deleting -> deleted, a deleted one listed for an hour, as on AWS)."""

from __future__ import annotations

import datetime as dt

from cloudlet import clock
from cloudlet.services.ec2 import errors
from cloudlet.services.ec2.filters import declare
from cloudlet.services.ec2.ids import new_id
from cloudlet.services.ec2.network.addresses import associate, attached_gateway, disassociate
from cloudlet.services.ec2.network.interfaces import new_interface, remove_interface
from cloudlet.services.ec2.store import View

NAT_SETTLE = 0.5  # seconds in `pending` and in `deleting`
DELETED_KEPT = 3600.0

declare("internet-gateway", {
    "attachment.state": "Attachments.State", "attachment.vpc-id": "Attachments.VpcId",
    "internet-gateway-id": "InternetGatewayId", "owner-id": "OwnerId",
})
declare("egress-only-internet-gateway", {
    "egress-only-internet-gateway-id": "EgressOnlyInternetGatewayId",
})
declare("natgateway", {
    "nat-gateway-id": "NatGatewayId", "state": "State", "subnet-id": "SubnetId",
    "vpc-id": "VpcId",
})


def _now() -> float:
    """Timestamps are kept as epoch seconds; the codec writes them in ISO 8601."""
    return float(int(clock.timestamp()))


class GatewayOperations:
    # -- internet gateways -------------------------------------------------------------
    def create_internet_gateway(self, ctx, params):
        gateway = {"InternetGatewayId": new_id("igw"), "OwnerId": ctx.account_id,
                   "Attachments": []}
        with self.records.write(ctx.account_id, ctx.region) as view:
            shown = self.created(view, "internet-gateway", gateway, params)
            self.fabric.gateway_changed(view, "internet-gateway", gateway)
        return {"InternetGateway": shown}

    def describe_internet_gateways(self, ctx, params):
        return self.describe(ctx, params, "internet-gateway", "InternetGateways",
                             ids_member="InternetGatewayIds")

    def attach_internet_gateway(self, ctx, params):
        with self.records.write(ctx.account_id, ctx.region) as view:
            gateway = self.require(view, "internet-gateway", params.get("InternetGatewayId"))
            vpc = self.require(view, "vpc", params.get("VpcId"))
            if gateway["Attachments"]:
                raise errors.ResourceAlreadyAssociated(
                    id=gateway["InternetGatewayId"], vpc=gateway["Attachments"][0]["VpcId"])
            if attached_gateway(view, vpc["VpcId"]) is not None:
                raise errors.VpcHasGateway(vpc=vpc["VpcId"])
            gateway["Attachments"] = [{"State": "available", "VpcId": vpc["VpcId"]}]
            view.put("internet-gateway", gateway)
            self.fabric.gateway_changed(view, "internet-gateway", gateway)
        return {}

    def detach_internet_gateway(self, ctx, params):
        with self.records.write(ctx.account_id, ctx.region) as view:
            gateway = self.require(view, "internet-gateway", params.get("InternetGatewayId"))
            vpc = self.require(view, "vpc", params.get("VpcId"))
            vpc_id = vpc["VpcId"]
            if not any(a["VpcId"] == vpc_id for a in gateway["Attachments"]):
                raise errors.GatewayNotAttached(id=gateway["InternetGatewayId"], vpc=vpc_id)
            if self._mapped_public_addresses(view, vpc_id):
                raise errors.DependencyViolation(
                    message=f"Network {vpc_id} has some mapped public address(es). Please "
                            "unmap those public address(es) before detaching the gateway.")
            gateway["Attachments"] = []
            view.put("internet-gateway", gateway)
            self.fabric.gateway_changed(view, "internet-gateway", gateway)
        return {}

    @staticmethod
    def _mapped_public_addresses(view: View, vpc_id: str) -> bool:
        return any(eni.get("Association", {}).get("PublicIp")
                   for eni in view.find("network-interface", vpc_ids=[vpc_id]))

    def delete_internet_gateway(self, ctx, params):
        with self.records.write(ctx.account_id, ctx.region) as view:
            gateway = self.require(view, "internet-gateway", params.get("InternetGatewayId"))
            if gateway["Attachments"]:
                raise errors.DependencyViolation(
                    message=f"The internetGateway '{gateway['InternetGatewayId']}' has "
                            "dependencies and cannot be deleted.")
            view.delete(gateway["InternetGatewayId"])
            self.fabric.gateway_deleted(view, "internet-gateway", gateway)
        return {}

    # -- egress-only internet gateways ---------------------------------------------------
    def create_egress_only_internet_gateway(self, ctx, params):
        with self.records.write(ctx.account_id, ctx.region) as view:
            vpc = self.require(view, "vpc", params.get("VpcId"))
            gateway = {"EgressOnlyInternetGatewayId": new_id("eigw"),
                       "Attachments": [{"State": "attached", "VpcId": vpc["VpcId"]}]}
            shown = self.created(view, "egress-only-internet-gateway", gateway, params)
            self.fabric.gateway_changed(view, "egress-only-internet-gateway", gateway)
        return {"EgressOnlyInternetGateway": shown, "ClientToken": params.get("ClientToken")}

    def describe_egress_only_internet_gateways(self, ctx, params):
        return self.describe(ctx, params, "egress-only-internet-gateway",
                             "EgressOnlyInternetGateways",
                             ids_member="EgressOnlyInternetGatewayIds", maximum=255)

    def delete_egress_only_internet_gateway(self, ctx, params):
        with self.records.write(ctx.account_id, ctx.region) as view:
            gateway = self.require(view, "egress-only-internet-gateway",
                                   params.get("EgressOnlyInternetGatewayId"))
            view.delete(gateway["EgressOnlyInternetGatewayId"])
            self.fabric.gateway_deleted(view, "egress-only-internet-gateway", gateway)
        return {"ReturnCode": True}

    # -- NAT gateways --------------------------------------------------------------------
    def create_nat_gateway(self, ctx, params):
        connectivity = params.get("ConnectivityType") or "public"
        with self.records.write(ctx.account_id, ctx.region) as view:
            subnet = self.require(view, "subnet", params.get("SubnetId"))
            address = None
            if connectivity == "public":
                if not params.get("AllocationId"):
                    raise errors.MissingParameter(name="AllocationId")
                address = self.require(view, "elastic-ip", params["AllocationId"])
                if address.get("AssociationId"):
                    raise errors.AddressAlreadyAssociated(id=address["AllocationId"])
            nat_id = new_id("nat")
            eni = new_interface(view, subnet, description=f"Interface for NAT Gateway {nat_id}",
                                interface_type="nat_gateway", requester_managed=True,
                                private_ip=params.get("PrivateIpAddress"), groups=[])
            gateway = {"NatGatewayId": nat_id, "SubnetId": subnet["SubnetId"],
                       "VpcId": subnet["VpcId"], "ConnectivityType": connectivity,
                       "CreateTime": _now(), "State": "pending",
                       "NatGatewayAddresses": [{
                           "NetworkInterfaceId": eni["NetworkInterfaceId"],
                           "PrivateIp": eni["PrivateIpAddress"], "IsPrimary": True,
                           "Status": "succeeded"}]}
            if address is not None:
                association = associate(view, address, eni)
                gateway["NatGatewayAddresses"][0].update(
                    AllocationId=address["AllocationId"], PublicIp=address["PublicIp"],
                    AssociationId=association)
                if attached_gateway(view, subnet["VpcId"]) is None:
                    gateway.update(State="failed", FailureCode="Gateway.NotAttached",
                                   FailureMessage=f"Network {subnet['VpcId']} has no Internet "
                                                  "gateway attached")
            shown = self.created(view, "natgateway", gateway, params)
            self.fabric.interface_changed(view, eni)
            self.fabric.gateway_changed(view, "natgateway", gateway)
        if gateway["State"] == "pending":
            self.later(NAT_SETTLE, self._nat_settled, ctx.account_id, ctx.region, nat_id)
        return {"NatGateway": shown, "ClientToken": params.get("ClientToken")}

    def _nat_settled(self, account: str, region: str, nat_id: str) -> None:
        """pending -> available, deleting -> deleted (its interface and address let go)."""
        with self.records.write(account, region) as view:
            gateway = view.get(nat_id, "natgateway")
            if gateway is None:
                return
            if gateway["State"] == "pending":
                gateway["State"] = "available"
            elif gateway["State"] == "deleting":
                self._release_nat(view, gateway)
                gateway.update(State="deleted", DeleteTime=_now())
            else:
                return
            view.put("natgateway", gateway)
            self.fabric.gateway_changed(view, "natgateway", gateway)

    def _release_nat(self, view: View, gateway: dict) -> None:
        for item in gateway["NatGatewayAddresses"]:
            if item.get("AllocationId"):
                address = view.get(item["AllocationId"], "elastic-ip")
                if address is not None and address.get("AssociationId"):
                    disassociate(view, address)
                    self.fabric.address_changed(view, address)
            eni = view.get(item.get("NetworkInterfaceId") or "", "network-interface")
            if eni is not None:
                remove_interface(view, eni)
                self.fabric.interface_deleted(view, eni)

    def describe_nat_gateways(self, ctx, params):
        horizon = clock.timestamp() - DELETED_KEPT

        def recent(view, docs):
            return [d for d in docs if d["State"] != "deleted"
                    or _timestamp(d.get("DeleteTime")) > horizon]

        return self.describe(ctx, {**params, "Filters": params.get("Filter")}, "natgateway",
                             "NatGateways", ids_member="NatGatewayIds", complete=recent)

    def delete_nat_gateway(self, ctx, params):
        with self.records.write(ctx.account_id, ctx.region) as view:
            gateway = self.require(view, "natgateway", params.get("NatGatewayId"))
            if gateway["State"] in ("deleted", "deleting"):
                return {"NatGatewayId": gateway["NatGatewayId"]}
            if gateway["State"] == "failed":
                self._release_nat(view, gateway)
                gateway.update(State="deleted", DeleteTime=_now())
            else:
                gateway["State"] = "deleting"
            view.put("natgateway", gateway)
            self.fabric.gateway_deleted(view, "natgateway", gateway)
        if gateway["State"] == "deleting":
            self.later(NAT_SETTLE, self._nat_settled, ctx.account_id, ctx.region,
                       gateway["NatGatewayId"])
        return {"NatGatewayId": gateway["NatGatewayId"]}

    def resume_nat_gateways(self) -> None:
        """At start: settle what was pending or deleting when Cloudlet stopped."""
        for account, region in self.records.places():
            for gateway in self.records.read(account, region).find("natgateway"):
                if gateway["State"] in ("pending", "deleting"):
                    self._nat_settled(account, region, gateway["NatGatewayId"])


def _timestamp(value) -> float:
    if isinstance(value, dt.datetime):
        return value.timestamp()
    if isinstance(value, str):
        return dt.datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
    return float(value or 0)

