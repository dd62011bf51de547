"""Network interfaces (ENIs): Create/Describe/DeleteNetworkInterface, Attach/Detach (no
instances exist yet, so attaching to one answers InvalidInstanceID.NotFound until the
compute half lands), Modify/Describe/ResetNetworkInterfaceAttribute (groups, source/dest
check, description), Assign/UnassignPrivateIpAddresses.

Every address an interface holds is held in its subnet (`subnets.allocate`), so the subnet's
AvailableIpAddressCount goes down by one."""

from __future__ import annotations

from cloudlet.services.ec2 import errors
from cloudlet.services.ec2.filters import declare
from cloudlet.services.ec2.ids import mac_address, new_id, well_formed
from cloudlet.services.ec2.network.subnets import allocate, release
from cloudlet.services.ec2.store import View

MAX_GROUPS = 5

declare("network-interface", {
    "addresses.private-ip-address": "PrivateIpAddresses.PrivateIpAddress",
    "addresses.primary": "PrivateIpAddresses.Primary",
    "addresses.association.public-ip": "PrivateIpAddresses.Association.PublicIp",
    "addresses.association.owner-id": "PrivateIpAddresses.Association.IpOwnerId",
    "association.association-id": "Association.AssociationId",
    "association.allocation-id": "Association.AllocationId",
    "association.ip-owner-id": "Association.IpOwnerId",
    "association.public-ip": "Association.PublicIp",
    "association.public-dns-name": "Association.PublicDnsName",
    "attachment.attachment-id": "Attachment.AttachmentId",
    "attachment.attach-time": "Attachment.AttachTime",
    "attachment.delete-on-termination": "Attachment.DeleteOnTermination",
    "attachment.device-index": "Attachment.DeviceIndex",
    "attachment.instance-id": "Attachment.InstanceId",
    "attachment.instance-owner-id": "Attachment.InstanceOwnerId",
    "attachment.status": "Attachment.Status",
    "availability-zone": "AvailabilityZone", "description": "Description",
    "group-id": "Groups.GroupId", "group-name": "Groups.GroupName",
    "ipv6-addresses.ipv6-address": "Ipv6Addresses.Ipv6Address",
    "interface-type": "InterfaceType", "mac-address": "MacAddress",
    "network-interface-id": "NetworkInterfaceId", "owner-id": "OwnerId",
    "private-ip-address": "PrivateIpAddress", "private-dns-name": "PrivateDnsName",
    "requester-id": "RequesterId", "requester-managed": "RequesterManaged",
    "source-dest-check": "SourceDestCheck", "status": "Status", "subnet-id": "SubnetId",
    "vpc-id": "VpcId",
})


def private_dns_name(address: str, region: str) -> str:
    host = "ip-" + address.replace(".", "-")
    return f"{host}.ec2.internal" if region == "us-east-1" else f"{host}.{region}.compute.internal"


def group_refs(view: View, vpc_id: str, ids: list[str] | None) -> list[dict]:
    """[{GroupId, GroupName}] of these groups (default: the VPC's `default`), checked."""
    if ids is None:
        ids = [g["GroupId"] for g in view.find("security-group", vpc_ids=[vpc_id], names=["default"])]
    if len(ids) > MAX_GROUPS:
        raise errors.GroupsPerInterfaceLimitExceeded()
    found = []
    for id in ids:
        if not well_formed(id, "sg"):
            raise errors.malformed("security-group", id, "sg")
        group = view.get(id, "security-group")
        if group is None:
            raise errors.GroupNotFound(id=id)
        if group["VpcId"] != vpc_id:
            raise errors.InvalidParameter(
                message=f"Security group {id} and subnet belong to different networks.")
        found.append({"GroupId": id, "GroupName": group["GroupName"]})
    return found


def new_interface(view: View, subnet: dict, *, description: str = "",
                  interface_type: str = "interface", requester_managed: bool = False,
                  private_ip: str | None = None, groups: list[str] | None = None,
                  secondary: list[str] | None = None, secondary_count: int = 0) -> dict:
    """An interface in `subnet` with its addresses held (stored, not yet committed)."""
    primary = allocate(view, subnet, private_ip)
    addresses = [primary] + [allocate(view, subnet, a) for a in secondary or []]
    addresses += [allocate(view, subnet) for _ in range(secondary_count)]
    eni = {
        "NetworkInterfaceId": new_id("eni"), "SubnetId": subnet["SubnetId"],
        "VpcId": subnet["VpcId"], "AvailabilityZone": subnet["AvailabilityZone"],
        "AvailabilityZoneId": subnet["AvailabilityZoneId"], "Description": description,
        "Groups": group_refs(view, subnet["VpcId"], groups) if groups != [] else [],
        "InterfaceType": interface_type, "Ipv6Addresses": [], "MacAddress": mac_address(),
        "OwnerId": view.account, "PrivateDnsName": private_dns_name(primary, view.region),
        "PrivateIpAddress": primary,
        "PrivateIpAddresses": [{"Primary": i == 0, "PrivateIpAddress": a,
                                "PrivateDnsName": private_dns_name(a, view.region)}
                               for i, a in enumerate(addresses)],
        "RequesterManaged": requester_managed, "SourceDestCheck": True,
        "Status": "in-use" if requester_managed else "available",
    }
    if requester_managed:
        eni["RequesterId"] = "AIDAAWSSERVICE000000"
    view.put("network-interface", eni)
    return eni


def remove_interface(view: View, eni: dict) -> None:
    release(view, eni["SubnetId"], [a["PrivateIpAddress"] for a in eni["PrivateIpAddresses"]])
    view.delete(eni["NetworkInterfaceId"])


ATTRIBUTES = {"description": "Description", "groupSet": "Groups",
              "sourceDestCheck": "SourceDestCheck", "attachment": "Attachment",
              "associatePublicIpAddress": "AssociatePublicIpAddress"}


class InterfaceOperations:
    def create_network_interface(self, ctx, params):
        if params.get("InterfaceType") not in (None, "interface", "efa", "trunk"):
            raise errors.bad_value(params["InterfaceType"], "interfaceType")
        with self.records.write(ctx.account_id, ctx.region) as view:
            subnet = self.require(view, "subnet", params.get("SubnetId"))
            listed = params.get("PrivateIpAddresses") or []
            primary = params.get("PrivateIpAddress") or next(
                (p["PrivateIpAddress"] for p in listed if p.get("Primary")), None)
            secondary = [p["PrivateIpAddress"] for p in listed
                         if p.get("PrivateIpAddress") and p["PrivateIpAddress"] != primary]
            eni = new_interface(view, subnet, description=params.get("Description") or "",
                                interface_type=params.get("InterfaceType") or "interface",
                                private_ip=primary, groups=params.get("Groups"),
                                secondary=secondary,
                                secondary_count=params.get("SecondaryPrivateIpAddressCount") or 0)
            shown = self.created(view, "network-interface", eni, params)
            self.fabric.subnet_changed(view, view.get(subnet["SubnetId"], "subnet"))
            self.fabric.interface_changed(view, eni)
        return {"NetworkInterface": shown, "ClientToken": params.get("ClientToken")}

    def describe_network_interfaces(self, ctx, params):
        return self.describe(ctx, params, "network-interface", "NetworkInterfaces",
                             ids_member="NetworkInterfaceIds")

    def delete_network_interface(self, ctx, params):
        with self.records.write(ctx.account_id, ctx.region) as view:
            eni = self.require(view, "network-interface", params.get("NetworkInterfaceId"))
            id = eni["NetworkInterfaceId"]
            if eni.get("RequesterManaged"):
                raise errors.OperationNotPermitted()
            if eni.get("Attachment") or eni["Status"] == "in-use":
                raise errors.InterfaceInUse(id=id)
            if eni.get("Association"):
                raise errors.InterfaceHasAddress(id=id)
            remove_interface(view, eni)
            self.fabric.interface_deleted(view, eni)
        return {}

    def attach_network_interface(self, ctx, params):
        view = self.records.read(ctx.account_id, ctx.region)
        self.require(view, "network-interface", params.get("NetworkInterfaceId"))
        raise errors.InvalidInstanceNotFound(id=params.get("InstanceId"))

    def detach_network_interface(self, ctx, params):
        attachment = params.get("AttachmentId")
        if not well_formed(attachment, "eni-attach"):
            raise errors.AttachmentMalformed(id=attachment)
        with self.records.write(ctx.account_id, ctx.region) as view:
            for eni in view.find("network-interface"):
                if (eni.get("Attachment") or {}).get("AttachmentId") == attachment:
                    eni.pop("Attachment")
                    eni["Status"] = "available"
                    view.put("network-interface", eni)
                    self.fabric.interface_changed(view, eni)
                    return {}
        raise errors.AttachmentNotFound(id=attachment)

    def modify_network_interface_attribute(self, ctx, params):
        with self.records.write(ctx.account_id, ctx.region) as view:
            eni = self.require(view, "network-interface", params.get("NetworkInterfaceId"))
            if params.get("Description") is not None:
                eni["Description"] = params["Description"].get("Value") or ""
            if params.get("SourceDestCheck") is not None:
                eni["SourceDestCheck"] = bool(params["SourceDestCheck"].get("Value"))
            if params.get("Groups") is not None:
                eni["Groups"] = group_refs(view, eni["VpcId"], params["Groups"])
            if params.get("Attachment") is not None:
                attachment = eni.get("Attachment")
                wanted = params["Attachment"].get("AttachmentId")
                if attachment is None or attachment["AttachmentId"] != wanted:
                    raise errors.AttachmentNotFound(id=wanted)
                attachment["DeleteOnTermination"] = bool(
                    params["Attachment"].get("DeleteOnTermination"))
            view.put("network-interface", eni)
            self.fabric.interface_changed(view, eni)
        return {}

    def describe_network_interface_attribute(self, ctx, params):
        view = self.records.read(ctx.account_id, ctx.region)
        eni = self.require(view, "network-interface", params.get("NetworkInterfaceId"))
        attribute = params.get("Attribute")
        if attribute not in ATTRIBUTES:
            raise errors.bad_value(attribute, "attribute")
        answer = {"NetworkInterfaceId": eni["NetworkInterfaceId"]}
        if attribute == "description":
            answer["Description"] = {"Value": eni["Description"]}
        elif attribute == "sourceDestCheck":
            answer["SourceDestCheck"] = {"Value": eni["SourceDestCheck"]}
        elif attribute == "groupSet":
            answer["Groups"] = eni["Groups"]
        elif attribute == "attachment" and eni.get("Attachment"):
            answer["Attachment"] = eni["Attachment"]
        elif attribute == "associatePublicIpAddress":
            answer["AssociatePublicIpAddress"] = bool(eni.get("Association"))
        return answer

    def reset_network_interface_attribute(self, ctx, params):
        with self.records.write(ctx.account_id, ctx.region) as view:
            eni = self.require(view, "network-interface", params.get("NetworkInterfaceId"))
            if params.get("SourceDestCheck") is not None:
                eni["SourceDestCheck"] = True
            view.put("network-interface", eni)
            self.fabric.interface_changed(view, eni)
        return {}

    def assign_private_ip_addresses(self, ctx, params):
        with self.records.write(ctx.account_id, ctx.region) as view:
            eni = self.require(view, "network-interface", params.get("NetworkInterfaceId"))
            subnet = view.require(eni["SubnetId"], "subnet")
            wanted = params.get("PrivateIpAddresses") or []
            count = params.get("SecondaryPrivateIpAddressCount") or 0
            if not wanted and not count:
                raise errors.MissingParameter(name="privateIpAddress")
            assigned = [allocate(view, subnet, a) for a in wanted]
            assigned += [allocate(view, subnet) for _ in range(count)]
            eni["PrivateIpAddresses"] += [
                {"Primary": False, "PrivateIpAddress": a,
                 "PrivateDnsName": private_dns_name(a, view.region)} for a in assigned]
            view.put("network-interface", eni)
            self.fabric.subnet_changed(view, subnet)
            self.fabric.interface_changed(view, eni)
        return {"NetworkInterfaceId": eni["NetworkInterfaceId"],
                "AssignedPrivateIpAddresses": [{"PrivateIpAddress": a} for a in assigned]}

    def unassign_private_ip_addresses(self, ctx, params):
        with self.records.write(ctx.account_id, ctx.region) as view:
            eni = self.require(view, "network-interface", params.get("NetworkInterfaceId"))
            held = {p["PrivateIpAddress"]: p for p in eni["PrivateIpAddresses"]}
            gone = params.get("PrivateIpAddresses") or []
            for address in gone:
                item = held.get(address)
                if item is None:
                    raise errors.InvalidParameterValue(
                        message=f"Some of the specified addresses are not assigned to "
                                f"interface {eni['NetworkInterfaceId']}")
                if item["Primary"]:
                    raise errors.InvalidParameterValue(
                        message="The primary private IP address cannot be unassigned.")
            eni["PrivateIpAddresses"] = [p for p in eni["PrivateIpAddresses"]
                                         if p["PrivateIpAddress"] not in gone]
            release(view, eni["SubnetId"], gone)
            view.put("network-interface", eni)
            self.fabric.interface_changed(view, eni)
        return {}
