"""In-cloud listeners: Cloudlet's ASGI app served on extra listening sockets that callers
made inside namespaces (a Lambda execution environment's today, a VPC's later), with every
request marked as coming from inside the cloud.

    listeners = CloudListeners()       # one per server
    listeners.bind(server)             # the uvicorn Server, from its startup (server.py)
    stop = listeners.serve(sock)       # any thread, any time: sock is bound and listening
    stop = listeners.serve(sock, ssl=context)   # TLS with that context (None: plain HTTP);
                                       # without `ssl`, the main server's own TLS or none
    stop()                             # any thread, idempotent: stops accepting there and
                                       # aborts the connections it accepted (off the loop,
                                       # done when it returns)
    await listeners.aclose()           # at shutdown, on the loop: every listener

A connection accepted on such a socket speaks uvicorn's HTTP protocol with the main server's
config (limits, timeouts, and its TLS unless the listener has its own) and server state (its connections count and drain with the
server's), and the ASGI scope of each of its requests carries `"cloudlet.origin": "cloud"`.
Scopes from the main port carry no such key, and nothing a client sends can set it: the
origin is where the connection arrived. `serve` does not wait for the loop: the socket
already listens, so a client that connects at once waits in its backlog, not in vain.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import logging
import socket
import threading
import weakref
from collections.abc import Callable

log = logging.getLogger("cloudlet.gateway")

ORIGIN = "cloudlet.origin"
CLOUD = "cloud"
STOP_TIMEOUT = 5.0
SERVER_TLS = object()  # serve(ssl=...) default: as the main server does


class _Origin:
    """The app, with the listener's origin in every HTTP scope."""

    def __init__(self, app, origin: str):
        self.app, self.origin = app, origin

    async def __call__(self, scope, receive, send):
        if scope["type"] in ("http", "websocket"):
            scope[ORIGIN] = self.origin
        await self.app(scope, receive, send)


class _Listener:
    def __init__(self, sock: socket.socket):
        self.sock = sock
        self.server: asyncio.base_events.Server | None = None
        self.protocols: weakref.WeakSet = weakref.WeakSet()
        self.started: asyncio.Future | None = None

    async def start(self, factory: Callable, ssl, backlog: int) -> None:
        def protocol():
            made = factory()
            self.protocols.add(made)
            return made

        self.server = await asyncio.get_running_loop().create_server(
            protocol, sock=self.sock, ssl=ssl, backlog=backlog)

    async def close(self) -> None:
        if self.started is not None:
            with contextlib.suppress(Exception):
                await asyncio.wrap_future(self.started)
        if self.server is not None:
            self.server.close()
        else:  # never served
            self.sock.close()
        for made in list(self.protocols):
            transport = getattr(made, "transport", None)
            if transport is not None and not transport.is_closing():
                transport.abort()


class CloudListeners:
    def __init__(self, origin: str = CLOUD):
        self.origin = origin
        self._loop: asyncio.AbstractEventLoop | None = None
        self._factory: Callable | None = None
        self._ssl = None
        self._backlog = 128
        self._open: set[_Listener] = set()
        self._lock = threading.Lock()
        self._closed = False

    def bind(self, server) -> None:
        """Take the running uvicorn server's loop, config and state (call from its startup,
        after config.load())."""
        config = copy.copy(server.config)
        config.loaded_app = _Origin(server.config.loaded_app, self.origin)
        self._loop = asyncio.get_running_loop()
        self._ssl, self._backlog = config.ssl, config.backlog

        def factory():
            # each listener counts its clients apart (connections.GuardedProtocol): the
            # addresses inside a namespace are not the host's, nor another namespace's
            protocol = config.http_protocol_class
            apart = getattr(protocol, "counted_apart", None)
            protocol = apart() if apart is not None else protocol
            return lambda: protocol(config=config, server_state=server.server_state,
                                    app_state=server.lifespan.state)

        self._factory = factory

    def serve(self, sock: socket.socket, ssl=SERVER_TLS) -> Callable[[], None]:
        """Serve the app on `sock` (bound, listening; this takes it over); returns stop().
        `ssl`: an `ssl.SSLContext` for this listener, None for plain HTTP; by default the
        main server's TLS (none when it serves plain HTTP)."""
        loop = self._loop
        listener = _Listener(sock)
        with self._lock:
            running = loop is not None and not self._closed and not loop.is_closed()
            if running:
                self._open.add(listener)
        if not running:
            sock.close()
            raise RuntimeError("Cloudlet's server is not running")
        listener.started = asyncio.run_coroutine_threadsafe(
            listener.start(self._factory(), self._ssl if ssl is SERVER_TLS else ssl,
                           self._backlog), loop)
        listener.started.add_done_callback(_log_failure)
        done = False

        def stop() -> None:
            nonlocal done
            with self._lock:
                if done or self._closed:  # (once closed, aclose() took care of it)
                    done = True
                    return
                done = True
                self._open.discard(listener)
            try:
                closing = asyncio.run_coroutine_threadsafe(listener.close(), loop)
            except RuntimeError:  # the loop is gone, and the socket with the process soon
                sock.close()
                return
            if not _running(loop):  # off the loop: done when stop() returns
                with contextlib.suppress(Exception):
                    closing.result(STOP_TIMEOUT)

        return stop

    async def aclose(self) -> None:
        """Close every listener (the server is shutting down); serve() refuses from now on."""
        with self._lock:
            self._closed = True
            listeners, self._open = list(self._open), set()
        await asyncio.gather(*(listener.close() for listener in listeners),
                             return_exceptions=True)


def _running(loop: asyncio.AbstractEventLoop) -> bool:
    """Whether the calling thread is running loop."""
    try:
        return asyncio.get_running_loop() is loop
    except RuntimeError:
        return False


def _log_failure(future) -> None:
    if not future.cancelled() and future.exception() is not None:
        log.warning("an in-cloud listener did not start: %s", future.exception())
