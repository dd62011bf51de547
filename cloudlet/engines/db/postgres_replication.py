"""Replication between PostgreSQL servers: streaming replicas made with pg_basebackup
through a physical replication slot, Multi-AZ standbys on the primary's synchronous list,
promotion, and replica lag."""

from __future__ import annotations

import hashlib
import re
import shutil
import time
from typing import Self

from cloudlet.engines.db import postgres_config as conf
from cloudlet.engines.db import postgres_host as host
from cloudlet.engines.db import system
from cloudlet.engines.db.postgres_client import literal
from cloudlet.engines.db.server import EngineError, ServerSpec

# In a standby's data directory: it is a synchronous (Multi-AZ) standby, which joins its
# primary's synchronous list at every start and leaves it at every stop.
SYNCHRONOUS_MARK = "cloudlet-synchronous-standby"


class PostgresReplication:
    """A mixin of PostgresServer."""

    spec: ServerSpec

    @staticmethod
    def _standby_name(spec: ServerSpec) -> str:
        return "cloudlet_" + hashlib.sha1(str(spec.data_dir.resolve()).encode()).hexdigest()[:12]

    def create_replica(self, spec: ServerSpec, *, synchronous: bool = False) -> Self:
        """pg_basebackup -R through a physical replication slot named after the replica,
        then start it as a hot standby. A synchronous one (a Multi-AZ standby) joins the
        primary's synchronous_standby_names (ANY 1 of them; synchronous_commit is on unless
        the parameter group says otherwise); standbys no longer connected leave it first,
        so that a dead standby stops holding commits."""
        if not self.running():
            raise EngineError("the primary is not running")
        d = spec.data_dir
        system.require_empty(d)
        name = self._standby_name(spec)
        replica = type(self)(spec)
        if synchronous:
            connected = {row[0] for row in self.sql("SELECT application_name FROM "
                                                    "pg_stat_replication")}
            self._set_standbys(None, [n for n in self._standbys(None) or [] if n in connected])
        self.sql(f"SELECT pg_create_physical_replication_slot({literal(name)}) WHERE NOT EXISTS "
                 f"(SELECT 1 FROM pg_replication_slots WHERE slot_name = {literal(name)})")
        try:
            self._run([host.tool("pg_basebackup"), "-d", self._conninfo(application_name=name),
                       "-D", str(d), "-X", "stream", "-S", name, "-R", "-c", "fast",
                       "--no-sync"], as_server=False, timeout=3600)
            system.syncfs(d)
            replica._forget_origin()
            (d / "standby.signal").touch()
            if synchronous:
                (d / SYNCHRONOUS_MARK).touch()
            host.give(d, host.server_user(), 0o700)
            replica.start()
            if synchronous:
                self._wait_synchronous(name)
        except BaseException:
            if replica.running():
                replica._run([host.tool("pg_ctl"), "stop", "-D", str(d), "-m", "immediate"],
                             check=False)
            self.remove_replica(spec)
            shutil.rmtree(d, ignore_errors=True)
            raise
        return replica

    # The synchronous standby list, read and written on this server (conninfo None) or, from a
    # standby, on its primary.

    def _on(self, conninfo: str | None, *queries: str) -> str | None:
        if conninfo is None:
            rows = []
            for query in queries:
                rows = self.sql(query)
            return "\n".join("\x1f".join(row) for row in rows)
        return self._psql_remote(conninfo, *queries)

    def _standbys(self, conninfo: str | None) -> list[str] | None:
        """The list, None when that server cannot be asked."""
        value = self._on(conninfo, "SHOW synchronous_standby_names")
        return None if value is None else conf.standbys_of(value)

    def _set_standbys(self, conninfo: str | None, names: list[str]) -> None:
        names = list(dict.fromkeys(names))
        change = (f"ALTER SYSTEM SET synchronous_standby_names = "
                  f"{literal(conf.synchronous_standby_names(names))}" if names
                  else "ALTER SYSTEM RESET synchronous_standby_names")
        self._on(conninfo, change, "SELECT pg_reload_conf()")

    def _primary_conninfo(self) -> str | None:
        """Where this standby's primary is, from its settings (running or not)."""
        try:
            text = (self.data_dir / "postgresql.auto.conf").read_text()
        except OSError:
            return None
        found = re.findall(r"^primary_conninfo\s*=\s*'((?:[^']|'')*)'", text, re.M)
        return found[-1].replace("''", "'") if found else None

    def _join_primary(self) -> None:
        """A synchronous standby (re)started: back on its primary's list."""
        conninfo = self._primary_conninfo()
        if conninfo is not None:
            name = self._standby_name(self.spec)
            names = self._standbys(conninfo)
            if names is not None and name not in names:
                self._set_standbys(conninfo, names + [name])

    def _leave_primary(self) -> None:
        """A synchronous standby stopping: its primary must not wait for it meanwhile."""
        conninfo = self._primary_conninfo()
        if conninfo is not None:
            name = self._standby_name(self.spec)
            names = self._standbys(conninfo)
            if names is not None and name in names:
                self._set_standbys(conninfo, [n for n in names if n != name])

    def _wait_synchronous(self, name: str, timeout: float = 30) -> None:
        """Until the primary (self) has the standby `name` streaming as synchronous."""
        names = self._standbys(None) or []
        if name not in names:
            self._set_standbys(None, names + [name])
        deadline = time.monotonic() + timeout
        while self.sql("SELECT count(*) FROM pg_stat_replication WHERE application_name = "
                       f"{literal(name)} AND sync_state IN ('sync', 'quorum')")[0][0] == "0":
            if time.monotonic() > deadline:
                raise EngineError(f"the standby did not become synchronous within {timeout} s")
            time.sleep(0.1)

    def remove_replica(self, spec: ServerSpec) -> None:
        """Forget a replica being deleted: off the synchronous list and its replication slot
        dropped (it would keep WAL). Not part of the engine interface; a standby's own
        stop() already takes it off the list."""
        name = self._standby_name(spec)
        if self.running():
            self._set_standbys(None, [n for n in self._standbys(None) or [] if n != name])
            self.sql(f"SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots "
                     f"WHERE slot_name = {literal(name)} AND NOT active")

    def promote(self) -> None:
        """pg_ctl promote, wait until writable, then cut the ties: the primary's connection
        settings are reset and its slot for us dropped when it is still reachable."""
        if self.sql("SELECT pg_is_in_recovery()")[0][0] == "f":
            return
        primary = self._primary_conninfo()
        self._run([host.tool("pg_ctl"), "promote", "-w", "-t", "60", "-D", str(self.data_dir)],
                  timeout=70)
        self._wait_promoted(timeout=60)
        (self.data_dir / SYNCHRONOUS_MARK).unlink(missing_ok=True)
        self._set_standbys(None, [])
        self.sql("ALTER SYSTEM RESET primary_conninfo")
        self.sql("ALTER SYSTEM RESET primary_slot_name")
        self.sql("SELECT pg_reload_conf()")
        if primary:
            self._drop_slot_on(primary)

    def _drop_slot_on(self, conninfo: str) -> None:
        name = self._standby_name(self.spec)
        query = (f"SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots "
                 f"WHERE slot_name = {literal(name)} AND NOT active")
        deadline = time.monotonic() + 3
        while time.monotonic() < deadline:
            self._psql_remote(conninfo, query)
            left = self._psql_remote(conninfo, "SELECT count(*) FROM pg_replication_slots "
                                               f"WHERE slot_name = {literal(name)}")
            if left in (None, "0"):
                return      # dropped, or the primary is gone
            time.sleep(0.2)

    def replica_lag(self) -> float | None:
        """Seconds since the last replayed transaction's commit, 0 when everything received
        is replayed; None for a primary or a stopped server."""
        if not self.running():
            return None
        row = self.sql(
            "SELECT pg_is_in_recovery(), CASE WHEN pg_last_wal_receive_lsn() IS NOT DISTINCT "
            "FROM pg_last_wal_replay_lsn() THEN 0 ELSE COALESCE(EXTRACT(EPOCH FROM now() - "
            "pg_last_xact_replay_timestamp()), 0) END")[0]
        if row[0] != "t":
            return None
        return max(0.0, float(row[1]))
