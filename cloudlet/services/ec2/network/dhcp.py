"""DHCP options sets: the region's default one (domain name and AmazonProvidedDNS), Create,
Describe, Delete, and AssociateDhcpOptions ("default" for none)."""

from __future__ import annotations

from cloudlet.services.ec2 import errors
from cloudlet.services.ec2.filters import declare
from cloudlet.services.ec2.ids import new_id
from cloudlet.services.ec2.store import View

KEYS = ("domain-name", "domain-name-servers", "ntp-servers", "netbios-name-servers",
        "netbios-node-type", "ipv6-address-preferred-lease-time")

declare("dhcp-options", {
    "dhcp-options-id": "DhcpOptionsId", "owner-id": "OwnerId",
    "key": "DhcpConfigurations.Key", "value": "DhcpConfigurations.Values.Value",
})


def domain_name(region: str) -> str:
    return "ec2.internal" if region == "us-east-1" else f"{region}.compute.internal"


def default_options(view: View) -> dict:
    """The region's default DHCP options set, made with the first VPC."""
    for doc in view.find("dhcp-options"):
        if doc.get("_default"):
            return doc
    doc = {"DhcpOptionsId": new_id("dopt"), "OwnerId": view.account, "_default": True,
           "DhcpConfigurations": [
               {"Key": "domain-name", "Values": [{"Value": domain_name(view.region)}]},
               {"Key": "domain-name-servers", "Values": [{"Value": "AmazonProvidedDNS"}]}]}
    view.put("dhcp-options", doc)
    return doc


class DhcpOperations:
    def create_dhcp_options(self, ctx, params):
        configurations = []
        for item in params.get("DhcpConfigurations") or []:
            key = item.get("Key")
            if key not in KEYS:
                raise errors.InvalidParameterValue(
                    message=f"Value ({key}) for parameter key is invalid. Unknown dhcp option")
            configurations.append({"Key": key,
                                   "Values": [{"Value": v} for v in item.get("Values") or []]})
        doc = {"DhcpOptionsId": new_id("dopt"), "OwnerId": ctx.account_id,
               "DhcpConfigurations": configurations}
        with self.records.write(ctx.account_id, ctx.region) as view:
            shown = self.created(view, "dhcp-options", doc, params)
        return {"DhcpOptions": shown}

    def describe_dhcp_options(self, ctx, params):
        return self.describe(ctx, params, "dhcp-options", "DhcpOptions",
                             ids_member="DhcpOptionsIds")

    def delete_dhcp_options(self, ctx, params):
        with self.records.write(ctx.account_id, ctx.region) as view:
            doc = self.require(view, "dhcp-options", params.get("DhcpOptionsId"))
            if any(v.get("DhcpOptionsId") == doc["DhcpOptionsId"] for v in view.find("vpc")):
                raise errors.DependencyViolation(
                    message=f"The dhcpOptions '{doc['DhcpOptionsId']}' has dependencies and "
                            "cannot be deleted.")
            view.delete(doc["DhcpOptionsId"])
        return {}

    def associate_dhcp_options(self, ctx, params):
        options_id = params.get("DhcpOptionsId")
        with self.records.write(ctx.account_id, ctx.region) as view:
            vpc = self.require(view, "vpc", params.get("VpcId"))
            if options_id != "default":
                self.require(view, "dhcp-options", options_id)
            vpc["DhcpOptionsId"] = options_id
            view.put("vpc", vpc)
            self.fabric.vpc_changed(view, vpc)
        return {}
