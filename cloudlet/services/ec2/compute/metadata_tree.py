"""The tree an instance reads at 169.254.169.254, built from its records (no I/O here).

    tree = versions(facts)                    # "/" -> every version -> its own tree
    resolve(tree, "/latest/meta-data/placement/availability-zone/") -> b"us-east-1a"

A directory is a `Directory` (a dict of names to nodes); a leaf is text, bytes or a callable
that gives them when asked (a role's session, the signed identity document), so that a
listing never mints credentials. As on AWS:

- a leaf answers with or without a trailing slash (botocore asks for
  `placement/availability-zone/`), and a directory with or without one answers its listing;
- a listing names each entry on its own line, sorted, sub-directories with a trailing "/"
  (the version list and a version's own listing have none); `public-keys/` lists
  `0=<key name>`;
- what the instance does not have is not listed and is a 404: `public-ipv4` and
  `public-hostname` without a public address, `iam/` without an instance profile,
  `public-keys/` without a key pair, `user-data` without user data, `tags/` unless
  `InstanceMetadataTags` is enabled.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
import platform
from collections.abc import Callable
from dataclasses import dataclass, field

from cloudlet.services.ec2.network.place import zone_named

# What AWS lists at "/" (the versions it serves); every one serves the same tree here.
VERSIONS = (
    "1.0", "2007-01-19", "2007-03-01", "2007-08-29", "2007-10-10", "2007-12-15", "2008-02-01",
    "2008-09-01", "2009-04-04", "2011-01-01", "2011-05-01", "2012-01-12", "2014-02-25",
    "2014-11-05", "2015-10-20", "2016-04-19", "2016-06-30", "2016-09-02", "2018-03-28",
    "2018-08-17", "2018-09-24", "2019-10-01", "2020-10-27", "2021-01-03", "2021-03-23",
    "2021-07-15", "2022-09-24", "2024-04-11", "latest",
)
IDENTITY_VERSION = "2017-09-30"
ARCHITECTURES = {"x86_64": "x86_64", "amd64": "x86_64", "aarch64": "arm64", "arm64": "arm64"}

Leaf = str | bytes | Callable[[], "str | bytes | None"]


class Directory(dict):
    """A directory of the tree. `slashes`: whether its listing marks sub-directories with
    "/"; `listing`: a listing of its own (public-keys/'s `0=name`)."""

    def __init__(self, *args, slashes: bool = True, listing: str | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.slashes, self.listing = slashes, listing

    def render(self) -> bytes:
        if self.listing is not None:
            return self.listing.encode()
        names = [f"{name}/" if self.slashes and isinstance(node, Directory) else name
                 for name, node in sorted(self.items())]
        return "\n".join(names).encode()


@dataclass
class InstanceFacts:
    """What IMDS knows of one instance: its DescribeInstances record (with Cloudlet's `_`
    fields), the records around it, and the lazily computed values."""

    account: str
    region: str
    instance: dict
    vpc: dict | None = None
    subnets: dict[str, dict] = field(default_factory=dict)
    groups: dict[str, str] = field(default_factory=dict)   # group id -> name
    tags: list[dict] = field(default_factory=list)
    profile: dict | None = None  # IamReads.instance_profile's answer
    # -> {"Code", "LastUpdated", ...} of the role's session as IMDS shows it
    credentials: Callable[[], dict] | None = None
    # (document text) -> {"signature", "pkcs7", "rsa2048"}
    sign: Callable[[str], dict[str, str]] | None = None

    @property
    def options(self) -> dict:
        return self.instance.get("MetadataOptions") or {}

    @property
    def id(self) -> str:
        return self.instance["InstanceId"]


def resolve(tree: Directory, path: str) -> bytes | None:
    """The body for a request path (a listing or a leaf), or None (404)."""
    node: Directory | Leaf | None = tree
    for part in (p for p in path.split("/") if p):
        if not isinstance(node, Directory):
            return None
        node = node.get(part)
        if node is None:
            return None
    if isinstance(node, Directory):
        return node.render()
    value = node() if callable(node) else node
    if value is None:
        return None
    return value if isinstance(value, bytes) else value.encode()


# -- the trees -----------------------------------------------------------------------------

def versions(facts: InstanceFacts) -> Directory:
    version = version_tree(facts)
    return Directory({name: version for name in VERSIONS}, slashes=False)


def version_tree(facts: InstanceFacts) -> Directory:
    tree = Directory({"meta-data": meta_data(facts), "dynamic": dynamic(facts)}, slashes=False)
    user_data = decoded_user_data(facts.instance)
    if user_data is not None:
        tree["user-data"] = user_data
    return tree


def decoded_user_data(instance: dict) -> bytes | None:
    """The instance's user data as given to RunInstances (base64), decoded; None if none."""
    raw = instance.get("_user_data")
    if not raw:
        return None
    try:
        return base64.b64decode(raw, validate=False)
    except (binascii.Error, ValueError):
        return raw.encode() if isinstance(raw, str) else None


def meta_data(facts: InstanceFacts) -> Directory:
    instance, region = facts.instance, facts.region
    interfaces = sorted(instance.get("NetworkInterfaces") or [], key=_device_index)
    private_ip = instance.get("PrivateIpAddress") or ""
    hostname = instance.get("PrivateDnsName") or private_dns_name(private_ip, region)
    zone = (instance.get("Placement") or {}).get("AvailabilityZone") or ""
    tree = Directory({
        "ami-id": instance.get("ImageId") or "",
        "ami-launch-index": str(instance.get("AmiLaunchIndex", 0)),
        "ami-manifest-path": "(unknown)",
        "block-device-mapping": block_device_mapping(instance),
        "events": Directory({"maintenance": Directory({"history": "[]",
                                                       "scheduled": "[]"})}),
        "hostname": hostname,
        "instance-action": "none",
        "instance-id": instance["InstanceId"],
        "instance-life-cycle": "on-demand",
        "instance-type": instance.get("InstanceType") or "",
        "local-hostname": hostname,
        "local-ipv4": private_ip,
        "mac": (interfaces[0].get("MacAddress") or "") if interfaces else "",
        "network": Directory({"interfaces": Directory({"macs": Directory({
            eni["MacAddress"]: interface_tree(facts, eni)
            for eni in interfaces if eni.get("MacAddress")})})}),
        "placement": placement(region, zone),
        "profile": "default-hvm",
        "reservation-id": instance.get("_reservation_id") or "",
        "security-groups": "\n".join(g.get("GroupName") or ""
                                     for g in instance.get("SecurityGroups") or []),
        "services": Directory({"domain": "amazonaws.com", "partition": "aws"}),
    })
    public_ip = instance.get("PublicIpAddress")
    if public_ip:
        tree["public-ipv4"] = public_ip
        tree["public-hostname"] = instance.get("PublicDnsName") or public_dns_name(
            public_ip, region)
    keys = public_keys(instance)
    if keys is not None:
        tree["public-keys"] = keys
    iam = iam_tree(facts)
    if iam is not None:
        tree["iam"] = iam
    if facts.options.get("InstanceMetadataTags") == "enabled":
        tree["tags"] = Directory({"instance": Directory({
            tag["Key"]: tag.get("Value") or "" for tag in facts.tags
            if tag.get("Key") and "/" not in tag["Key"]})})
    return tree


def _device_index(eni: dict) -> int:
    return int((eni.get("Attachment") or {}).get("DeviceIndex") or 0)


def private_dns_name(address: str, region: str) -> str:
    if not address:
        return ""
    suffix = "ec2.internal" if region == "us-east-1" else f"{region}.compute.internal"
    return f"ip-{address.replace('.', '-')}.{suffix}"


def public_dns_name(address: str, region: str) -> str:
    suffix = ("compute-1.amazonaws.com" if region == "us-east-1"
              else f"{region}.compute.amazonaws.com")
    return f"ec2-{address.replace('.', '-')}.{suffix}"


def placement(region: str, zone: str) -> Directory:
    found = zone_named(region, zone)
    return Directory({"availability-zone": zone,
                      "availability-zone-id": found[1] if found else "",
                      "region": region})


def block_device_mapping(instance: dict) -> Directory:
    """`ami` and `root`: the root device; `ebsN`: the others, as AWS names them (no /dev/)."""
    mappings = instance.get("BlockDeviceMappings") or []
    root = instance.get("RootDeviceName") or (
        mappings[0].get("DeviceName") if mappings else None) or "/dev/xvda"
    tree = Directory({"ami": root, "root": root})
    others = [m.get("DeviceName") or "" for m in mappings if m.get("DeviceName") != root]
    for number, name in enumerate(others, 1):
        tree[f"ebs{number}"] = name.removeprefix("/dev/")
    return tree


def public_keys(instance: dict) -> Directory | None:
    keys = [k for k in instance.get("_public_keys") or [] if k]
    if not keys:
        return None
    name = instance.get("KeyName") or "key"
    listing = "\n".join(f"{i}={name if i == 0 else f'{name}-{i}'}" for i in range(len(keys)))
    return Directory({str(i): Directory({"openssh-key": key}) for i, key in enumerate(keys)},
                     listing=listing)


def interface_tree(facts: InstanceFacts, eni: dict) -> Directory:
    addresses = [a.get("PrivateIpAddress") for a in eni.get("PrivateIpAddresses") or []
                 if a.get("PrivateIpAddress")] or [eni.get("PrivateIpAddress") or ""]
    groups = eni.get("Groups") or facts.instance.get("SecurityGroups") or []
    subnet = facts.subnets.get(eni.get("SubnetId") or "") or {}
    vpc = facts.vpc or {}
    vpc_cidrs = [a["CidrBlock"] for a in vpc.get("CidrBlockAssociationSet") or []
                 if a.get("CidrBlock") and (a.get("CidrBlockState") or {}).get(
                     "State", "associated") == "associated"] or (
        [vpc["CidrBlock"]] if vpc.get("CidrBlock") else [])
    tree = Directory({
        "device-number": str(_device_index(eni)),
        "interface-id": eni.get("NetworkInterfaceId") or "",
        "local-hostname": eni.get("PrivateDnsName") or private_dns_name(addresses[0],
                                                                        facts.region),
        "local-ipv4s": "\n".join(addresses),
        "mac": eni.get("MacAddress") or "",
        "network-card-index": str((eni.get("Attachment") or {}).get("NetworkCardIndex", 0)),
        "owner-id": eni.get("OwnerId") or facts.account,
        "security-group-ids": "\n".join(g.get("GroupId") or "" for g in groups),
        "security-groups": "\n".join(g.get("GroupName") or facts.groups.get(
            g.get("GroupId") or "", "") for g in groups),
        "subnet-id": eni.get("SubnetId") or "",
        "subnet-ipv4-cidr-block": subnet.get("CidrBlock") or "",
        "vpc-id": eni.get("VpcId") or facts.instance.get("VpcId") or "",
        "vpc-ipv4-cidr-block": vpc.get("CidrBlock") or "",
        "vpc-ipv4-cidr-blocks": "\n".join(vpc_cidrs),
    })
    publics = {}
    for address in eni.get("PrivateIpAddresses") or []:
        public = (address.get("Association") or {}).get("PublicIp")
        if public:
            publics[public] = address.get("PrivateIpAddress") or ""
    primary_public = (eni.get("Association") or {}).get("PublicIp")
    if primary_public and primary_public not in publics:
        publics[primary_public] = addresses[0]
    if publics:
        first = next(iter(publics))
        tree["public-ipv4s"] = "\n".join(publics)
        tree["public-hostname"] = (eni.get("Association") or {}).get(
            "PublicDnsName") or public_dns_name(first, facts.region)
        tree["ipv4-associations"] = Directory(publics)
    return tree


def iam_tree(facts: InstanceFacts) -> Directory | None:
    profile = facts.profile
    if profile is None:
        return None
    roles = profile.get("Roles") or []
    tree = Directory({"info": lambda: pretty_json(instance_profile_info(facts))})
    if roles and facts.credentials is not None:
        credentials = facts.credentials
        tree["security-credentials"] = Directory({
            roles[0]["RoleName"]: lambda: pretty_json(credentials())})
    return tree


def instance_profile_info(facts: InstanceFacts) -> dict:
    profile = facts.profile or {}
    session = facts.credentials() if facts.credentials is not None and profile.get(
        "Roles") else None
    if session is not None and session.get("Code") != "Success":
        return {key: session[key] for key in ("Code", "Message", "LastUpdated") if key in session}
    return {"Code": "Success",
            "LastUpdated": (session or {}).get("LastUpdated") or iso(
                facts.instance.get("LaunchTime")),
            "InstanceProfileArn": profile.get("Arn") or "",
            "InstanceProfileId": profile.get("InstanceProfileId") or ""}


def dynamic(facts: InstanceFacts) -> Directory:
    document = identity_document(facts)

    def signed(name: str):
        return lambda: facts.sign(document)[name] if facts.sign is not None else None

    return Directory({"instance-identity": Directory({
        "document": document, "pkcs7": signed("pkcs7"), "rsa2048": signed("rsa2048"),
        "signature": signed("signature")})})


def identity_document(facts: InstanceFacts) -> str:
    instance = facts.instance
    return pretty_json({
        "accountId": facts.account,
        "architecture": architecture(instance),
        "availabilityZone": (instance.get("Placement") or {}).get("AvailabilityZone") or "",
        "billingProducts": None,
        "devpayProductCodes": None,
        "marketplaceProductCodes": None,
        "imageId": instance.get("ImageId") or "",
        "instanceId": instance["InstanceId"],
        "instanceType": instance.get("InstanceType") or "",
        "kernelId": None,
        "pendingTime": iso(instance.get("LaunchTime")),
        "privateIp": instance.get("PrivateIpAddress") or "",
        "ramdiskId": None,
        "region": facts.region,
        "version": IDENTITY_VERSION,
    })


def architecture(instance: dict) -> str:
    given = instance.get("Architecture")
    if given:
        return "x86_64" if given == "x86_64_mac" else given.removesuffix("_mac")
    return ARCHITECTURES.get(platform.machine(), platform.machine())


def pretty_json(value: dict) -> str:
    """JSON as IMDS writes it: two-space indents and `"key" : value`."""
    return json.dumps(value, indent=2, separators=(",", " : "))


def iso(value) -> str:
    """A record's time (epoch seconds, ISO text or a datetime) as AWS's `...T...Z`."""
    if value is None or value == "":
        return ""
    if isinstance(value, int | float):
        value = dt.datetime.fromtimestamp(value, dt.UTC)
    elif isinstance(value, str):
        try:
            value = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return value
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
