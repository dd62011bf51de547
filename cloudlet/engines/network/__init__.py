"""The VPC fabric: networks that enforce their own rules, from namespaces and nftables.

An engine: it knows nothing of AWS's shapes. Callers describe objects with the frozen records
of `model.py` and put them, one object per call; a put replaces the object whole.

    fabric = Fabric(prefix="cl", public_range="127.100.0.0/16",
                    service_range="198.18.0.0/15", client_address="198.19.255.254",
                    metadata_address="169.254.169.254", relay_timeout=20.0)
    fabric.status() -> (available, reason)       # not root / no netns / no nft: False, why
    fabric.reconcile(desired: Iterable[Network] = ()) -> {"removed", "kept", "built"}
    fabric.teardown()

    fabric.put_network(net_id, cidrs)            / remove_network(net_id)
    fabric.put_subnet(net_id, Subnet(id, cidr, routes=(Route(destination, kind, target),),
                                     acl=None))  / remove_subnet(net_id, subnet_id)
    fabric.put_acl(net_id, Acl(id, entries=(AclEntry(number, egress, allow, cidr, protocol,
                                                     ports, icmp),)))  / remove_acl(...)
    fabric.put_security_group(net_id, SecurityGroup(id, ingress=(Rule(protocol, ports, icmp,
                                                    cidrs, groups),), egress=(...)))
                                                  / remove_security_group(net_id, group_id)
    fabric.put_interface(net_id, Interface(id, subnet, host, addresses, device_index=0,
                         mac=None, groups=(), source_dest_check=True, public_address=None))
                         -> host namespace path  / remove_interface(net_id, interface_id)
    fabric.put_internet_gateway(net_id, InternetGateway(id, services=())) -> namespace
                                                  / remove_internet_gateway(net_id)
    fabric.put_nat_gateway(net_id, NatGateway(id, subnet, address, public_address))
                                                  / remove_nat_gateway(net_id, nat_id)
    fabric.put_endpoint(net_id, Endpoint(id, cidrs, services=())) -> namespace
                                                  / remove_endpoint(net_id, endpoint_id)
    fabric.host_namespace(host) -> path (made on demand) / remove_host(host)
    fabric.watch_flows(net_id, interface_id, callback(Flow), interval=5.0) / unwatch_flows
    fabric.socket(where, family, type, proto) -> a socket made inside namespace `where`
    fabric.inside(where)                          # context manager: this thread, then back
    names: router_namespace(net_id), gateway_namespace(net_id), endpoint_namespace(net_id,
           endpoint_id), host_namespace_name(host), resolver_address(net_id) (base + 2),
           metadata_address; public_target(public) -> (gateway namespace, private) | None;
           dropped_outside(net_id) -> packets the gateway dropped for lack of anything there

Route kinds: "local", "internet-gateway", "nat-gateway" (target: the NAT's id), "interface"
(target: an interface id), "endpoint" (target: its id; no destination = its CIDRs), and
"blackhole". A target that is not there is a blackhole, and so is a destination with no
route: dropped silently, clients time out. Errors: `InvalidSpec` (a bad record, refused
before anything changes), `FabricError` (unknown object, object in use) and
`FabricUnavailable` (every change, when status() is False).

What it builds (`p` is the prefix, at most 5 characters; every name carries it):
- `p-r-<net>`: the router, ip_forward=1 there only. Table `inet p_vpc` (see rules.py), one
  routing table per subnet (`ip rule iif <link> lookup <table>`), the resolver (base + 2) and
  the metadata address on its lo, reached as INPUT (security groups do not apply).
- per interface, a veth pair: `p` + "i" + 9 hex in the router (the subnet's gateway .1 as a /32,
  proxy ARP with proxy_delay=0, a /32 route per address) and `eth<device_index>` in
  `p-h-<host>`, the host namespace (an instance, a NAT gateway, ...), made on demand.
- `p-g-<net>`: the internet gateway, linked only to the router (`p`igw / `p`rtr, 169.254.255.1
  and .2); table `ip p_edge`: service addresses (in service_range, never routable) on its lo,
  1:1 NAT of public addresses, everything else counted and dropped. It forwards nothing.
- `p-x-<net>-<endpoint>`: a gateway endpoint (`p` + "x" + 9 hex in the router), same table.
- a NAT gateway is the host `p-h-<nat id>`, table `ip p_nat`: masquerade out, nothing in.
- on the host itself only the table `ip p_public`: TCP to public_range is redirected to the
  relay on 127.0.0.1 (relay.py), which continues from the internet gateway's namespace, so
  the subnet's routes, ACL and the interface's groups apply. No host route, no forwarding.
IPv4 only: IPv6 is disabled in every namespace and IPv6 rules never match.
"""

from .fabric import Fabric, FabricUnavailable
from .model import (
    Acl,
    AclEntry,
    Endpoint,
    Flow,
    Interface,
    InternetGateway,
    InvalidSpec,
    NatGateway,
    Network,
    Route,
    Rule,
    SecurityGroup,
    Subnet,
)
from .router import FabricError

__all__ = ["Acl", "AclEntry", "Endpoint", "Fabric", "FabricError", "FabricUnavailable", "Flow",
           "InternetGateway", "Interface", "InvalidSpec", "NatGateway", "Network", "Route",
           "Rule", "SecurityGroup", "Subnet"]
