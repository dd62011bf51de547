"""Security group rules: each one a record of its own (`sgr-...`, with its group as parent),
turned from and into the IpPermissions that Authorize/Revoke* take and DescribeSecurityGroups
shows. A rule's source (inbound) or destination (outbound) is an IPv4 CIDR, an IPv6 CIDR, a
prefix list or another security group."""

from __future__ import annotations

from cloudlet.services.ec2 import errors
from cloudlet.services.ec2.ids import new_id
from cloudlet.services.ec2.network import cidrs
from cloudlet.services.ec2.network.prefix_lists import check_prefix_list
from cloudlet.services.ec2.store import View

MAX_RULES = 60  # per group and direction, AWS's default quota
PROTOCOL_NAMES = {"6": "tcp", "17": "udp", "1": "icmp", "58": "icmpv6", "all": "-1"}
PORTED = ("tcp", "udp")
ICMP = ("icmp", "icmpv6")
SOURCES = ("CidrIpv4", "CidrIpv6", "PrefixListId", "ReferencedGroupInfo")


def protocol(value) -> str:
    text = str(value if value is not None else "-1").lower()
    text = PROTOCOL_NAMES.get(text, text)
    if text in ("-1", *PORTED, *ICMP) or (text.isdigit() and 0 <= int(text) <= 255):
        return text
    raise errors.InvalidParameterValue(
        message=f"Invalid value '{value}' for IP protocol. Unknown protocol.")


def ports(proto: str, from_port, to_port) -> tuple[int, int]:
    if proto in PORTED:
        if from_port is None or to_port is None:
            raise errors.InvalidParameterValue(
                message="Invalid value 'null' for portRange. Must specify both from and to "
                        "ports with TCP/UDP.")
        if not (0 <= from_port <= 65535 and 0 <= to_port <= 65535) or from_port > to_port:
            raise errors.InvalidParameterValue(
                message=f"Invalid port range ({from_port}, {to_port}): the ports must be "
                        "between 0 and 65535 and from-port not above to-port.")
        return from_port, to_port
    if proto in ICMP:
        icmp_type = -1 if from_port is None else from_port
        code = -1 if to_port is None else to_port
        if not (-1 <= icmp_type <= 255 and -1 <= code <= 255):
            raise errors.InvalidParameterValue(
                message=f"Invalid value for ICMP type ({icmp_type}) or code ({code}).")
        return icmp_type, code
    return -1, -1


def peer_text(rule: dict) -> str:
    """How AWS's InvalidPermission.Duplicate names a rule."""
    source = (rule.get("CidrIpv4") or rule.get("CidrIpv6") or rule.get("PrefixListId")
              or (rule.get("ReferencedGroupInfo") or {}).get("GroupId"))
    proto = rule["IpProtocol"]
    if proto == "-1":
        return f"peer: {source}, ALL, ALLOW"
    if proto in ICMP:
        return (f"peer: {source}, {proto.upper()}, type: {rule['FromPort']}, "
                f"code: {rule['ToPort']}, ALLOW")
    name = proto.upper() if proto in PORTED else proto
    return f"peer: {source}, {name}, from port: {rule['FromPort']}, to port: {rule['ToPort']}, " \
           "ALLOW"


def identity(rule: dict) -> tuple:
    """What makes two rules the same rule (the description does not)."""
    group = (rule.get("ReferencedGroupInfo") or {}).get("GroupId")
    return (rule["IsEgress"], rule["IpProtocol"], rule["FromPort"], rule["ToPort"],
            rule.get("CidrIpv4"), rule.get("CidrIpv6"), rule.get("PrefixListId"), group)


def new_rule(view: View, group: dict, egress: bool, proto: str, from_port: int, to_port: int,
             source: dict, description: str | None = None) -> dict:
    id = new_id("sgr")
    rule = {"SecurityGroupRuleId": id, "GroupId": group["GroupId"],
            "GroupOwnerId": group["OwnerId"], "IsEgress": egress, "IpProtocol": proto,
            "FromPort": from_port, "ToPort": to_port, **source,
            "SecurityGroupRuleArn": f"arn:aws:ec2:{view.region}:{view.account}:"
                                    f"security-group-rule/{id}",
            "_parent": group["GroupId"]}
    if description is not None:
        rule["Description"] = description
    return rule


def _cidr(value, parameter: str, version: int) -> str:
    net = cidrs.any_network(value)
    if net is None or net.version != version:
        raise errors.InvalidParameterValue(
            message=f"CIDR block {value} is malformed" if version == 4
            else f"Invalid IPv6 CIDR block {value}")
    return str(net)


def _referenced_group(view: View, group: dict, pair: dict) -> dict:
    id = pair.get("GroupId")
    if id is None and pair.get("GroupName"):
        found = [g for g in view.find("security-group", names=[pair["GroupName"]])
                 if g["VpcId"] == group["VpcId"]]
        if not found:
            raise errors.GroupNotFoundInVpc(name=pair["GroupName"], vpc=group["VpcId"])
        id = found[0]["GroupId"]
    if id is None:
        raise errors.MissingParameter(name="groupId")
    if not isinstance(id, str) or not id.startswith("sg-"):
        raise errors.malformed("security-group", id, "sg")
    other = view.get(id, "security-group")
    if other is None:
        raise errors.GroupNotFound(id=id)
    if other["VpcId"] != group["VpcId"]:
        raise errors.InvalidParameter(
            message="You have specified two resources that belong to different networks.")
    return {"ReferencedGroupInfo": {"GroupId": id, "UserId": other["OwnerId"]}}


def rules_from_permissions(view: View, group: dict, egress: bool, permissions: list[dict]
                           ) -> list[dict]:
    """The rules that IpPermissions describe (not yet stored)."""
    rules = []
    for permission in permissions:
        proto = protocol(permission.get("IpProtocol"))
        from_port, to_port = ports(proto, permission.get("FromPort"), permission.get("ToPort"))
        sources: list[tuple[dict, str | None]] = []
        for item in permission.get("IpRanges") or []:
            sources.append(({"CidrIpv4": _cidr(item.get("CidrIp"), "cidrIp", 4)},
                            item.get("Description")))
        for item in permission.get("Ipv6Ranges") or []:
            sources.append(({"CidrIpv6": _cidr(item.get("CidrIpv6"), "cidrIpv6", 6)},
                            item.get("Description")))
        for item in permission.get("PrefixListIds") or []:
            check_prefix_list(item.get("PrefixListId"))
            sources.append(({"PrefixListId": item["PrefixListId"]}, item.get("Description")))
        for item in permission.get("UserIdGroupPairs") or []:
            sources.append((_referenced_group(view, group, item), item.get("Description")))
        if not sources:
            raise errors.InvalidParameterValue(
                message="The request must contain at least one of ipRanges, ipv6Ranges, "
                        "prefixListIds or groups.")
        for source, description in sources:
            rules.append(new_rule(view, group, egress, proto, from_port, to_port, source,
                                  description))
    return rules


def rule_from_request(view: View, group: dict, egress: bool, request: dict) -> dict:
    """A rule from ModifySecurityGroupRules' SecurityGroupRuleRequest."""
    proto = protocol(request.get("IpProtocol"))
    from_port, to_port = ports(proto, request.get("FromPort"), request.get("ToPort"))
    if request.get("CidrIpv4"):
        source = {"CidrIpv4": _cidr(request["CidrIpv4"], "cidrIpv4", 4)}
    elif request.get("CidrIpv6"):
        source = {"CidrIpv6": _cidr(request["CidrIpv6"], "cidrIpv6", 6)}
    elif request.get("PrefixListId"):
        check_prefix_list(request["PrefixListId"])
        source = {"PrefixListId": request["PrefixListId"]}
    elif request.get("ReferencedGroupId"):
        source = _referenced_group(view, group, {"GroupId": request["ReferencedGroupId"]})
    else:
        raise errors.MissingParameter(name="CidrIpv4")
    return new_rule(view, group, egress, proto, from_port, to_port, source,
                    request.get("Description"))


def permissions(rules: list[dict]) -> list[dict]:
    """Rules grouped back into IpPermissions, as DescribeSecurityGroups shows them."""
    grouped: dict[tuple, dict] = {}
    for rule in rules:
        key = (rule["IpProtocol"], rule["FromPort"], rule["ToPort"])
        permission = grouped.get(key)
        if permission is None:
            permission = grouped[key] = {"IpProtocol": rule["IpProtocol"], "IpRanges": [],
                                         "Ipv6Ranges": [], "PrefixListIds": [],
                                         "UserIdGroupPairs": []}
            if rule["IpProtocol"] != "-1":
                permission["FromPort"], permission["ToPort"] = rule["FromPort"], rule["ToPort"]
        described = {"Description": rule["Description"]} if "Description" in rule else {}
        if "CidrIpv4" in rule:
            permission["IpRanges"].append({"CidrIp": rule["CidrIpv4"], **described})
        elif "CidrIpv6" in rule:
            permission["Ipv6Ranges"].append({"CidrIpv6": rule["CidrIpv6"], **described})
        elif "PrefixListId" in rule:
            permission["PrefixListIds"].append({"PrefixListId": rule["PrefixListId"],
                                                **described})
        else:
            info = rule["ReferencedGroupInfo"]
            permission["UserIdGroupPairs"].append({"UserId": info.get("UserId"),
                                                   "GroupId": info["GroupId"], **described})
    return list(grouped.values())


def legacy_permissions(params: dict) -> list[dict]:
    """The top-level IpProtocol/FromPort/ToPort/CidrIp/SourceSecurityGroupName members that
    the AWS CLI's --protocol/--port/--cidr/--source-group send."""
    if not any(params.get(m) is not None for m in ("IpProtocol", "CidrIp",
                                                    "SourceSecurityGroupName")):
        return []
    permission = {"IpProtocol": params.get("IpProtocol") or "-1",
                  "FromPort": params.get("FromPort"), "ToPort": params.get("ToPort")}
    if params.get("CidrIp"):
        permission["IpRanges"] = [{"CidrIp": params["CidrIp"]}]
    if params.get("SourceSecurityGroupName"):
        name = params["SourceSecurityGroupName"]
        pair = {"GroupId": name} if name.startswith("sg-") else {"GroupName": name}
        permission["UserIdGroupPairs"] = [pair]
        if params.get("IpProtocol") is None:
            permission.update(IpProtocol="-1", FromPort=None, ToPort=None)
    return [permission]
