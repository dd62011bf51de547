"""A small HTTP/1.1 server for IMDS: one asyncio loop on its own thread, h11 for the protocol,
any number of listening sockets (one per VPC, each made inside that VPC's router namespace).

    servers = MetadataServers()
    stop = servers.serve(sock, handler)      # handler(Request) -> Response, run on a worker
    stop()                                   # that socket and its connections
    servers.close()                          # everything

Each connection reads requests one after another (keep-alive as HTTP/1.1 has it), hands
each to the handler on a small thread pool (it reads the store, may mint an STS session)
and writes the answer. A `Response.ttl` becomes the connection's IP TTL before the answer
is written, and stays for the rest of the connection: a retransmission of that answer keeps
the same TTL, so an answer that dies a hop away never arrives later by another way.
Limits: 8 KiB of request head, 64 KiB of body, 10 s idle per read, 256 connections per
socket (the next is closed at once).
"""

from __future__ import annotations

import asyncio
import contextlib
import email.utils
import logging
import socket
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import h11

from cloudlet.services.ec2.compute.metadata_handler import REASONS, Request, Response, error_page

log = logging.getLogger("cloudlet.ec2.imds")

MAX_HEAD = 8 * 1024
MAX_BODY = 64 * 1024
IDLE_SECONDS = 10.0
MAX_CONNECTIONS = 256

Handler = Callable[[Request], Response]


class _TooLarge(Exception):
    pass


class MetadataServers:
    def __init__(self, workers: int = 4):
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="ec2-imds",
                                        daemon=True)
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="ec2-imds")
        self._started = False
        self._lock = threading.Lock()
        self._stops: set[Callable[[], None]] = set()

    def serve(self, sock: socket.socket, handler: Handler) -> Callable[[], None]:
        """Serve `handler` on a bound, listening socket (closed by the returned stop())."""
        with self._lock:
            if not self._started:
                self._thread.start()
                self._started = True
        sock.setblocking(False)
        tasks: set[asyncio.Task] = set()

        async def accepted(reader: asyncio.StreamReader, writer: asyncio.StreamWriter):
            task = asyncio.current_task()
            if len(tasks) >= MAX_CONNECTIONS:
                writer.close()
                return
            tasks.add(task)
            try:
                await self._connection(reader, writer, handler)
            finally:
                tasks.discard(task)

        async def start() -> asyncio.base_events.Server:
            return await asyncio.start_server(accepted, sock=sock, limit=MAX_HEAD * 2)

        server = asyncio.run_coroutine_threadsafe(start(), self._loop).result(10)

        async def close() -> None:
            server.close()
            for task in list(tasks):
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

        def stop() -> None:
            self._stops.discard(stop)
            if self._loop.is_running():
                with contextlib.suppress(Exception):
                    asyncio.run_coroutine_threadsafe(close(), self._loop).result(5)
            with contextlib.suppress(OSError):
                sock.close()

        self._stops.add(stop)
        return stop

    def close(self) -> None:
        for stop in list(self._stops):
            stop()
        if self._started:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(5)
        self._pool.shutdown(wait=False, cancel_futures=True)

    # -- one connection ---------------------------------------------------------------------
    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                          handler: Handler) -> None:
        peer = (writer.get_extra_info("peername") or ("", 0))[0]
        conn = h11.Connection(h11.SERVER, max_incomplete_event_size=MAX_HEAD)
        try:
            while True:
                try:
                    request = await self._read(conn, reader, peer)
                except (h11.RemoteProtocolError, _TooLarge) as exc:
                    if conn.our_state in (h11.IDLE, h11.SEND_RESPONSE):
                        await self._write(conn, writer, error_page(
                            413 if isinstance(exc, _TooLarge) else 400), head=False)
                    return
                if request is None:
                    return
                response = await self._loop.run_in_executor(self._pool, handler, request)
                if response.ttl is not None:
                    sock = writer.get_extra_info("socket")
                    with contextlib.suppress(OSError):
                        sock.setsockopt(socket.IPPROTO_IP, socket.IP_TTL, response.ttl)
                await self._write(conn, writer, response, head=request.method == "HEAD")
                if conn.our_state is not h11.DONE or conn.their_state is not h11.DONE:
                    return
                conn.start_next_cycle()
        except (TimeoutError, ConnectionError, h11.LocalProtocolError, OSError):
            return
        except asyncio.CancelledError:
            raise
        finally:
            writer.close()

    async def _read(self, conn: h11.Connection, reader: asyncio.StreamReader,
                    peer: str) -> Request | None:
        head: h11.Request | None = None
        body = bytearray()
        while True:
            event = conn.next_event()
            if event is h11.NEED_DATA:
                data = await asyncio.wait_for(reader.read(16384), IDLE_SECONDS)
                conn.receive_data(data)
                continue
            if isinstance(event, h11.ConnectionClosed):
                return None
            if isinstance(event, h11.Request):
                head = event
            elif isinstance(event, h11.Data):
                body += event.data
                if len(body) > MAX_BODY:
                    raise _TooLarge
            elif isinstance(event, h11.EndOfMessage) and head is not None:
                headers: dict[str, str] = {}
                for name, value in head.headers:
                    key = name.decode("latin-1").lower()
                    text = value.decode("latin-1")
                    headers[key] = f"{headers[key]}, {text}" if key in headers else text
                return Request(head.method.decode("latin-1").upper(),
                               head.target.decode("latin-1"), headers, peer)

    async def _write(self, conn: h11.Connection, writer: asyncio.StreamWriter,
                     response: Response, head: bool) -> None:
        headers = [*response.headers, ("Content-Length", str(len(response.body))),
                   ("Date", email.utils.formatdate(usegmt=True))]
        if conn.their_state is not h11.DONE:  # the request was not read whole: close after
            headers.append(("Connection", "close"))
        data = conn.send(h11.Response(status_code=response.status, headers=headers,
                                      reason=REASONS.get(response.status, "OK")))
        if not head and response.body:
            data += conn.send(h11.Data(data=response.body))
        data += conn.send(h11.EndOfMessage())
        writer.write(data)
        await writer.drain()
