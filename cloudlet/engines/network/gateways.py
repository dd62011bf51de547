"""Internet gateways, NAT gateways and gateway endpoints: namespaces beside the router.

- An internet gateway (`<prefix>-g-<net>`) has one link, to the router, and none to the host.
  Its lo holds the service addresses callers ask for (Cloudlet's endpoints) and the relay's
  "internet client" address. It forwards nothing: a packet from the router to any other
  address is counted (`outside`) and dropped. Private addresses reach the services only when
  they have a public address, and arrive from it (1:1 NAT).
- A NAT gateway is a host of its own (`<prefix>-h-<nat>`) with one interface in a subnet,
  forwarding with masquerade: out from the network, never in.
- A gateway endpoint (`<prefix>-x-<net>-<endpoint>`) is like an internet gateway without the
  public addresses: routes to its CIDRs (the prefix list) lead there.
"""

from __future__ import annotations

import ipaddress

from . import model, rules
from .model import Endpoint, Interface, InternetGateway, InvalidSpec, NatGateway, network_of
from .plumbing import Place
from .router import GATEWAY_NEAR, GATEWAY_PEER, FabricError, NetState, _short


class GatewaysMixin:
    prefix: str
    service_range: str
    client_address: str
    _nets: dict[str, NetState]
    _public: dict[str, tuple[str, str]]

    def gateway_namespace(self, net_id: str) -> str:
        return f"{self.prefix}-g-{net_id}"

    def endpoint_namespace(self, net_id: str, endpoint_id: str) -> str:
        return f"{self.prefix}-x-{net_id}-{endpoint_id}"

    def _endpoint_link(self, net_id: str, endpoint_id: str) -> str:
        return f"{self.prefix}x{_short(net_id, endpoint_id)}"

    def _check_services(self, services: tuple[str, ...]) -> None:
        for address in services:
            if ipaddress.ip_address(address) not in network_of(self.service_range):
                raise InvalidSpec(f"service address {address} is not in {self.service_range}")

    def _edge(self, n: NetState, name: str, near: str, services: tuple[str, ...],
              mapped: bool) -> Place:
        """A namespace linked to the router by `near` (router side) / `<prefix>rtr`."""
        place = Place(name)
        far = f"{self.prefix}rtr"
        place.nft.run("\n".join(rules.gateway(f"{self.prefix}_edge", far, services, mapped)))
        n.router.veth(near, place, far)
        n.router.address("add", near, GATEWAY_NEAR)
        place.address("add", far, GATEWAY_PEER)
        place.route("replace", "0.0.0.0/0", kind="blackhole")
        for cidr in n.cidrs:
            if network_of(cidr).version == 4:
                place.route("replace", cidr, via=GATEWAY_NEAR, dev=far)
        for address in services:
            place.address("add", "lo", address)
        return place

    def _set_services(self, place: Place, old: tuple[str, ...], new: tuple[str, ...]) -> None:
        table = f"ip {self.prefix}_edge"
        batch = [f"delete element {table} services {{ {a} }}" for a in old if a not in new]
        batch += [f"add element {table} services {{ {a} }}" for a in new if a not in old]
        if batch:
            place.nft.run("\n".join(batch))
        for address in new:
            if address not in old:
                place.address("add", "lo", address)
        for address in old:
            if address not in new:
                place.address("del", "lo", address)

    def _sync_cidrs(self, n: NetState) -> None:
        far = f"{self.prefix}rtr"
        for place in [n.gateway, *n.endpoint_places.values()]:
            if place is None:
                continue
            for cidr in n.cidrs:
                if network_of(cidr).version == 4:
                    place.route("replace", cidr, via=GATEWAY_NEAR, dev=far)
        for nat in n.nats.values():
            host = self._hosts[nat.id]
            host.nft.run("\n".join(rules.nat_gateway(f"{self.prefix}_nat", "eth0", n.cidrs)))

    # internet gateways -----------------------------------------------------------------
    def _put_internet_gateway(self, net_id: str, igw: InternetGateway) -> None:
        n = self._net(net_id)
        model.check_id(igw.id, "internet gateway")
        self._check_services(igw.services)
        if n.gateway is None:
            services = tuple(igw.services) + (self.client_address,)
            n.gateway = self._edge(n, self.gateway_namespace(net_id), f"{self.prefix}igw",
                                   services, mapped=True)
            n.igw = igw
            for iface in n.interfaces.values():
                self._map_public(n, None, iface)
            self._sync_all_routes(n)
            self._ensure_relay()
        else:
            self._set_services(n.gateway, n.igw.services, igw.services)
            n.igw = igw

    def _remove_internet_gateway(self, net_id: str) -> None:
        n = self._net(net_id)
        if n.gateway is None:
            return
        for iface in n.interfaces.values():
            self._map_public(n, iface, None)
        n.gateway.destroy()
        n.gateway, n.igw = None, None
        self._sync_all_routes(n)

    def _map_public(self, n: NetState, old: Interface | None, new: Interface | None) -> None:
        old_pair = (old.addresses[0], old.public_address) if old and old.public_address else None
        new_pair = (new.addresses[0], new.public_address) if new and new.public_address else None
        if old_pair == new_pair:
            return
        if new_pair and new_pair[1] in self._public and self._public[new_pair[1]] != (
                n.id, new_pair[0]) and (not old_pair or old_pair[1] != new_pair[1]):
            raise FabricError(f"public address {new_pair[1]} is already in use")
        batch = []
        table = f"ip {self.prefix}_edge"
        if old_pair:
            self._public.pop(old_pair[1], None)
            batch += [f"delete element {table} mapped {{ {old_pair[0]} }}",
                      f"delete element {table} public {{ {old_pair[0]} }}"]
        if new_pair:
            self._public[new_pair[1]] = (n.id, new_pair[0])
            batch += [f"add element {table} mapped {{ {new_pair[0]} }}",
                      f"add element {table} public {{ {new_pair[0]} : {new_pair[1]} }}"]
        if n.gateway is not None and batch:
            n.gateway.nft.run("\n".join(batch))

    # NAT gateways ----------------------------------------------------------------------
    def _put_nat_gateway(self, net_id: str, nat: NatGateway) -> None:
        n = self._net(net_id)
        model.check_id(nat.id, "NAT gateway")
        iface = Interface(nat.id, nat.subnet, nat.id, (nat.address,), source_dest_check=False,
                          public_address=nat.public_address)
        self._put_interface(net_id, iface, filtered=False)
        host = self._hosts[nat.id]
        if nat.id not in n.nats:
            host.sysctls(("net.ipv4.ip_forward", 1))
        host.nft.run("\n".join(rules.nat_gateway(f"{self.prefix}_nat", "eth0", n.cidrs)))
        n.nats[nat.id] = nat

    def _remove_nat_gateway(self, net_id: str, nat_id: str) -> None:
        n = self._net(net_id)
        if n.nats.pop(nat_id, None) is None:
            return
        self._remove_interface(net_id, nat_id)
        self._drop_host(nat_id)

    # gateway endpoints -----------------------------------------------------------------
    def _put_endpoint(self, net_id: str, endpoint: Endpoint) -> None:
        n = self._net(net_id)
        model.check_id(endpoint.id, "endpoint")
        self._check_services(endpoint.services)
        for cidr in endpoint.cidrs:
            network_of(cidr)
        place = n.endpoint_places.get(endpoint.id)
        if place is None:
            n.endpoint_places[endpoint.id] = self._edge(
                n, self.endpoint_namespace(net_id, endpoint.id),
                self._endpoint_link(net_id, endpoint.id), endpoint.services, mapped=False)
        else:
            self._set_services(place, n.endpoints[endpoint.id].services, endpoint.services)
        n.endpoints[endpoint.id] = endpoint
        self._sync_all_routes(n)

    def _remove_endpoint(self, net_id: str, endpoint_id: str) -> None:
        n = self._net(net_id)
        place = n.endpoint_places.pop(endpoint_id, None)
        n.endpoints.pop(endpoint_id, None)
        if place is not None:
            place.destroy()
            self._sync_all_routes(n)
