"""The names a VPC's resolver (the Amazon-provided DNS server at base + 2) answers: pure rules.

    settings = VpcNames(region, enabled, cidrs, domains)   # one VPC, as last committed
    answer(name, kind, settings, extra=None) -> [str] | None
        "A":   AWS's endpoint names (service_address), the private names of the VPC's
               addresses (ip-10-0-1-5.ec2.internal, ip-10-0-1-5.<DHCP domain-name>), and
               whatever `extra(name)` says first (other services' names: RDS endpoints;
               instances' public DNS names, which the port answers with the private
               address of the VPC's own, as AWS's resolver does)
        "PTR": 5.1.0.10.in-addr.arpa -> the private name of an address in the VPC
        None:  NXDOMAIN. Nothing is ever forwarded.
    service_address(name) -> S3_ADDRESS | DYNAMODB_ADDRESS | API_ADDRESS | None
    public_address(name) -> "127.100.0.5" for ec2-127-100-0-5.compute-1.amazonaws.com
                            (<region>.compute.amazonaws.com elsewhere), else None
    private_name(address, region) -> "ip-10-0-1-5.ec2.internal" (us-east-1) or
                                     "ip-10-0-1-5.<region>.compute.internal"
    certificate_names(regions) -> the DNS names of the certificate served on those addresses

AWS's endpoints, as the SDKs name them by default in every region: S3's path-style and
virtual-hosted names (`s3.amazonaws.com`, `<bucket>.s3.amazonaws.com`,
`s3.<region>.amazonaws.com`, `<bucket>.s3.<region>.amazonaws.com`, the legacy
`s3-<region>.amazonaws.com` and `s3-external-1`, dualstack, FIPS, access points, website)
lead to S3_ADDRESS, inside S3's prefix list, so an S3 gateway endpoint carries them;
DynamoDB's (`dynamodb.<region>`, the account-based `<account>.ddb.<region>`) to
DYNAMODB_ADDRESS; every other name under amazonaws.com (`sts.us-east-1.amazonaws.com`,
`sts.amazonaws.com`, `iam.amazonaws.com`, ...) to API_ADDRESS, except the names of
resources (instances' public names, RDS, load balancers, ElastiCache), which only the
service that has the resource answers (`extra`): NXDOMAIN otherwise.
"""

from __future__ import annotations

import functools
import ipaddress
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from cloudlet.services.ec2.network.dhcp import domain_name
from cloudlet.services.ec2.network.prefix_lists import (
    API_ADDRESS,
    DYNAMODB_ADDRESS,
    S3_ADDRESS,
)

REGION = r"[a-z]{2}(?:-[a-z]+)+-\d+"
_S3 = re.compile(
    rf"^(?:.+\.)?(?:s3|s3-fips|s3-accesspoint|s3-website)(?:\.dualstack)?(?:\.{REGION})?"
    rf"\.amazonaws\.com$"
    rf"|^(?:.+\.)?s3-(?:website-)?(?:external-1|{REGION})\.amazonaws\.com$")
_DYNAMODB = re.compile(rf"^(?:dynamodb(?:-fips)?|\d{{12}}\.ddb)\.{REGION}\.amazonaws\.com$")
_PRIVATE = re.compile(r"^ip-(\d{1,3})-(\d{1,3})-(\d{1,3})-(\d{1,3})\.(.+)$")
_PUBLIC = re.compile(rf"^ec2-(\d{{1,3}})-(\d{{1,3}})-(\d{{1,3}})-(\d{{1,3}})\."
                     rf"(?:compute-1|{REGION}\.compute)\.amazonaws\.com$")
# names of resources, not endpoints: answered by the service that has them, or NXDOMAIN
_RESOURCES = (".rds.amazonaws.com", ".elb.amazonaws.com", ".cache.amazonaws.com",
              ".compute-1.amazonaws.com", ".compute.amazonaws.com")
_REVERSE = ".in-addr.arpa"

Extra = Callable[[str], "str | list[str] | None"]
_network = functools.lru_cache(maxsize=4096)(ipaddress.ip_network)


@dataclass(frozen=True)
class VpcNames:
    """What the resolver of one VPC needs: its region, whether DNS resolution is on
    (`enableDnsSupport`), its IPv4 CIDR blocks and the domains its private names end in
    (the region's own and the DHCP options set's domain-name)."""

    region: str
    enabled: bool
    cidrs: tuple[str, ...]
    domains: tuple[str, ...]

    def holds(self, address: str) -> bool:
        try:
            found = ipaddress.ip_address(address)
        except ValueError:
            return False
        return any(found in _network(c) for c in self.cidrs
                   if _network(c).version == found.version)


def settings(region: str, vpc: dict, dhcp_options: dict | None, cidrs: Iterable[str]
             ) -> VpcNames:
    """A VPC's resolver settings from its records (the VPC, its DHCP options set)."""
    domains = [domain_name(region)]
    for item in (dhcp_options or {}).get("DhcpConfigurations") or []:
        if item.get("Key") == "domain-name":
            for value in item.get("Values") or []:
                domains += str(value.get("Value") or "").lower().split()
    attributes = vpc.get("_attributes") or {}
    return VpcNames(region, bool(attributes.get("EnableDnsSupport", True)),
                    tuple(c for c in cidrs if ipaddress.ip_network(c).version == 4),
                    tuple(dict.fromkeys(d.rstrip(".") for d in domains if d.rstrip("."))))


def service_address(name: str) -> str | None:
    """Where one of AWS's endpoint names leads inside a VPC (None: not one of them)."""
    if not name.endswith(".amazonaws.com") or name.endswith(_RESOURCES):
        return None
    if _S3.match(name):
        return S3_ADDRESS
    if _DYNAMODB.match(name):
        return DYNAMODB_ADDRESS
    return API_ADDRESS


def public_address(name: str) -> str | None:
    """The address an instance's public DNS name spells."""
    found = _PUBLIC.match(name)
    return _dotted(found.groups()) if found else None


def _dotted(octets) -> str | None:
    if any(int(o) > 255 or (len(o) > 1 and o[0] == "0") for o in octets):
        return None
    return ".".join(octets)


def private_name(address: str, region: str) -> str:
    return f"ip-{address.replace('.', '-')}.{domain_name(region)}"


def private_address(name: str, vpc: VpcNames) -> str | None:
    """The address of `ip-a-b-c-d.<domain>` when it lies in the VPC."""
    found = _PRIVATE.match(name)
    if found is None or found.group(5) not in vpc.domains:
        return None
    address = _dotted(found.groups()[:4])
    return address if address and vpc.holds(address) else None


def reverse(name: str, vpc: VpcNames) -> str | None:
    """The private name of `d.c.b.a.in-addr.arpa` when a.b.c.d lies in the VPC."""
    if not name.endswith(_REVERSE):
        return None
    octets = name[:-len(_REVERSE)].split(".")
    if len(octets) != 4 or not all(o.isdigit() and len(o) <= 3 for o in octets):
        return None
    address = ".".join(reversed(octets))
    if any(int(o) > 255 for o in octets) or not vpc.holds(address):
        return None
    return private_name(address, vpc.region)


def answer(name: str, kind: str, vpc: VpcNames, extra: Extra | None = None
           ) -> list[str] | None:
    """The resolver's records for `name` (lower case, no trailing dot); None: NXDOMAIN."""
    if kind == "PTR":
        found = reverse(name, vpc)
        return [found] if found else None
    if extra is not None:
        given = extra(name)
        if given:
            return [given] if isinstance(given, str) else list(given)
    found = service_address(name) or private_address(name, vpc)
    return [found] if found else None


def certificate_names(regions: Iterable[str]) -> list[str]:
    """The names Cloudlet's certificate for AWS's endpoints holds: as AWS's own, one
    wildcard level each (so a bucket with a dot in its name fails verification there too)."""
    names = ["*.amazonaws.com", "*.s3.amazonaws.com", "*.s3-external-1.amazonaws.com"]
    for region in regions:
        names += [f"*.{region}.amazonaws.com", f"*.s3.{region}.amazonaws.com",
                  f"*.s3-{region}.amazonaws.com", f"*.dualstack.{region}.amazonaws.com",
                  f"*.s3.dualstack.{region}.amazonaws.com", f"*.ddb.{region}.amazonaws.com"]
    return names
