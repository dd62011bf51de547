"""The Amazon-provided DNS server of every VPC: base + 2, UDP and TCP port 53, in the VPC's
router namespace (so security groups do not apply to it, as on AWS), started for each VPC
through the port's `add_router_service`.

    resolver = Resolver(settings, extra, address)
    resolver.start(account, region, vpc_id, make_socket) -> stop

`settings(vpc_id)` is the VPC's `names.VpcNames` as last committed: while its
`enableDnsSupport` is false the server answers nothing at all, and ModifyVpcAttribute is
followed at the next query. `extra(account, region, vpc_id, name)` is what other services
add (the port's `add_names`); then names.py's rules; NXDOMAIN for the rest, forwarding
nothing.
"""

from __future__ import annotations

import socket
from collections.abc import Callable

from cloudlet.engines.network.dns import Responder
from cloudlet.services.ec2.network import names

PORT = 53


class Resolver:
    def __init__(self, settings: Callable[[str], names.VpcNames | None],
                 extra: Callable[[str, str, str, str], str | list[str] | None],
                 address: Callable[[str], str]) -> None:
        self.settings, self.extra, self.address = settings, extra, address

    def start(self, account: str, region: str, vpc_id: str, make_socket) -> Callable[[], None]:
        address = self.address(vpc_id)

        def answer(name: str, kind: str):
            found = self.settings(vpc_id)
            if found is None:
                return None
            return names.answer(name, kind, found,
                                lambda n: self.extra(account, region, vpc_id, n))

        def serving() -> bool:
            found = self.settings(vpc_id)
            return found is not None and found.enabled

        responders = []
        try:
            udp = make_socket(socket.AF_INET, socket.SOCK_DGRAM)
            responders.append(Responder(udp, answer, serving=serving))
            udp.bind((address, PORT))
            tcp = make_socket(socket.AF_INET, socket.SOCK_STREAM)
            responders.append(Responder(tcp, answer, serving=serving))
            tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            tcp.bind((address, PORT))
            tcp.listen(16)
        except Exception:
            for responder in responders:
                responder.sock.close()
            raise
        for responder in responders:
            responder.start()

        def stop() -> None:
            for responder in responders:
                responder.stop()

        return stop
