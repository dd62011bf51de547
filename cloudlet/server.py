"""Assembling and running Cloudlet: the store, the providers, the pipeline, uvicorn."""

from __future__ import annotations

import logging
import shutil
import signal
import sys
import tempfile
import threading
from pathlib import Path

import uvicorn

from cloudlet import __version__
from cloudlet.auth.credentials import CredentialStore
from cloudlet.authz.authorizer import Authorizer
from cloudlet.config import DEFAULT_ACCESS_KEY, DEFAULT_ACCOUNT, DEFAULT_SECRET_KEY, Settings
from cloudlet.events import Bus
from cloudlet.gateway.app import Gateway, end_streams
from cloudlet.gateway.connections import GuardedProtocol
from cloudlet.gateway.listeners import CloudListeners
from cloudlet.gateway.pipeline import Pipeline
from cloudlet.models import SERVICES
from cloudlet.services import provider_class
from cloudlet.store import Store
from cloudlet.store.private import restrict_umask

log = logging.getLogger("cloudlet")


def build_app(settings: Settings, data_dir: Path, listeners: CloudListeners | None = None
              ) -> Gateway:
    classes = {name: cls for name in SERVICES if (cls := provider_class(name)) is not None}
    store = Store.open(data_dir, shared=tuple(path for cls in classes.values()
                                              for path in cls.shared_paths))
    bus = Bus()
    providers = {name: cls(store, bus) for name, cls in classes.items()}
    for provider in providers.values():
        provider.attach(providers)
        if listeners is not None:
            provider.attach_in_cloud(listeners.serve)
    services = {name: ("available" if name in providers else "not implemented")
                for name in SERVICES}
    credentials = CredentialStore()
    if "iam" in providers:
        credentials.add_resolver(providers["iam"].credential_for)
    credentials.add_resolver(providers["sts"].credential_for)
    pipeline = Pipeline(providers, credentials, authorizer=Authorizer(providers).authorize)

    def start():
        for provider in providers.values():
            provider.start()
        # Load the models and build the codecs off the request path.
        threading.Thread(target=pipeline.warm_up, name="warm-up", daemon=True).start()

    def stop():
        for provider in providers.values():
            provider.stop()
        bus.drain()
        store.close()

    return Gateway(pipeline, services, on_start=start, on_stop=stop,
                   body_timeout=settings.body_timeout)


class Server(uvicorn.Server):
    """uvicorn's server, closing idle keep-alive connections at once on shutdown, with the
    in-cloud listeners (gateway/listeners.py) beside its port.

    A TLS connection closed politely waits for the client's close_notify, up to 30 s, and
    an idle client never sends one; an idle connection has no request to finish, so it is
    aborted. Connections with a request in flight still finish it."""

    banner_text = ""
    listeners: CloudListeners | None = None

    async def startup(self, sockets=None):
        if self.listeners is not None:  # before the lifespan: providers may serve at start
            self.listeners.bind(self)
        await super().startup(sockets)
        if self.started and self.banner_text:  # the port is open now
            sys.stdout.write(self.banner_text)
            sys.stdout.flush()

    async def shutdown(self, sockets=None):
        end_streams()  # event streams (live tails) end rather than hold the shutdown
        if self.listeners is not None:
            await self.listeners.aclose()
        for connection in list(self.server_state.connections):
            cycle = getattr(connection, "cycle", None)
            transport = getattr(connection, "transport", None)
            if transport is not None and (cycle is None or cycle.response_complete):
                transport.abort()
        await super().shutdown(sockets)


def banner(settings: Settings, data_dir: Path) -> str:
    endpoint = settings.endpoint
    return "\n".join([
        f"Cloudlet {__version__} is serving on {endpoint}",
        f"  credentials   access key {DEFAULT_ACCESS_KEY!r}, secret {DEFAULT_SECRET_KEY!r} "
        f"(root of account {DEFAULT_ACCOUNT})",
        f"  data dir      {data_dir}{'  (ephemeral: deleted at exit)' if settings.ephemeral else ''}",
        "  point your tools at it:",
        f"    boto3 / SDKs  export AWS_ENDPOINT_URL={endpoint} AWS_ACCESS_KEY_ID=test "
        "AWS_SECRET_ACCESS_KEY=test AWS_DEFAULT_REGION=us-east-1",
        f"    AWS CLI       aws --endpoint-url {endpoint} sts get-caller-identity",
        f'    Terraform     provider "aws" {{ endpoints {{ sts = "{endpoint}" ... }} '
        "skip_credentials_validation = true }  (or AWS_ENDPOINT_URL)",
        "",
    ])


def resolve_data_dir(settings: Settings) -> Path:
    if settings.ephemeral:
        return Path(tempfile.mkdtemp(prefix="cloudlet-"))
    path = settings.data_dir.expanduser()
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    return path


def run(settings: Settings) -> None:
    restrict_umask()    # everything Cloudlet and its children create is private
    logging.basicConfig(
        level="DEBUG" if settings.log_level == "trace" else settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s %(message)s"
    )
    data_dir = resolve_data_dir(settings)
    listeners = CloudListeners()
    app = build_app(settings, data_dir, listeners)
    ssl = {}
    if settings.tls:
        from cloudlet.tls import ensure_certificate

        cert, key = ensure_certificate(data_dir / "tls")
        ssl = {"ssl_certfile": str(cert), "ssl_keyfile": str(key)}
    config = uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        log_level=settings.log_level.lower(),
        access_log=False,
        server_header=False,
        lifespan="on",
        timeout_graceful_shutdown=30,
        # Header deadline, header size limit and connections per client (connections.py).
        http=GuardedProtocol.configured(settings.header_timeout,
                                        settings.max_connections_per_client),
        ws="none",
        # Nothing proxies Cloudlet: X-Forwarded-For and -Proto from a local client must
        # not pass for its address (aws:SourceIp) or for TLS (aws:SecureTransport).
        proxy_headers=False,
        **ssl,
    )
    server = Server(config)
    server.listeners = listeners
    server.banner_text = banner(settings, data_dir)
    # uvicorn finishes in-flight requests and runs the shutdown (flushing state), then
    # re-raises the signal it caught; these handlers turn that into a clean exit.
    signal.signal(signal.SIGTERM, _exit_cleanly)
    signal.signal(signal.SIGINT, _exit_cleanly)
    try:
        server.run()
    finally:
        if settings.ephemeral:
            shutil.rmtree(data_dir, ignore_errors=True)


def _exit_cleanly(signum, frame) -> None:
    raise SystemExit(0)
