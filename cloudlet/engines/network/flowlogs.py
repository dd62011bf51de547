"""Flow logs from the packet filter's own verdicts, read over nfnetlink_log.

For a watched interface the router logs (nft `log group`, read by a netlink socket made in the
router namespace): every packet it forwards to or from the interface once the network ACLs and
security groups have let it through (the `flowlog` base chain, after all the others: ACCEPT),
and every packet the interface's own chains drop (`e_<eni>`/`i_<eni>`, before their final
drop: REJECT, i.e. what its security groups refuse). Packets are summed per flow (addresses,
ports, protocol, verdict) and each flow goes to the callback as a `Flow` every `interval`
seconds, as AWS aggregates over its capture window, with the TCP flags seen (FIN 1, SYN 2,
RST 4, SYN-ACK 18, or-ed, as AWS counts them). Drops by a network ACL are not logged.
"""

from __future__ import annotations

import contextlib
import socket
import struct
import threading
import time
from collections.abc import Callable

from . import netns
from .model import Flow, InvalidSpec

GROUP = 100
NETLINK_NETFILTER = 12
_NFNL_SUBSYS_ULOG = 4
_MSG_PACKET = _NFNL_SUBSYS_ULOG << 8
_MSG_CONFIG = (_NFNL_SUBSYS_ULOG << 8) | 1
_CFG_CMD, _CFG_MODE, _CFG_QTHRESH = 1, 2, 5
_CMD_BIND = 1
_COPY_PACKET = 2
_ATTR_INDEV, _ATTR_OUTDEV, _ATTR_PAYLOAD, _ATTR_PREFIX = 4, 5, 9, 10


def _attr(kind: int, data: bytes) -> bytes:
    raw = struct.pack("=HH", 4 + len(data), kind) + data
    return raw + b"\0" * (-len(raw) % 4)


def _config(group: int, *attrs: bytes) -> bytes:
    payload = struct.pack("=BBH", socket.AF_UNSPEC, 0, socket.htons(group)) + b"".join(attrs)
    return struct.pack("=IHHII", 16 + len(payload), _MSG_CONFIG, 1 | 4, 1, 0) + payload


def parse(buffer: bytes):
    """(prefix, indev, outdev, payload) for each logged packet in a netlink datagram."""
    offset = 0
    while offset + 16 <= len(buffer):
        length, kind = struct.unpack_from("=IH", buffer, offset)
        if length < 16:
            return
        if kind == _MSG_PACKET:
            attrs, at, end = {}, offset + 20, offset + length
            while at + 4 <= end:
                size, attr = struct.unpack_from("=HH", buffer, at)
                if size < 4:
                    break
                attrs[attr & 0x3FFF] = buffer[at + 4:at + size]
                at += size + (-size % 4)
            yield (attrs.get(_ATTR_PREFIX, b"").rstrip(b"\0").decode(errors="replace"),
                   struct.unpack("!I", attrs[_ATTR_INDEV])[0] if _ATTR_INDEV in attrs else 0,
                   struct.unpack("!I", attrs[_ATTR_OUTDEV])[0] if _ATTR_OUTDEV in attrs else 0,
                   attrs.get(_ATTR_PAYLOAD, b""))
        offset += length + (-length % 4)


def five_tuple(packet: bytes) -> tuple[str, str, int, int, int, int] | None:
    """(src, dst, sport, dport, protocol, length) of an IPv4 packet."""
    if len(packet) < 20 or packet[0] >> 4 != 4:
        return None
    header = (packet[0] & 0x0F) * 4
    length, protocol = struct.unpack_from("!H", packet, 2)[0], packet[9]
    sport = dport = 0
    if protocol in (6, 17) and len(packet) >= header + 4:
        sport, dport = struct.unpack_from("!HH", packet, header)
    return (socket.inet_ntoa(packet[12:16]), socket.inet_ntoa(packet[16:20]), sport, dport,
            protocol, length)


def tcp_flags(packet: bytes) -> int:
    """FIN 1, SYN 2, RST 4, and 18 for a SYN-ACK, of an IPv4 TCP packet (else 0)."""
    if len(packet) < 20 or packet[9] != 6:
        return 0
    at = (packet[0] & 0x0F) * 4 + 13
    if len(packet) <= at:
        return 0
    flags = packet[at]
    return (flags & 0x07) | (0x10 if flags & 0x12 == 0x12 else 0)


class Watcher:
    """One per network: reads the router's log group and hands out flows per interface."""

    def __init__(self, router: str, interval: float) -> None:
        self.sock = netns.socket(router, socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_NETFILTER)
        self.sock.bind((0, 0))
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 22)
        self.sock.send(_config(GROUP, _attr(_CFG_CMD, struct.pack("=B", _CMD_BIND))))
        self.sock.send(_config(GROUP, _attr(_CFG_MODE, struct.pack("!IBB", 128, _COPY_PACKET, 0))))
        self.sock.send(_config(GROUP, _attr(_CFG_QTHRESH, struct.pack("!I", 1))))
        self.sock.settimeout(0.2)
        self.interval = interval
        self.watched: dict[int, tuple[str, Callable[[Flow], None]]] = {}  # ifindex -> eni
        self._flows: dict[tuple, list] = {}
        self._lock = threading.Lock()  # counting (the watcher's thread) vs handing over
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="fabric-flowlogs", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        flushed = time.monotonic()
        while not self._stop.is_set():
            try:
                data = self.sock.recv(1 << 16)
            except TimeoutError:
                data = b""
            except OSError:
                return
            for prefix, indev, outdev, payload in parse(data):
                self._count(prefix, indev, outdev, payload)
            if time.monotonic() - flushed >= self.interval:
                self.flush()
                flushed = time.monotonic()

    def _count(self, prefix: str, indev: int, outdev: int, payload: bytes) -> None:
        action, _, side = prefix.partition(" ")
        watched = self.watched.get(indev if side == "e" else outdev)
        found = five_tuple(payload)
        if watched is None or found is None:
            return
        *key, length = found
        now = time.time()
        with self._lock:
            flow = self._flows.setdefault((watched[0], *key, action), [0, 0, now, now, 0])
            flow[0] += 1
            flow[1] += length
            flow[3] = now
            flow[4] |= tcp_flags(payload)

    def flush(self) -> None:
        with self._lock:
            flows, self._flows = self._flows, {}
        callbacks = {eni: callback for eni, callback in self.watched.values()}
        for (eni, src, dst, sport, dport, proto, action), (packets, size, start, end, flags) in (
                flows.items()):
            if eni in callbacks:
                callbacks[eni](Flow(eni, src, dst, sport, dport, proto, packets, size, start,
                                    end, "ACCEPT" if action == "A" else "REJECT", flags))

    def close(self) -> None:
        """Stop reading; what was logged until now (read or still queued) is handed over."""
        self._stop.set()
        self._thread.join(2)
        with contextlib.suppress(OSError):
            self.sock.setblocking(False)
            while data := self.sock.recv(1 << 16):
                for prefix, indev, outdev, payload in parse(data):
                    self._count(prefix, indev, outdev, payload)
        self.flush()
        with contextlib.suppress(OSError):
            self.sock.close()


def _logged_interfaces(fabric, n) -> list[str]:
    return [fabric._link(n.id, eni) for eni in n.flow_logs]


def _sync_rules(fabric, n) -> None:
    ft = f"inet {fabric.table}"
    links = _logged_interfaces(fabric, n)
    batch = [f"add set {ft} flowlog {{ type ifname; }}", f"flush set {ft} flowlog",
             f"add chain {ft} flowlog {{ type filter hook forward priority 20; policy accept; }}",
             f"flush chain {ft} flowlog",
             f'add rule {ft} flowlog iifname @flowlog log group {GROUP} prefix "A e"',
             f'add rule {ft} flowlog oifname @flowlog log group {GROUP} prefix "A i"']
    if links:
        quoted = ", ".join('"' + link + '"' for link in links)
        batch.append(f"add element {ft} flowlog {{ {quoted} }}")
    n.router.nft.run("\n".join(batch))


def watch(fabric, net_id: str, interface_id: str, callback, interval: float) -> None:
    n = fabric._net(net_id)
    if interface_id not in n.interfaces:
        raise InvalidSpec(f"no interface {interface_id!r} in {net_id}")
    watcher = fabric._watchers.get(net_id)
    if watcher is None:
        watcher = fabric._watchers[net_id] = Watcher(n.router.name, interval)
    n.flow_logs[interface_id] = GROUP
    index = n.router.index(fabric._link(net_id, interface_id))
    watcher.watched[index] = (interface_id, callback)
    _sync_rules(fabric, n)
    if interface_id not in n.unfiltered:
        fabric._put_interface(net_id, n.interfaces[interface_id])  # chains with the log rule


def unwatch(fabric, net_id: str, interface_id: str) -> None:
    n = fabric._nets.get(net_id)
    if n is None or n.flow_logs.pop(interface_id, None) is None:
        return
    watcher = fabric._watchers.get(net_id)
    if watcher is not None:
        watcher.flush()  # the interface's flows so far are handed over
        for index, (eni, _) in list(watcher.watched.items()):
            if eni == interface_id:
                del watcher.watched[index]
        if not watcher.watched:
            watcher.close()
            del fabric._watchers[net_id]
    _sync_rules(fabric, n)
    if interface_id in n.interfaces and interface_id not in n.unfiltered:
        fabric._put_interface(net_id, n.interfaces[interface_id])
