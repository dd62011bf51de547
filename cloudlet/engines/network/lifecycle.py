"""Start and stop: find what carries the fabric's prefix, rebuild or remove it.

Names the fabric makes (`p` is the prefix):
    <p>-r-<net>              router namespace of a network
    <p>-g-<net>              internet-gateway namespace
    <p>-x-<net>-<endpoint>   gateway-endpoint namespace
    <p>-h-<host>             host namespace (an instance, a NAT gateway, ...)
    ip <p>_public            the host's own nftables table (the redirect to the relay)
Routers, gateways and endpoints are rebuilt from scratch; a host that is still wanted keeps
its namespace (and the processes in it) and gets its interfaces again.
"""

from __future__ import annotations

import contextlib

from . import netns
from .model import Network
from .nft import Nft, NftError
from .plumbing import Place


def _leftovers(fabric) -> list[str]:
    return netns.names(f"{fabric.prefix}-")


def host_tables(fabric) -> list[str]:
    ctx = Nft()
    try:
        return [item["table"]["name"] for item in ctx.list("list tables")
                if "table" in item]
    except NftError:
        return []
    finally:
        ctx.close()


def _remove_host_table(fabric) -> bool:
    ctx = fabric._host_nft or Nft()
    try:
        ctx.run(f"delete table ip {fabric.prefix}_public")
        return True
    except NftError:
        return False
    finally:
        if ctx is not fabric._host_nft:
            ctx.close()


def reconcile(fabric, desired: tuple[Network, ...]) -> dict[str, list[str]]:
    keep_hosts = {f"{fabric.prefix}-h-{iface.host}" for net in desired
                  for iface in net.interfaces}
    keep_hosts |= {f"{fabric.prefix}-h-{nat.id}" for net in desired for nat in net.nat_gateways}
    removed, kept = [], []
    if _remove_host_table(fabric):
        removed.append(f"ip {fabric.prefix}_public")
    names = [name for name in _leftovers(fabric) if not _known(fabric, name)]
    # routers first: deleting their links takes the host ends with them, at once
    for name in sorted(names, key=lambda name: name[len(fabric.prefix) + 1] == "h"):
        if name in keep_hosts:
            kept.append(name)
            continue
        with contextlib.suppress(FileNotFoundError, OSError):
            Place(name, create=False).destroy()
        removed.append(name)
    for net in desired:
        build(fabric, net)
    return {"removed": removed, "kept": kept, "built": [net.id for net in desired]}


def _known(fabric, name: str) -> bool:
    """Whether this run of the fabric already owns the namespace `name`."""
    places = [n.router for n in fabric._nets.values()]
    places += [n.gateway for n in fabric._nets.values() if n.gateway is not None]
    places += [p for n in fabric._nets.values() for p in n.endpoint_places.values()]
    places += list(fabric._hosts.values())
    return any(place.name == name for place in places)


def build(fabric, net: Network) -> None:
    """Build one network from its whole description, in dependency order."""
    fabric._put_network(net.id, net.cidrs)
    for acl in net.acls:
        fabric._put_acl(net.id, acl)
    for group in net.security_groups:
        fabric._put_security_group(net.id, group)
    for subnet in net.subnets:
        fabric._put_subnet(net.id, subnet)
    if net.internet_gateway is not None:
        fabric._put_internet_gateway(net.id, net.internet_gateway)
    for endpoint in net.endpoints:
        fabric._put_endpoint(net.id, endpoint)
    for nat in net.nat_gateways:
        fabric._put_nat_gateway(net.id, nat)
    for iface in net.interfaces:
        fabric._put_interface(net.id, iface)


def teardown(fabric) -> None:
    for net_id in list(fabric._nets):
        fabric._remove_network(net_id)
    for host in list(fabric._hosts):
        fabric._drop_host(host)
    if fabric._relay is not None:
        fabric._relay.stop()
        fabric._relay = None
    _remove_host_table(fabric)
    if fabric._host_nft is not None:
        fabric._host_nft.close()
        fabric._host_nft = None
    for name in _leftovers(fabric):
        with contextlib.suppress(FileNotFoundError, OSError):
            Place(name, create=False).destroy()
