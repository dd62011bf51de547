"""The VPCs' own servers, started and stopped by the port (fabric.py) as what they live in
comes and goes:

    router services   start(account, region, vpc_id, make_socket) -> stop
                      once per VPC, in its router namespace (IMDS, the resolver)
    edge services     start(account, region, vpc_id, addresses, make_socket) -> stop
                      once per namespace that carries AWS's endpoint addresses on its lo: the
                      VPC's internet gateway while one is attached, and each gateway endpoint
                      (`addresses`: those it carries); started again when they change

`make_socket(family, type)` is a socket made in that namespace. A service that fails to
start or stop is logged; the others run on.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

log = logging.getLogger("cloudlet.ec2.fabric")

Stop = Callable[[], None]
RouterService = Callable[..., Stop]
EdgeService = Callable[..., Stop]
SocketMaker = Callable[[str], Callable]  # namespace -> make_socket(family, type)


class Servers:
    def __init__(self) -> None:
        self.router_services: list[RouterService] = []
        self.edge_services: list[EdgeService] = []
        self._router: dict[str, list[Stop]] = {}  # vpc -> its router services' stops
        self._edges: dict[str, tuple[str, tuple[str, ...], list[Stop]]] = {}  # namespace ->
        self._lock = threading.RLock()                                   # (vpc, addresses, stops)

    # -- router services -------------------------------------------------------------------
    def router_running(self, vpc_id: str) -> bool:
        return vpc_id in self._router

    def start_router(self, account: str, region: str, vpc_id: str, make_socket: Callable,
                     services: list[RouterService] | None = None) -> None:
        with self._lock:
            stops = self._router.setdefault(vpc_id, [])
            for start in self.router_services if services is None else services:
                stop = _started(vpc_id, start, account, region, vpc_id, make_socket)
                if stop is not None:
                    stops.append(stop)

    def stop_router(self, vpc_id: str) -> None:
        with self._lock:
            stops = self._router.pop(vpc_id, [])
        _stop_all(vpc_id, stops)

    def router_vpcs(self) -> list[str]:
        return list(self._router)

    # -- edge services ---------------------------------------------------------------------
    def sync_edges(self, account: str, region: str, vpc_id: str,
                   wanted: dict[str, tuple[str, ...]], socket_in: SocketMaker) -> None:
        """The VPC's service namespaces are now `wanted` ({namespace: addresses}): services
        stop in those gone (or changed), and start in those new."""
        with self._lock:
            for namespace, (owner, addresses, stops) in list(self._edges.items()):
                if owner == vpc_id and wanted.get(namespace) != addresses:
                    del self._edges[namespace]
                    _stop_all(vpc_id, stops)
            for namespace, addresses in wanted.items():
                if namespace not in self._edges:
                    self._edges[namespace] = (vpc_id, addresses, [])
                    self._start_edge(account, region, vpc_id, namespace, self.edge_services,
                                     socket_in)

    def add_edge_service(self, start: EdgeService, places: dict[str, tuple[str, str]],
                         socket_in: SocketMaker) -> None:
        """A new edge service, started in every service namespace already there (`places`:
        vpc -> (account, region))."""
        with self._lock:
            self.edge_services.append(start)
            for namespace, (vpc_id, _, _) in list(self._edges.items()):
                account, region = places[vpc_id]
                self._start_edge(account, region, vpc_id, namespace, [start], socket_in)

    def _start_edge(self, account: str, region: str, vpc_id: str, namespace: str,
                    services: list[EdgeService], socket_in: SocketMaker) -> None:
        owner, addresses, stops = self._edges[namespace]
        for start in services:
            stop = _started(vpc_id, start, account, region, vpc_id, addresses,
                            socket_in(namespace))
            if stop is not None:
                stops.append(stop)

    def stop_edges(self, vpc_id: str | None = None) -> None:
        """The edge services of one VPC (None: of every VPC)."""
        with self._lock:
            for namespace, (owner, _, stops) in list(self._edges.items()):
                if vpc_id is None or owner == vpc_id:
                    del self._edges[namespace]
                    _stop_all(owner, stops)

    def edge_namespaces(self) -> dict[str, tuple[str, ...]]:
        return {namespace: addresses for namespace, (_, addresses, _) in self._edges.items()}

    def stop(self) -> None:
        self.stop_edges()
        for vpc_id in self.router_vpcs():
            self.stop_router(vpc_id)


def _started(vpc_id: str, start: Callable, *args) -> Stop | None:
    try:
        return start(*args)
    except Exception:
        log.exception("a service of VPC %s did not start", vpc_id)
        return None


def _stop_all(vpc_id: str, stops: list[Stop]) -> None:
    for stop in stops:
        try:
            stop()
        except Exception:
            log.exception("a service of VPC %s did not stop", vpc_id)
