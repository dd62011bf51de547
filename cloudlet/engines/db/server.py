"""The interface between the RDS provider and the database engines.

The provider owns the API, the state machine and the records; an engine owns one real
server process and its data directory. Nothing here knows about AWS's API shapes.
"""

from __future__ import annotations

import importlib
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from pathlib import Path

ENGINES = {
    "postgres": "cloudlet.engines.db.postgres:PostgresServer",
    "aurora-postgresql": "cloudlet.engines.db.postgres:PostgresServer",
    "mysql": "cloudlet.engines.db.mariadb:MariaDBServer",
    "mariadb": "cloudlet.engines.db.mariadb:MariaDBServer",
    "aurora-mysql": "cloudlet.engines.db.mariadb:MariaDBServer",
}


def engine_class(engine: str) -> type[DatabaseServer] | None:
    target = ENGINES.get(engine)
    if target is None:
        return None
    module, _, name = target.partition(":")
    return getattr(importlib.import_module(module), name)


@dataclass
class ServerSpec:
    data_dir: Path                  # the server's own data directory (created by initialize)
    port: int                       # where the server itself listens, on 127.0.0.1
    master_username: str
    master_password: str
    db_name: str | None = None
    parameters: dict[str, str] = field(default_factory=dict)  # engine settings to apply
    tls_cert: Path | None = None    # server certificate (signed by Cloudlet's RDS CA) and key
    tls_key: Path | None = None
    archive_dir: Path | None = None  # continuous WAL/binlog archive; None: no automated backups
    memory_mb: int = 1024           # the instance class's memory, to size buffers
    max_connections: int | None = None


class EngineError(Exception):
    """A server that would not initialize, start, back up or restore; the message says why."""


class DatabaseServer(ABC):
    """One server process. Methods block until done; none of them runs on the event loop."""

    engine = ""

    def __init__(self, spec: ServerSpec):
        self.spec = spec

    @classmethod
    @abstractmethod
    def available(cls) -> str | None:
        """None when the host has the engine's binaries; else why not (shown to users)."""

    @classmethod
    @abstractmethod
    def versions(cls) -> list[str]:
        """The engine versions the host really has, e.g. ["15.18"]."""

    @classmethod
    @abstractmethod
    def parameters(cls) -> list[dict]:
        """The engine's real parameter list: name, default value, type, allowed values,
        description and whether it is static (needs a restart) or dynamic."""

    @abstractmethod
    def initialize(self) -> None:
        """Create the data directory, the master user (with its password) and DBName."""

    @abstractmethod
    def start(self) -> None:
        """Start the process and wait until it accepts connections."""

    @abstractmethod
    def stop(self) -> None:
        """Stop cleanly (a checkpoint, then exit)."""

    @abstractmethod
    def running(self) -> bool: ...

    @property
    @abstractmethod
    def pid(self) -> int | None: ...

    @abstractmethod
    def apply_parameters(self, parameters: dict[str, str]) -> set[str]:
        """Apply settings to the running server; returns the names that wait for a restart."""

    @abstractmethod
    def base_backup(self, dest: Path) -> None:
        """A consistent physical backup of the running server into dest (a snapshot, or the
        base of point-in-time recovery together with the archive)."""

    @classmethod
    @abstractmethod
    def restore(cls, backup: Path, spec: ServerSpec, *, archive: Path | None = None,
                target_time: float | None = None) -> DatabaseServer:
        """A new server in spec.data_dir from a base backup; with archive and target_time,
        replayed to exactly that moment (epoch seconds). Not started."""

    @abstractmethod
    def create_replica(self, spec: ServerSpec, *, synchronous: bool = False) -> DatabaseServer:
        """A streaming replica of this running server in spec.data_dir, started. Read-only
        until promoted; synchronous replicas are Multi-AZ standbys."""

    @abstractmethod
    def promote(self) -> None:
        """Turn this replica into a standalone primary that accepts writes."""

    @abstractmethod
    def replica_lag(self) -> float | None:
        """Seconds behind the primary, for a replica; None otherwise."""

    @abstractmethod
    def latest_restorable_time(self) -> float | None:
        """The newest moment (epoch seconds) the archive can restore to."""

    @abstractmethod
    def stats(self) -> dict:
        """What CloudWatch reports: connections, CPU seconds, storage used in bytes, ..."""

    def set_master_password(self, password: str) -> None:
        """Change the master user's password on the running server (ModifyDBInstance
        MasterUserPassword). Engines override this; the default says it is unsupported."""
        raise EngineError(f"the {self.engine} engine cannot change the master password")
