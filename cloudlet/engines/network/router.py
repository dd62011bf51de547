"""A network's router namespace: subnets and their routing tables, network ACLs, security
groups and interfaces (veth pairs into host namespaces). Runs on the fabric's worker thread.

Routing: one table per subnet, chosen by `ip rule iif <interface's link> lookup <table>`;
the network's CIDRs are `throw` routes there (so the main table, with a /32 route per
interface address, answers them), and a destination without a route is a `blackhole`:
dropped silently. Every router-side link carries its subnet's gateway (base + 1) as a /32,
with proxy ARP answering at once (proxy_delay=0), so every packet, even inside a subnet,
crosses the router's filter.
"""

from __future__ import annotations

import contextlib
import hashlib
import ipaddress
import re
from dataclasses import dataclass, field

from . import model, rules
from .model import Acl, Interface, InvalidSpec, Route, SecurityGroup, Subnet, network_of
from .plumbing import Place

GATEWAY_PEER = "169.254.255.2"  # the far end of a link to an internet gateway or endpoint
GATEWAY_NEAR = "169.254.255.1"
RULE_PRIORITY = 1000
MAC = re.compile(r"^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$")
FIRST_TABLE = 100


class FabricError(RuntimeError):
    """The fabric cannot do what it was asked (unknown object, object in use, ...)."""


@dataclass
class NetState:
    id: str
    cidrs: tuple[str, ...]
    router: Place
    subnets: dict[str, Subnet] = field(default_factory=dict)
    tables: dict[str, int] = field(default_factory=dict)
    routes: dict[str, dict[str, tuple]] = field(default_factory=dict)
    acls: dict[str, Acl] = field(default_factory=dict)
    groups: dict[str, SecurityGroup] = field(default_factory=dict)
    interfaces: dict[str, Interface] = field(default_factory=dict)
    unfiltered: set[str] = field(default_factory=set)  # NAT gateways' interfaces: no groups
    igw: model.InternetGateway | None = None
    gateway: Place | None = None
    nats: dict[str, model.NatGateway] = field(default_factory=dict)
    endpoints: dict[str, model.Endpoint] = field(default_factory=dict)
    endpoint_places: dict[str, Place] = field(default_factory=dict)
    flow_logs: dict[str, int] = field(default_factory=dict)
    chains: set[str] = field(default_factory=set)  # groups whose chains exist


def _short(*parts: str) -> str:
    return hashlib.sha1("/".join(parts).encode()).hexdigest()[:9]


class RouterMixin:
    prefix: str
    _nets: dict[str, NetState]
    _hosts: dict[str, Place]
    _host_net: dict[str, str]
    _public: dict[str, tuple[str, str]]

    # names -----------------------------------------------------------------------------
    @property
    def table(self) -> str:
        return f"{self.prefix}_vpc"

    def router_namespace(self, net_id: str) -> str:
        """The router namespace of a network (the resolver and metadata addresses live here)."""
        return f"{self.prefix}-r-{net_id}"

    def host_namespace_name(self, host: str) -> str:
        return f"{self.prefix}-h-{host}"

    def _link(self, net_id: str, eni_id: str) -> str:
        return f"{self.prefix}i{_short(net_id, eni_id)}"

    def resolver_address(self, net_id: str) -> str:
        """The network's DNS resolver: the primary CIDR's base + 2, on the router's lo."""
        return str(network_of(self._net(net_id).cidrs[0])[2])

    # lookups ---------------------------------------------------------------------------
    def _net(self, net_id: str) -> NetState:
        try:
            return self._nets[net_id]
        except KeyError:
            raise FabricError(f"no network {net_id!r}") from None

    def _subnet(self, n: NetState, subnet_id: str) -> Subnet:
        try:
            return n.subnets[subnet_id]
        except KeyError:
            raise FabricError(f"no subnet {subnet_id!r} in {n.id}") from None

    # networks --------------------------------------------------------------------------
    def _put_network(self, net_id: str, cidrs: tuple[str, ...]) -> None:
        model.check_id(net_id, "network")
        cidrs = tuple(str(network_of(c)) for c in cidrs)
        if not cidrs or network_of(cidrs[0]).version != 4:
            raise InvalidSpec("a network needs an IPv4 CIDR first")
        n = self._nets.get(net_id)
        if n is None:
            router = Place(self.router_namespace(net_id), forward=True)
            n = NetState(net_id, cidrs, router)
            services = (str(network_of(cidrs[0])[2]), self.metadata_address)
            for address in services:
                router.address("add", "lo", address)
            router.route("replace", "0.0.0.0/0", kind="blackhole")
            router.nft.run("\n".join(rules.router(self.table, services)))
            self._nets[net_id] = n
            return
        if cidrs[0] != n.cidrs[0]:
            raise InvalidSpec("the primary CIDR of a network cannot change")
        n.cidrs = cidrs
        for subnet_id in n.subnets:
            self._sync_routes(n, subnet_id)
        self._sync_cidrs(n)

    def _sync_cidrs(self, n: NetState) -> None:
        """Hooks for the gateways, which route the network's CIDRs back to the router."""

    # subnets ---------------------------------------------------------------------------
    def _put_subnet(self, net_id: str, subnet: Subnet) -> None:
        n = self._net(net_id)
        model.check_id(subnet.id, "subnet")
        cidr = network_of(subnet.cidr)
        if not any(cidr.subnet_of(network_of(c)) for c in n.cidrs if network_of(c).version == 4):
            raise InvalidSpec(f"{subnet.cidr} is not inside {n.id}'s CIDRs")
        for route in subnet.routes:
            if route.kind not in model.ROUTE_KINDS:
                raise InvalidSpec(f"unknown route target {route.kind!r}")
            if route.destination or route.kind != model.ENDPOINT:
                network_of(route.destination)
        old = n.subnets.get(subnet.id)
        if old is not None and network_of(old.cidr) != cidr:
            raise InvalidSpec("the CIDR of a subnet cannot change")
        batch = []
        if subnet.acl and subnet.acl not in n.acls:
            batch += rules.acl(self.table, subnet.acl, ())  # an ACL not yet put: deny all
        batch += rules.subnet(self.table, subnet.id, str(cidr), subnet.acl)
        n.router.nft.run("\n".join(batch))
        if subnet.id not in n.tables:
            used = set(n.tables.values())
            n.tables[subnet.id] = next(t for t in range(FIRST_TABLE, 1 << 20) if t not in used)
        n.subnets[subnet.id] = subnet
        self._sync_routes(n, subnet.id)

    def _remove_subnet(self, net_id: str, subnet_id: str) -> None:
        n = self._net(net_id)
        subnet = self._subnet(n, subnet_id)
        users = [i.id for i in n.interfaces.values() if i.subnet == subnet_id]
        if users:
            raise FabricError(f"subnet {subnet_id} still has interfaces {users}")
        for dst, spec in n.routes.pop(subnet_id, {}).items():
            n.router.route("del", dst, n.tables[subnet_id], *spec)
        del n.tables[subnet_id], n.subnets[subnet.id]
        s = rules.ident(subnet_id)
        n.router.nft.run("\n".join(f"flush chain inet {self.table} s_{s}_{d}\n"
                                   f"delete chain inet {self.table} s_{s}_{d}"
                                   for d in ("out", "in")))

    def _resolve(self, n: NetState, route: Route) -> tuple:
        """(kind, via, dev) for a route, a blackhole when its target is not there."""
        if route.kind == model.LOCAL:
            return ("throw", None, None)
        if route.kind == model.INTERNET_GATEWAY and n.gateway is not None:
            return ("unicast", GATEWAY_PEER, f"{self.prefix}igw")
        if route.kind in (model.NAT_GATEWAY, model.INTERFACE) and route.target in n.interfaces:
            target = n.interfaces[route.target]
            return ("unicast", target.addresses[0], self._link(n.id, target.id))
        if route.kind == model.ENDPOINT and route.target in n.endpoint_places:
            return ("unicast", GATEWAY_PEER, self._endpoint_link(n.id, route.target))
        return ("blackhole", None, None)

    def _sync_routes(self, n: NetState, subnet_id: str) -> None:
        subnet, table = n.subnets[subnet_id], n.tables[subnet_id]
        want: dict[str, tuple] = {}
        for cidr in n.cidrs:
            if network_of(cidr).version == 4:
                want[str(network_of(cidr))] = ("throw", None, None)
        for route in subnet.routes:
            destinations = (route.destination,)
            if route.kind == model.ENDPOINT and not route.destination:
                endpoint = n.endpoints.get(route.target)
                destinations = endpoint.cidrs if endpoint else ()
            for dst in destinations:
                if network_of(dst).version == 4:
                    want[str(network_of(dst))] = self._resolve(n, route)
        want.setdefault("0.0.0.0/0", ("blackhole", None, None))
        have = n.routes.get(subnet_id, {})
        for dst, spec in want.items():
            if have.get(dst) != spec:
                n.router.route("replace", dst, table, *spec)
        for dst in set(have) - set(want):
            n.router.route("del", dst, table, *have[dst])
        n.routes[subnet_id] = want

    def _sync_all_routes(self, n: NetState) -> None:
        for subnet_id in n.subnets:
            self._sync_routes(n, subnet_id)

    # network ACLs ----------------------------------------------------------------------
    def _put_acl(self, net_id: str, acl: Acl) -> None:
        n = self._net(net_id)
        model.check_id(acl.id, "network ACL")
        for entry in acl.entries:
            if not 1 <= entry.number <= 32767:
                raise InvalidSpec(f"ACL rule number {entry.number} is out of range")
        n.router.nft.run("\n".join(rules.acl(self.table, acl.id, acl.entries)))
        n.acls[acl.id] = acl

    def _remove_acl(self, net_id: str, acl_id: str) -> None:
        n = self._net(net_id)
        users = [s.id for s in n.subnets.values() if s.acl == acl_id]
        if users:
            raise FabricError(f"network ACL {acl_id} is associated with {users}")
        if n.acls.pop(acl_id, None) is not None:
            a = rules.ident(acl_id)
            n.router.nft.run("\n".join(f"flush chain inet {self.table} a_{a}_{d}\n"
                                       f"delete chain inet {self.table} a_{a}_{d}"
                                       for d in ("out", "in")))

    # security groups -------------------------------------------------------------------
    def _put_security_group(self, net_id: str, group: SecurityGroup) -> None:
        n = self._net(net_id)
        model.check_id(group.id, "security group")
        for rule in group.ingress + group.egress:
            for ref in rule.groups:
                model.check_id(ref, "security group")
        n.router.nft.run("\n".join(self._group_batch(n, group.id, group.ingress, group.egress)))
        n.groups[group.id] = group

    def _group_batch(self, n: NetState, group_id: str, ingress: tuple, egress: tuple
                     ) -> list[str]:
        """The group's two chains rebuilt whole in one transaction (flush, then its rules):
        a change touches this group's chains only, whatever the number of interfaces."""
        ft = f"inet {self.table}"
        refs = {g for rule in ingress + egress for g in rule.groups} | {group_id}
        batch = [rules.member_set(self.table, g) for g in sorted(refs)]
        for suffix, lines in rules.security_group_lines(ingress, egress).items():
            batch += rules.chain(ft, f"g_{rules.ident(group_id)}_{suffix}", lines)
        n.chains.add(group_id)
        return batch

    def _remove_security_group(self, net_id: str, group_id: str) -> None:
        n = self._net(net_id)
        users = [i.id for i in n.interfaces.values() if group_id in i.groups]
        if users:
            raise FabricError(f"security group {group_id} is used by {users}")
        if n.groups.pop(group_id, None) is None:
            return
        g = rules.ident(group_id)
        batch = [f"flush chain inet {self.table} g_{g}_{d}\ndelete chain inet {self.table} g_{g}_{d}"
                 for d in ("in", "eg")]
        n.chains.discard(group_id)
        referenced = any(group_id in rule.groups for other in n.groups.values()
                         for rule in other.ingress + other.egress)
        if not referenced:
            batch.append(f"delete set inet {self.table} m_{g}")
        n.router.nft.run("\n".join(batch))

    # interfaces ------------------------------------------------------------------------
    def _host(self, host: str, net_id: str) -> Place:
        model.check_id(host, "host")
        bound = self._host_net.get(host)
        if bound is not None and bound != net_id:
            raise FabricError(f"host {host} is in network {bound}, not {net_id}")
        place = self._hosts.get(host)
        if place is None:
            place = self._hosts[host] = Place(self.host_namespace_name(host))
        self._host_net[host] = net_id
        return place

    def _check_interface(self, n: NetState, iface: Interface) -> ipaddress.IPv4Network:
        model.check_id(iface.id, "interface")
        subnet = network_of(self._subnet(n, iface.subnet).cidr)
        if not iface.addresses:
            raise InvalidSpec(f"interface {iface.id} has no address")
        for address in iface.addresses:
            if ipaddress.ip_address(address) not in subnet:
                raise InvalidSpec(f"{address} is not in subnet {iface.subnet} ({subnet})")
        if iface.public_address and (
                ipaddress.ip_address(iface.public_address) not in network_of(self.public_range)):
            raise InvalidSpec(f"{iface.public_address} is not in {self.public_range}")
        if iface.mac is not None and not MAC.match(iface.mac):
            raise InvalidSpec(f"{iface.mac!r} is not a MAC address")
        if not 0 <= iface.device_index <= 31:
            raise InvalidSpec("device index must be 0-31")
        for other in n.interfaces.values():
            if other.id == iface.id:
                continue
            if set(other.addresses) & set(iface.addresses):
                raise InvalidSpec(f"an address of {iface.id} belongs to {other.id}")
            if (other.host, other.device_index) == (iface.host, iface.device_index):
                raise InvalidSpec(f"{iface.host} already has device {iface.device_index}")
        holder = self._public.get(iface.public_address) if iface.public_address else None
        if holder is not None and holder != (n.id, iface.addresses[0]):
            raise InvalidSpec(f"public address {iface.public_address} is in use")
        return subnet

    def _put_interface(self, net_id: str, iface: Interface, filtered: bool = True) -> None:
        n = self._net(net_id)
        subnet = self._check_interface(n, iface)
        old = n.interfaces.get(iface.id)
        if old is not None and (old.subnet, old.host, old.device_index, old.mac) != (
                iface.subnet, iface.host, iface.device_index, iface.mac):
            self._remove_interface(net_id, iface.id)
            old = None
        host = self._host(iface.host, net_id)
        try:
            self._build_interface(n, old, iface, filtered, subnet, host)
        except Exception:
            if old is None:  # nothing half-built stays
                n.interfaces[iface.id] = iface
                with contextlib.suppress(Exception):
                    self._remove_interface(net_id, iface.id)
            raise

    def _build_interface(self, n: NetState, old: Interface | None, iface: Interface,
                         filtered: bool, subnet: ipaddress.IPv4Network, host: Place) -> None:
        link, table = self._link(n.id, iface.id), self.table
        batch = [line for g in iface.groups if g not in n.chains  # not put yet: no rules
                 for line in self._group_batch(n, g, (), ())]
        batch += rules.interface(table, iface.id, iface.addresses, iface.groups,
                                 iface.source_dest_check, filtered, n.flow_logs.get(iface.id))
        if old is None:
            batch += rules.interface_elements(table, "add", link, iface.id, iface.subnet)
        before = {(g, a) for g in old.groups for a in old.addresses} if old else set()
        after = {(g, a) for g in iface.groups for a in iface.addresses} if filtered else set()
        batch += [f"delete element inet {table} m_{rules.ident(g)} {{ {a} }}"
                  for g, a in sorted(before - after)]
        batch += [f"add element inet {table} m_{rules.ident(g)} {{ {a} }}"
                  for g, a in sorted(after - before)]
        n.router.nft.run("\n".join(batch))
        gateway, device = str(subnet[1]), f"eth{iface.device_index}"
        if old is None:
            n.router.veth(link, host, device, iface.mac)
            n.router.address("add", link, gateway)
            n.router.sysctls((f"net.ipv4.conf.{link}.proxy_arp", 1),
                             (f"net.ipv4.neigh.{link}.proxy_delay", 0))
            n.router.rule("add", link, n.tables[iface.subnet], RULE_PRIORITY)
        old_addresses = set(old.addresses) if old else set()
        for address in iface.addresses:
            if address not in old_addresses:
                host.address("add", device, address, subnet.prefixlen)
                n.router.route("replace", f"{address}/32", dev=link)
        for address in old_addresses - set(iface.addresses):
            host.address("del", device, address, subnet.prefixlen)
            n.router.route("del", f"{address}/32", dev=link)
        if old is None and iface.device_index == 0:
            host.route("replace", "0.0.0.0/0", via=gateway, dev=device)
        n.interfaces[iface.id] = iface
        if not filtered:
            n.unfiltered.add(iface.id)
        self._map_public(n, old, iface)
        self._sync_all_routes(n)

    def _remove_interface(self, net_id: str, eni_id: str) -> None:
        n = self._net(net_id)
        if eni_id in n.flow_logs:
            self._unwatch_flows(net_id, eni_id)
        iface = n.interfaces.pop(eni_id, None)
        if iface is None:
            return
        link, table = self._link(net_id, eni_id), self.table
        n.router.rule("del", link, n.tables[iface.subnet], RULE_PRIORITY)
        n.router.delete_link(link)
        e = rules.ident(eni_id)
        batch = rules.interface_elements(table, "delete", link, eni_id, iface.subnet)
        if eni_id not in n.unfiltered:
            batch += [f"delete element inet {table} m_{rules.ident(g)} {{ {a} }}"
                      for g in iface.groups for a in iface.addresses]
        batch += [f"flush chain inet {table} {c}_{e}\ndelete chain inet {table} {c}_{e}"
                  for c in ("e", "i")]
        n.router.nft.run("\n".join(batch))
        n.unfiltered.discard(eni_id)
        self._map_public(n, iface, None)
        self._sync_all_routes(n)

    def _map_public(self, n: NetState, old: Interface | None, new: Interface | None) -> None:
        """Keep the relay's map and the internet gateway's 1:1 NAT in step with `new`."""
