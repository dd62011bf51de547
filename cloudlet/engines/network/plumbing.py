"""One namespace the fabric manages: its netlink socket (pyroute2) and nftables context.

`Place` objects are made and used by the fabric's one worker thread: pyroute2's sockets are
per thread, and both sockets are opened while that thread is inside the namespace, so they
keep working on it from then on.
"""

from __future__ import annotations

import contextlib
import ipaddress
import os

from pyroute2 import IPRoute
from pyroute2.netlink.exceptions import NetlinkError

from . import netns
from .nft import Nft

RT_SCOPE_LINK = 253
RTNH_F_ONLINK = 4
_ENOENT, _ESRCH, _EEXIST, _ENODEV = 2, 3, 17, 19

BASE_SYSCTLS = (("net.ipv6.conf.all.disable_ipv6", 1), ("net.ipv6.conf.default.disable_ipv6", 1),
                ("net.ipv4.conf.all.rp_filter", 0), ("net.ipv4.conf.default.rp_filter", 0),
                ("net.ipv4.conf.all.send_redirects", 0),
                ("net.ipv4.conf.default.send_redirects", 0))


class Place:
    """A named namespace, opened (created when `create`) by the calling thread."""

    def __init__(self, name: str, create: bool = True, forward: bool = False) -> None:
        self.name = name
        fresh = False
        if not netns.exists(name):
            if not create:
                raise FileNotFoundError(name)
            netns.create(name)
            fresh = True
        self.fd = os.open(netns.path(name), os.O_RDONLY)
        self._indexes: dict[str, int] = {}
        with netns.inside(name):
            self.ipr = IPRoute()
            self.nft = Nft()
            if fresh:
                for key, value in BASE_SYSCTLS:
                    netns.sysctl(key, value)
                netns.sysctl("net.ipv4.ip_forward", 1 if forward else 0)
        if fresh:
            self.up("lo")

    def sysctls(self, *pairs: tuple[str, object]) -> None:
        with netns.inside(self.name):
            for key, value in pairs:
                netns.sysctl(key, value)

    def index(self, ifname: str) -> int | None:
        if ifname in self._indexes:
            return self._indexes[ifname]
        found = self.ipr.link_lookup(ifname=ifname)
        if found:
            self._indexes[ifname] = found[0]
        return found[0] if found else None

    def up(self, ifname: str) -> None:
        self.ipr.link("set", index=self.index(ifname), state="up")

    def veth(self, name: str, peer: Place, peer_name: str, mac: str | None = None) -> int:
        """A veth pair: `name` here, `peer_name` in `peer`; both up. Returns its index here."""
        self.ipr.link("add", ifname=name, kind="veth",
                      peer={"ifname": peer_name, "net_ns_fd": peer.fd})
        self._indexes.pop(name, None)  # a link of that name may have gone with its peer
        peer._indexes.pop(peer_name, None)
        index = self.index(name)
        peer_index = peer.index(peer_name)
        self.ipr.link("set", index=index, state="up")
        peer.ipr.link("set", index=peer_index, state="up", **({"address": mac} if mac else {}))
        return index

    def delete_link(self, ifname: str) -> None:
        index = self.index(ifname)
        self._indexes.pop(ifname, None)
        if index is not None:
            with contextlib.suppress(NetlinkError):
                self.ipr.link("del", index=index)

    def links(self) -> list[str]:
        return [link.get("ifname") for link in self.ipr.get_links()]

    def address(self, op: str, ifname: str, address: str, prefixlen: int = 32) -> None:
        try:
            self.ipr.addr(op, index=self.index(ifname), address=address, prefixlen=prefixlen)
        except NetlinkError as exc:
            if not (op == "add" and exc.code == _EEXIST) and not (
                    op == "del" and exc.code in (_ENOENT, 99, _ENODEV)):
                raise

    def route(self, op: str, dst: str, table: int = 254, kind: str = "unicast",
              via: str | None = None, dev: str | None = None) -> None:
        spec: dict = {"dst": dst, "table": table, "type": kind}
        if kind == "unicast":
            spec["oif"] = self.index(dev)
            if via:
                spec["gateway"] = via
                spec["flags"] = RTNH_F_ONLINK
            else:
                spec["scope"] = RT_SCOPE_LINK
        if ipaddress.ip_network(dst).version == 6:
            spec["family"] = 10
        try:
            self.ipr.route(op, **spec)
        except NetlinkError as exc:
            if not (op == "del" and exc.code in (_ENOENT, _ESRCH)):
                raise

    def rule(self, op: str, iifname: str, table: int, priority: int) -> None:
        try:
            self.ipr.rule(op, iifname=iifname, table=table, priority=priority)
        except NetlinkError as exc:
            if not (op == "del" and exc.code in (_ENOENT, _ESRCH)) and not (
                    op == "add" and exc.code == _EEXIST):
                raise

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.ipr.close()
        self.nft.close()
        os.close(self.fd)

    def destroy(self) -> None:
        """Delete every link here (their peers go with them, at once) and the namespace."""
        for ifname in self.links():
            if ifname != "lo":
                self.delete_link(ifname)
        self.close()
        netns.remove(self.name)
