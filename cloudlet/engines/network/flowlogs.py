"""Flow logs from the packet filter's own verdicts (to be written)."""

from __future__ import annotations


def watch(fabric, net_id, interface_id, callback, interval) -> None:
    raise NotImplementedError("flow logs")


def unwatch(fabric, net_id, interface_id) -> None:
    return None
