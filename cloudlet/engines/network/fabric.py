"""The Fabric: the public face of the VPC engine (see the package docstring for the API).

Every change runs on one worker thread, in order: pyroute2's netlink sockets belong to the
thread that opened them, and one thread at a time keeps the router's view consistent.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import ipaddress
import re
import socket as _socket
from collections.abc import Callable, Iterable, Iterator

from . import flowlogs, lifecycle, model, netns, nft, rules
from .gateways import GatewaysMixin
from .model import (
    Acl,
    Endpoint,
    Flow,
    Interface,
    InternetGateway,
    InvalidSpec,
    NatGateway,
    Network,
    SecurityGroup,
    Subnet,
)
from .plumbing import Place
from .relay import Relay
from .router import FabricError, NetState, RouterMixin

PREFIX = re.compile(r"^[a-z][a-z0-9]{0,4}$")


class FabricUnavailable(FabricError):
    """This machine cannot enforce networks (not root, no namespaces, no nftables)."""


class Fabric(GatewaysMixin, RouterMixin):
    """Networks of namespaces and nftables, named with `prefix` (at most 5 characters)."""

    def __init__(self, prefix: str = "cl", public_range: str = "127.100.0.0/16",
                 service_range: str = "198.18.0.0/15", client_address: str = "198.19.255.254",
                 metadata_address: str = "169.254.169.254", relay_timeout: float = 20.0) -> None:
        if not PREFIX.match(prefix):
            raise InvalidSpec("prefix must be 1-5 lowercase letters or digits, first a letter")
        if not model.network_of(public_range).subnet_of(ipaddress.ip_network("127.0.0.0/8")):
            raise InvalidSpec("public_range must lie in 127.0.0.0/8")
        if ipaddress.ip_address(client_address) not in model.network_of(service_range):
            raise InvalidSpec("client_address must lie in service_range")
        self.prefix = prefix
        self.public_range = str(model.network_of(public_range))
        self.service_range = str(model.network_of(service_range))
        self.client_address = client_address
        self.metadata_address = metadata_address
        self.relay_timeout = relay_timeout
        self._nets: dict[str, NetState] = {}
        self._hosts: dict[str, Place] = {}
        self._host_net: dict[str, str] = {}
        self._public: dict[str, tuple[str, str]] = {}
        self._relay: Relay | None = None
        self._host_nft: nft.Nft | None = None
        self._watchers: dict = {}  # network -> flowlogs.Watcher
        self._status: tuple[bool, str] | None = None
        self._worker: concurrent.futures.ThreadPoolExecutor | None = None

    # status and the worker -------------------------------------------------------------
    def status(self) -> tuple[bool, str]:
        """(True, "") when this machine can enforce networks, else (False, why not)."""
        if self._status is None:
            self._status = _probe()
        return self._status

    def _call(self, fn: Callable, *args):
        available, reason = self.status()
        if not available:
            raise FabricUnavailable(f"network enforcement is unavailable: {reason}")
        if self._worker is None:
            self._worker = concurrent.futures.ThreadPoolExecutor(
                1, thread_name_prefix=f"{self.prefix}-fabric")
        return self._worker.submit(fn, *args).result()

    # networks, subnets, ACLs, security groups, interfaces (router.py) -------------------
    def put_network(self, net_id: str, cidrs: Iterable[str]) -> None:
        """Create a network (its router namespace) or change its secondary CIDRs."""
        self._call(self._put_network, net_id, tuple(cidrs))

    def remove_network(self, net_id: str) -> None:
        """Remove a network with everything in it, its hosts' namespaces included."""
        self._call(self._remove_network, net_id)

    def put_subnet(self, net_id: str, subnet: Subnet) -> None:
        self._call(self._put_subnet, net_id, subnet)

    def remove_subnet(self, net_id: str, subnet_id: str) -> None:
        self._call(self._remove_subnet, net_id, subnet_id)

    def put_acl(self, net_id: str, acl: Acl) -> None:
        self._call(self._put_acl, net_id, acl)

    def remove_acl(self, net_id: str, acl_id: str) -> None:
        self._call(self._remove_acl, net_id, acl_id)

    def put_security_group(self, net_id: str, group: SecurityGroup) -> None:
        self._call(self._put_security_group, net_id, group)

    def remove_security_group(self, net_id: str, group_id: str) -> None:
        self._call(self._remove_security_group, net_id, group_id)

    def put_interface(self, net_id: str, interface: Interface) -> str:
        """Create or change an interface; returns its host's namespace path."""
        self._call(self._put_interface, net_id, interface)
        return netns.path(self.host_namespace_name(interface.host))

    def remove_interface(self, net_id: str, interface_id: str) -> None:
        self._call(self._remove_interface, net_id, interface_id)

    # gateways (gateways.py) -------------------------------------------------------------
    def put_internet_gateway(self, net_id: str, gateway: InternetGateway) -> str:
        """Attach (or change the services of) a network's internet gateway; returns its
        namespace, where callers listen on the service addresses."""
        self._call(self._put_internet_gateway, net_id, gateway)
        return self.gateway_namespace(net_id)

    def remove_internet_gateway(self, net_id: str) -> None:
        self._call(self._remove_internet_gateway, net_id)

    def put_nat_gateway(self, net_id: str, nat: NatGateway) -> None:
        self._call(self._put_nat_gateway, net_id, nat)

    def remove_nat_gateway(self, net_id: str, nat_id: str) -> None:
        self._call(self._remove_nat_gateway, net_id, nat_id)

    def put_endpoint(self, net_id: str, endpoint: Endpoint) -> str:
        """Create or change a gateway endpoint; returns its namespace."""
        self._call(self._put_endpoint, net_id, endpoint)
        return self.endpoint_namespace(net_id, endpoint.id)

    def remove_endpoint(self, net_id: str, endpoint_id: str) -> None:
        self._call(self._remove_endpoint, net_id, endpoint_id)

    # hosts and sockets -----------------------------------------------------------------
    def host_namespace(self, host: str) -> str:
        """The path of a host's namespace, created when it does not exist yet."""
        self._call(self._open_host, host)
        return netns.path(self.host_namespace_name(host))

    def remove_host(self, host: str) -> None:
        """Remove a host's interfaces and its namespace."""
        self._call(self._remove_host, host)

    @staticmethod
    def socket(where: str, family: int = _socket.AF_INET, type: int = _socket.SOCK_STREAM,
               proto: int = 0) -> _socket.socket:
        """A socket created inside the namespace `where` (a name or a path)."""
        return netns.socket(where, family, type, proto)

    @staticmethod
    @contextlib.contextmanager
    def inside(where: str) -> Iterator[None]:
        """Run the calling thread inside the namespace `where`, and back afterwards."""
        with netns.inside(where):
            yield

    def public_target(self, address: str) -> tuple[str, str] | None:
        """(internet gateway namespace, private address) for a public address, or None."""
        found = self._public.get(address)
        if found is None or self._nets.get(found[0]) is None or self._nets[found[0]].gateway is None:
            return None
        return self.gateway_namespace(found[0]), found[1]

    def interface_counters(self, net_id: str, interface_id: str) -> tuple[int, int, int, int]:
        """(rx_bytes, tx_bytes, rx_packets, tx_packets) as the interface's host sees them:
        what the router's end of the pair sent, the host received."""
        return self._call(self._interface_counters, net_id, interface_id)

    def host_tables(self) -> list[str]:
        """The names of the host's own nftables tables (the fabric's carry its prefix)."""
        return lifecycle.host_tables(self)

    def dropped_outside(self, net_id: str) -> int:
        """Packets the internet gateway dropped because nothing beyond it had their address."""
        return self._call(self._dropped_outside, net_id)

    # flow logs (flowlogs.py) -----------------------------------------------------------
    def watch_flows(self, net_id: str, interface_id: str, callback: Callable[[Flow], None],
                    interval: float = 5.0) -> None:
        """Hand `callback` a Flow for each accepted or rejected flow of the interface, every
        `interval` seconds, from the packet filter's own verdicts."""
        self._call(self._watch_flows, net_id, interface_id, callback, interval)

    def unwatch_flows(self, net_id: str, interface_id: str) -> None:
        self._call(self._unwatch_flows, net_id, interface_id)

    # life cycle ------------------------------------------------------------------------
    def reconcile(self, desired: Iterable[Network] = ()) -> dict[str, list[str]]:
        """At start: remove what a previous run left (namespaces, the host's table), keeping
        the namespaces of hosts that `desired` still has, and build `desired`."""
        return self._call(self._reconcile, tuple(desired))

    def teardown(self) -> None:
        """At stop: remove every namespace, link and table this fabric's prefix names."""
        if self.status()[0]:
            self._call(self._teardown)
        if self._worker is not None:
            self._worker.shutdown()
            self._worker = None

    # worker-side implementations -------------------------------------------------------
    def _open_host(self, host: str):
        model.check_id(host, "host")
        if host not in self._hosts:
            self._hosts[host] = Place(self.host_namespace_name(host))
        return self._hosts[host]

    def _drop_host(self, host: str) -> None:
        place = self._hosts.pop(host, None)
        self._host_net.pop(host, None)
        if place is not None:
            place.destroy()

    def _remove_host(self, host: str) -> None:
        net_id = self._host_net.get(host)
        if net_id in self._nets:
            n = self._nets[net_id]
            for iface in [i for i in n.interfaces.values() if i.host == host]:
                if iface.id in n.nats:
                    self._remove_nat_gateway(net_id, iface.id)
                else:
                    self._remove_interface(net_id, iface.id)
        self._drop_host(host)

    def _remove_network(self, net_id: str) -> None:
        n = self._nets.get(net_id)
        if n is None:
            return
        for endpoint_id in list(n.endpoint_places):
            self._remove_endpoint(net_id, endpoint_id)
        self._remove_internet_gateway(net_id)
        for eni_id in list(n.flow_logs):
            self._unwatch_flows(net_id, eni_id)
        for iface in n.interfaces.values():
            if iface.public_address:
                self._public.pop(iface.public_address, None)
        n.router.destroy()
        del self._nets[net_id]
        for host in [h for h, owner in self._host_net.items() if owner == net_id]:
            self._drop_host(host)

    def _interface_counters(self, net_id: str, interface_id: str) -> tuple[int, int, int, int]:
        n = self._net(net_id)
        if interface_id not in n.interfaces:
            raise FabricError(f"no interface {interface_id!r} in {net_id!r}")
        link = n.router.ipr.link("get", ifname=self._link(net_id, interface_id))[0]
        stats = link.get_attr("IFLA_STATS64") or link.get_attr("IFLA_STATS")
        return (stats["tx_bytes"], stats["rx_bytes"], stats["tx_packets"], stats["rx_packets"])

    def _dropped_outside(self, net_id: str) -> int:
        n = self._net(net_id)
        if n.gateway is None:
            return 0
        found = n.gateway.nft.list(f"list counter ip {self.prefix}_edge outside")
        return sum(item["counter"]["packets"] for item in found if "counter" in item)

    def _ensure_relay(self) -> None:
        if self._relay is None:
            self._relay = Relay(self.public_target, self.client_address, self.relay_timeout)
            self._relay.start()
        if self._host_nft is None:
            self._host_nft = nft.Nft()  # the worker thread lives in the host's namespace
        self._host_nft.run("\n".join(rules.public_redirect(
            f"{self.prefix}_public", self.public_range, self._relay.port)))

    def _watch_flows(self, net_id, interface_id, callback, interval) -> None:
        flowlogs.watch(self, net_id, interface_id, callback, interval)

    def _unwatch_flows(self, net_id, interface_id) -> None:
        flowlogs.unwatch(self, net_id, interface_id)

    def _reconcile(self, desired: tuple[Network, ...]) -> dict[str, list[str]]:
        return lifecycle.reconcile(self, desired)

    def _teardown(self) -> None:
        lifecycle.teardown(self)


def _probe() -> tuple[bool, str]:
    available, reason = netns.available()
    if not available:
        return False, reason
    available, reason = nft.available()
    if not available:
        return False, reason
    try:
        nft.Nft().list("list tables")
    except nft.NftError as exc:
        return False, f"nftables refused to list tables: {exc}"
    return True, ""
