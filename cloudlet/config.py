"""Settings, from the command line with `CLOUDLET_*` environment variables as defaults."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

DEFAULT_ACCESS_KEY = "test"
DEFAULT_SECRET_KEY = "test"
DEFAULT_ACCOUNT = "000000000000"
DEFAULT_REGION = "us-east-1"
# The signing name of Cloudlet's control calls (/_cloudlet/clock, shutdown, the mailbox,
# OIDC tokens): SigV4 with the scope <date>/<region>/cloudlet/aws4_request.
CONTROL_SIGNING_NAME = "cloudlet"
# Public IPv4 addresses and Elastic IPs: a loopback range, so they never leave the machine.
DEFAULT_PUBLIC_RANGE = "127.100.0.0/16"


def public_range() -> str:
    """CLOUDLET_PUBLIC_RANGE, the range EC2 hands public addresses out of."""
    return os.environ.get("CLOUDLET_PUBLIC_RANGE", DEFAULT_PUBLIC_RANGE)


def _env_bool(name: str) -> bool:
    return os.environ.get(name, "").lower() in ("1", "true", "yes", "on")


@dataclass
class Settings:
    host: str = "127.0.0.1"
    port: int = 4566
    data_dir: Path = Path("~/.cloudlet")
    ephemeral: bool = False
    log_level: str = "info"
    tls: bool = False
    # Seconds a request body may stall before the request fails with RequestTimeout.
    body_timeout: float = 20.0
    # Seconds a connection may take to send a request's headers (from its opening, or the
    # end of the previous response) before it is closed: S3 drops a silent one after ~20.
    header_timeout: float = 20.0
    # Connections one client address may hold open at once; more are refused (503).
    max_connections_per_client: int = 512
    # Where public IPv4 addresses and Elastic IPs come from (CLOUDLET_PUBLIC_RANGE).
    public_range: str = DEFAULT_PUBLIC_RANGE

    @classmethod
    def from_env(cls) -> Settings:
        return cls(
            host=os.environ.get("CLOUDLET_HOST", cls.host),
            port=int(os.environ.get("CLOUDLET_PORT", cls.port)),
            data_dir=Path(os.environ.get("CLOUDLET_DATA_DIR", str(cls.data_dir))),
            ephemeral=_env_bool("CLOUDLET_EPHEMERAL"),
            log_level=os.environ.get("CLOUDLET_LOG_LEVEL", cls.log_level),
            tls=_env_bool("CLOUDLET_TLS"),
            body_timeout=float(os.environ.get("CLOUDLET_BODY_TIMEOUT", cls.body_timeout)),
            header_timeout=float(os.environ.get("CLOUDLET_HEADER_TIMEOUT", cls.header_timeout)),
            max_connections_per_client=int(os.environ.get(
                "CLOUDLET_MAX_CONNECTIONS_PER_CLIENT", cls.max_connections_per_client)),
            public_range=public_range(),
        )

    @property
    def scheme(self) -> str:
        return "https" if self.tls else "http"

    @property
    def endpoint(self) -> str:
        host = "localhost" if self.host in ("0.0.0.0", "::") else self.host
        return f"{self.scheme}://{host}:{self.port}"
