"""AWS's endpoints seen from inside a VPC: Cloudlet's API served on the service addresses
(API_ADDRESS, S3_ADDRESS, DYNAMODB_ADDRESS) that an internet gateway's or a gateway
endpoint's namespace carries on its lo, ports 80 (HTTP) and 443 (HTTPS), through the
gateway's in-cloud listeners (every request marked as coming from inside the cloud, so the
default root credentials are refused there). Started for each such namespace through the
port's `add_edge_service`.

    endpoints = ApiEndpoints(serve, ca, directory)
    endpoints.start(account, region, vpc_id, addresses, make_socket) -> stop

The HTTPS certificate is issued by Cloudlet's root CA (`cloudlet_ca`, which instances
trust) for the names the resolver gives these addresses, one wildcard level each as AWS's
own certificates (names.certificate_names), in every region of AWS's partition; issued once
per run, kept in `directory`.
"""

from __future__ import annotations

import logging
import socket
import ssl
import threading
from collections.abc import Callable
from pathlib import Path

from cloudlet.services.ec2.network import names
from cloudlet.services.ec2.network.place import REGIONS
from cloudlet.services.ec2.network.prefix_lists import SERVICE_ADDRESSES

log = logging.getLogger("cloudlet.ec2.endpoints")

PORTS = ((80, False), (443, True))
BACKLOG = 128


def partition_regions() -> list[str]:
    """Every region of AWS's `aws` partition (botocore's endpoint data), with Cloudlet's."""
    from botocore.loaders import Loader

    found = list(REGIONS)
    for partition in Loader().load_data("endpoints")["partitions"]:
        if partition["partition"] == "aws":
            found += sorted(partition["regions"])
    return list(dict.fromkeys(found))


class ApiEndpoints:
    def __init__(self, serve: Callable, ca, directory: Path) -> None:
        self.serve, self.ca, self.directory = serve, ca, Path(directory)
        self._context: ssl.SSLContext | None = None
        self._lock = threading.Lock()

    def context(self) -> ssl.SSLContext:
        with self._lock:
            if self._context is None:
                cert, key = self.directory / "endpoints.pem", self.directory / "endpoints-key.pem"
                self.ca.issue(names.certificate_names(partition_regions()), cert, key,
                              addresses=SERVICE_ADDRESSES)
                context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
                context.minimum_version = ssl.TLSVersion.TLSv1_2
                context.set_alpn_protocols(["http/1.1"])
                context.load_cert_chain(cert, key)
                self._context = context
            return self._context

    def start(self, account: str, region: str, vpc_id: str, addresses: tuple[str, ...],
              make_socket) -> Callable[[], None]:
        stops: list[Callable[[], None]] = []
        try:
            for address in addresses:
                for port, secure in PORTS:
                    sock = make_socket(socket.AF_INET, socket.SOCK_STREAM)
                    try:
                        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                        sock.bind((address, port))
                        sock.listen(BACKLOG)
                    except OSError:
                        sock.close()
                        raise
                    stops.append(self.serve(sock, ssl=self.context() if secure else None))
        except Exception:
            _stop(stops)
            raise
        return lambda: _stop(stops)


def _stop(stops: list[Callable[[], None]]) -> None:
    for stop in stops:
        try:
            stop()
        except Exception:
            log.exception("an endpoint listener did not stop")
