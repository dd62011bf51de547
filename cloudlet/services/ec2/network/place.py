"""Where things are: DescribeRegions, DescribeAvailabilityZones (names and zone ids) and
DescribeAccountAttributes (which Terraform's provider asks for)."""

from __future__ import annotations

from cloudlet.services.ec2 import errors
from cloudlet.services.ec2.filters import Filters, declare

REGIONS = (
    "us-east-1", "us-east-2", "us-west-1", "us-west-2", "ca-central-1", "sa-east-1",
    "eu-west-1", "eu-west-2", "eu-west-3", "eu-central-1", "eu-north-1",
    "ap-south-1", "ap-northeast-1", "ap-northeast-2", "ap-northeast-3",
    "ap-southeast-1", "ap-southeast-2",
)
_DIRECTIONS = {"east": "e", "west": "w", "north": "n", "south": "s", "central": "c",
               "northeast": "ne", "northwest": "nw", "southeast": "se", "southwest": "sw"}
# us-east-1 has six zones; their ids are not in letter order (AWS maps them per account).
_US_EAST_1 = {"a": "use1-az1", "b": "use1-az2", "c": "use1-az4", "d": "use1-az6",
              "e": "use1-az3", "f": "use1-az5"}

declare("region", {"endpoint": "Endpoint", "region-name": "RegionName",
                   "opt-in-status": "OptInStatus"})
declare("availability-zone", {
    "group-name": "GroupName", "message": "Messages.Message", "opt-in-status": "OptInStatus",
    "region-name": "RegionName", "state": "State", "zone-id": "ZoneId", "zone-name": "ZoneName",
    "zone-type": "ZoneType", "network-border-group": "NetworkBorderGroup",
    "parent-zone-id": "ParentZoneId", "parent-zone-name": "ParentZoneName",
})


def region_code(region: str) -> str:
    """us-east-1 -> use1, ap-southeast-2 -> apse2."""
    parts = region.split("-")
    if len(parts) < 3:
        return region.replace("-", "")
    return parts[0] + _DIRECTIONS.get(parts[1], parts[1][:1]) + parts[2]


def zones(region: str) -> list[tuple[str, str]]:
    """(zone name, zone id) of the region's Availability Zones."""
    if region == "us-east-1":
        return [(f"{region}{letter}", id) for letter, id in _US_EAST_1.items()]
    code = region_code(region)
    return [(f"{region}{letter}", f"{code}-az{i}") for i, letter in enumerate("abc", 1)]


def zone_named(region: str, name: str | None = None, zone_id: str | None = None
               ) -> tuple[str, str] | None:
    return next((z for z in zones(region) if z[0] == name or z[1] == zone_id), None)


class PlaceOperations:
    def describe_regions(self, ctx, params):
        filters = Filters.compile("region", params.get("Filters"))
        wanted = params.get("RegionNames")
        for name in wanted or []:
            if name not in REGIONS:
                raise errors.InvalidParameterValue(message=f"Invalid region: {name}")
        found = [{"RegionName": r, "Endpoint": f"ec2.{r}.amazonaws.com",
                  "OptInStatus": "opt-in-not-required"}
                 for r in REGIONS if not wanted or r in wanted]
        return {"Regions": [r for r in found if filters.matches(r)]}

    def describe_availability_zones(self, ctx, params):
        filters = Filters.compile("availability-zone", params.get("Filters"))
        names, ids = params.get("ZoneNames") or [], params.get("ZoneIds") or []
        known = zones(ctx.region)
        for name in names:
            if name not in {z[0] for z in known}:
                raise errors.InvalidParameterValue(
                    message=f"The zone '{name}' does not exist in the current region.")
        for id in ids:
            if id not in {z[1] for z in known}:
                raise errors.InvalidParameterValue(
                    message=f"The zone ID '{id}' does not exist in the current region.")
        found = []
        for name, id in known:
            if (names or ids) and name not in names and id not in ids:
                continue
            found.append({"State": "available", "OptInStatus": "opt-in-not-required",
                          "Messages": [], "RegionName": ctx.region, "ZoneName": name,
                          "ZoneId": id, "GroupName": ctx.region,
                          "NetworkBorderGroup": ctx.region, "ZoneType": "availability-zone",
                          "GroupLongName": ctx.region})
        return {"AvailabilityZones": [z for z in found if filters.matches(z)]}

    def describe_account_attributes(self, ctx, params):
        view = self.records.read(ctx.account_id, ctx.region)
        _, default_vpc = view.place()
        values = {
            "supported-platforms": ["VPC"],
            "default-vpc": [default_vpc or "none"],
            "max-instances": ["20"],
            "vpc-max-security-groups-per-interface": ["5"],
            "max-elastic-ips": ["5"],
            "vpc-max-elastic-ips": ["5"],
        }
        wanted = params.get("AttributeNames") or list(values)
        return {"AccountAttributes": [
            {"AttributeName": name,
             "AttributeValues": [{"AttributeValue": v} for v in values[name]]}
            for name in wanted if name in values]}
