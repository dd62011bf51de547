"""The relay that carries the host's connects to public (loopback) addresses into networks.

The host's table `ip <prefix>_public` redirects every TCP connect to the public range
(127.100.0.0/16) to this relay on 127.0.0.1. The relay reads where the client meant to go
(SO_ORIGINAL_DST), makes its upstream socket inside that network's internet-gateway
namespace, from the "internet client" address, and connects to the private address behind
the public one. The packets then cross the router like any internet traffic: the subnet's
route table (a reply needs a route to the internet gateway), its network ACL and the
interface's security groups all apply.

What the client sees when the network says no. The kernel completes the client's handshake
with the relay before the relay can try upstream, so the client's connect() succeeds at once;
then:
- the instance refuses (a reset, e.g. a closed port the group allows): the client's
  connection is reset at once, as a refused connect would be;
- the packet is dropped (a security group or ACL denies it, no route, no public mapping):
  the client gets nothing, no byte and no close, until the relay's timeout (20 s by default),
  then a reset. A client with a shorter timeout of its own times out, as it would on AWS.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import struct
import threading
from collections.abc import Callable

from . import netns

SO_ORIGINAL_DST = 80


def _reset(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()


def original_destination(sock: socket.socket) -> tuple[str, int]:
    raw = sock.getsockopt(socket.SOL_IP, SO_ORIGINAL_DST, 16)
    port, packed = struct.unpack_from("!2xH4s", raw)
    return socket.inet_ntoa(packed), port


class Relay:
    """A loopback listener whose connections continue inside internet gateways."""

    def __init__(self, lookup: Callable[[str], tuple[str, str] | None], client_address: str,
                 timeout: float = 20.0, host: str = "127.0.0.1") -> None:
        self.lookup = lookup
        self.client_address = client_address
        self.timeout = timeout
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind((host, 0))
        self._listener.listen(1024)
        self._listener.setblocking(False)
        self.port = self._listener.getsockname()[1]
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="fabric-relay",
                                        daemon=True)
        self._tasks: set[asyncio.Task] = set()

    def start(self) -> None:
        self._thread.start()
        self._accepting = asyncio.run_coroutine_threadsafe(self._accept(), self._loop)

    def stop(self) -> None:
        async def close() -> None:
            self._accepting.cancel()
            tasks = list(self._tasks)
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            self._listener.close()
        with contextlib.suppress(Exception):
            asyncio.run_coroutine_threadsafe(close(), self._loop).result(5)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)

    async def _accept(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            try:
                client, _ = await loop.sock_accept(self._listener)
            except (OSError, asyncio.CancelledError):
                return
            task = loop.create_task(self._serve(client))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _serve(self, client: socket.socket) -> None:
        loop = asyncio.get_running_loop()
        client.setblocking(False)
        client.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        upstream = None
        try:
            address, port = original_destination(client)
            target = self.lookup(address)
            if target is None:
                await asyncio.sleep(self.timeout)
                raise TimeoutError(address)
            where, private = target
            upstream = netns.socket(where)
            upstream.setblocking(False)
            upstream.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            upstream.bind((self.client_address, 0))
            await asyncio.wait_for(loop.sock_connect(upstream, (private, port)), self.timeout)
        except (TimeoutError, OSError):
            _reset(client)
            if upstream is not None:
                upstream.close()
            return
        except asyncio.CancelledError:
            _reset(client)
            if upstream is not None:
                upstream.close()
            raise
        try:
            await asyncio.gather(self._pump(client, upstream), self._pump(upstream, client))
        finally:
            client.close()
            upstream.close()

    @staticmethod
    async def _pump(source: socket.socket, sink: socket.socket) -> None:
        loop = asyncio.get_running_loop()
        try:
            while data := await loop.sock_recv(source, 65536):
                await loop.sock_sendall(sink, data)
            with contextlib.suppress(OSError):
                sink.shutdown(socket.SHUT_WR)
        except OSError:
            _reset(sink)
