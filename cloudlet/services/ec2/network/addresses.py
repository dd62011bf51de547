"""Elastic IPs: AllocateAddress, AssociateAddress, DisassociateAddress, ReleaseAddress,
DescribeAddresses, DescribeAddressesAttribute.

Public addresses come from a loopback range (CLOUDLET_PUBLIC_RANGE, 127.100.0.0/16 by
default), so they can never leave the machine; `ec2_public_ips` holds each one for a single
owner, across accounts, until it is released."""

from __future__ import annotations

import ipaddress

from cloudlet.config import public_range
from cloudlet.services.ec2 import errors
from cloudlet.services.ec2.filters import declare
from cloudlet.services.ec2.ids import new_id
from cloudlet.services.ec2.store import View

declare("elastic-ip", {
    "allocation-id": "AllocationId", "association-id": "AssociationId", "domain": "Domain",
    "instance-id": "InstanceId", "network-border-group": "NetworkBorderGroup",
    "network-interface-id": "NetworkInterfaceId",
    "network-interface-owner-id": "NetworkInterfaceOwnerId",
    "private-ip-address": "PrivateIpAddress", "public-ip": "PublicIp",
})


def claim_public_address(view: View, owner: str, wanted: str | None = None) -> str:
    """A public address no one holds, now held by `owner` (an allocation or an interface)."""
    pool = ipaddress.IPv4Network(public_range())
    taken = view.taken_public_ips()
    if wanted is not None:
        try:
            address = ipaddress.IPv4Address(wanted)
        except ValueError:
            raise errors.bad_value(wanted, "address") from None
        if address not in pool or wanted in taken:
            raise errors.AddressNotAvailable(ip=wanted)
        chosen = wanted
    else:
        chosen = next((str(a) for a in pool.hosts() if str(a) not in taken), None)
        if chosen is None:
            raise errors.AddressLimitExceeded()
    view.claim_public_ip(chosen, owner)
    return chosen


def associate(view: View, address: dict, eni: dict, private_ip: str | None = None) -> str:
    """Map an Elastic IP to an interface's (primary) private address; returns the
    association id. The interface record is updated too."""
    private_ip = private_ip or eni["PrivateIpAddress"]
    association_id = new_id("eipassoc")
    address.update(AssociationId=association_id, NetworkInterfaceId=eni["NetworkInterfaceId"],
                   NetworkInterfaceOwnerId=view.account, PrivateIpAddress=private_ip,
                   SubnetId=eni.get("SubnetId"))
    instance = (eni.get("Attachment") or {}).get("InstanceId")
    if instance:
        address["InstanceId"] = instance
    association = {"IpOwnerId": view.account, "PublicIp": address["PublicIp"],
                   "PublicDnsName": public_dns_name(address["PublicIp"], view.region),
                   "AllocationId": address["AllocationId"], "AssociationId": association_id}
    for item in eni["PrivateIpAddresses"]:
        if item["PrivateIpAddress"] == private_ip:
            item["Association"] = association
    if private_ip == eni["PrivateIpAddress"]:
        eni["Association"] = association
    view.put("elastic-ip", address)
    view.put("network-interface", eni)
    return association_id


def disassociate(view: View, address: dict) -> dict | None:
    """Unmap an Elastic IP; returns the interface it was on, updated."""
    eni = view.get(address.get("NetworkInterfaceId") or "", "network-interface")
    if eni is not None:
        for item in eni["PrivateIpAddresses"]:
            if (item.get("Association") or {}).get("AllocationId") == address["AllocationId"]:
                item.pop("Association", None)
        if (eni.get("Association") or {}).get("AllocationId") == address["AllocationId"]:
            eni.pop("Association", None)
        view.put("network-interface", eni)
    for member in ("AssociationId", "NetworkInterfaceId", "NetworkInterfaceOwnerId",
                   "PrivateIpAddress", "InstanceId", "SubnetId"):
        address.pop(member, None)
    view.put("elastic-ip", address)
    return eni


def public_dns_name(address: str, region: str) -> str:
    dashed = address.replace(".", "-")
    if region == "us-east-1":
        return f"ec2-{dashed}.compute-1.amazonaws.com"
    return f"ec2-{dashed}.{region}.compute.amazonaws.com"



def attached_gateway(view: View, vpc_id: str) -> dict | None:
    """The internet gateway attached to a VPC, if any."""
    return next((g for g in view.find("internet-gateway")
                 if any(a.get("VpcId") == vpc_id for a in g["Attachments"])), None)

class AddressOperations:
    def allocate_address(self, ctx, params):
        if params.get("Domain") not in (None, "vpc"):
            raise errors.bad_value(params["Domain"], "domain")
        if params.get("PublicIpv4Pool") not in (None, "amazon"):
            raise errors.PoolNotFound(id=params["PublicIpv4Pool"])
        with self.records.write(ctx.account_id, ctx.region) as view:
            allocation_id = new_id("eipalloc")
            address = {"AllocationId": allocation_id, "Domain": "vpc",
                       "PublicIp": claim_public_address(view, allocation_id,
                                                        params.get("Address")),
                       "PublicIpv4Pool": "amazon", "NetworkBorderGroup": ctx.region}
            shown = self.created(view, "elastic-ip", address, params)
            self.fabric.address_changed(view, address)
        return {k: shown[k] for k in ("PublicIp", "AllocationId", "PublicIpv4Pool",
                                      "NetworkBorderGroup", "Domain")}

    def _address(self, view: View, params: dict) -> dict:
        if params.get("AllocationId"):
            return self.require(view, "elastic-ip", params["AllocationId"])
        ip = params.get("PublicIp")
        if ip is None:
            raise errors.MissingParameter(name="AllocationId")
        found = [a for a in view.find("elastic-ip") if a["PublicIp"] == ip]
        if not found:
            raise errors.AddressNotFound(ip=ip)
        return found[0]

    def describe_addresses(self, ctx, params):
        view = self.records.read(ctx.account_id, ctx.region)
        ids = list(params.get("AllocationIds") or [])
        for ip in params.get("PublicIps") or []:
            found = [a for a in view.find("elastic-ip") if a["PublicIp"] == ip]
            if not found:
                raise errors.AddressNotFound(ip=ip)
            ids.append(found[0]["AllocationId"])
        answer = self.describe(ctx, params, "elastic-ip", "Addresses", ids=ids or None,
                               view=view)
        answer.pop("NextToken", None)
        return answer

    def describe_addresses_attribute(self, ctx, params):
        view = self.records.read(ctx.account_id, ctx.region)
        found = [self.require(view, "elastic-ip", id) for id in params.get("AllocationIds") or []]
        if not params.get("AllocationIds"):
            found = view.find("elastic-ip")
        return {"Addresses": [{"PublicIp": a["PublicIp"], "AllocationId": a["AllocationId"]}
                              for a in found]}

    def associate_address(self, ctx, params):
        with self.records.write(ctx.account_id, ctx.region) as view:
            address = self._address(view, params)
            if params.get("InstanceId") and not params.get("NetworkInterfaceId"):
                raise errors.InvalidInstanceNotFound(id=params["InstanceId"])
            eni = self.require(view, "network-interface", params.get("NetworkInterfaceId"),
                               "NetworkInterfaceId")
            private_ip = params.get("PrivateIpAddress")
            if private_ip and private_ip not in [p["PrivateIpAddress"]
                                                 for p in eni["PrivateIpAddresses"]]:
                raise errors.InvalidParameterValue(
                    message=f"The private IP address {private_ip} is not assigned to the "
                            f"interface {eni['NetworkInterfaceId']}")
            if attached_gateway(view, eni["VpcId"]) is None:
                raise errors.NoInternetGateway(vpc=eni["VpcId"])
            if address.get("AssociationId"):
                if params.get("AllowReassociation") is False or (
                        params.get("AllowReassociation") is None
                        and address.get("NetworkInterfaceId") != eni["NetworkInterfaceId"]):
                    raise errors.AllocationAlreadyAssociated(
                        id=address["AllocationId"], association=address["AssociationId"])
                disassociate(view, address)
                eni = view.get(eni["NetworkInterfaceId"], "network-interface")
            association_id = associate(view, address, eni, private_ip)
            self.fabric.address_changed(view, address)
            self.fabric.interface_changed(view, eni)
        return {"AssociationId": association_id}

    def disassociate_address(self, ctx, params):
        with self.records.write(ctx.account_id, ctx.region) as view:
            if params.get("AssociationId"):
                found = [a for a in view.find("elastic-ip")
                         if a.get("AssociationId") == params["AssociationId"]]
                if not found:
                    raise errors.AssociationNotFound(id=params["AssociationId"])
                address = found[0]
            else:
                address = self._address(view, params)
                if not address.get("AssociationId"):
                    return {}
            if any(n["State"] in ("pending", "available") and any(
                    a.get("AllocationId") == address["AllocationId"]
                    for a in n["NatGatewayAddresses"]) for n in view.find("natgateway")):
                raise errors.AuthFailure()
            eni = disassociate(view, address)
            self.fabric.address_changed(view, address)
            if eni is not None:
                self.fabric.interface_changed(view, eni)
        return {}

    def release_address(self, ctx, params):
        with self.records.write(ctx.account_id, ctx.region) as view:
            address = self._address(view, params)
            if address.get("AssociationId"):
                raise errors.AddressInUse(ip=address["PublicIp"])
            view.release_public_ip(address["PublicIp"])
            view.delete(address["AllocationId"])
            self.fabric.address_released(view, address)
        return {}
