"""Backups of a PostgreSQL server: base backups (pg_basebackup), the WAL archive and the
latest moment it can restore to, and restores from a base backup, replayed through the
archive to a moment for point-in-time recovery.

WAL segments are 1 MB (initdb --wal-segsize=1) so that forcing a segment switch to make the
archive current costs little: latest_restorable_time() does exactly that on a running primary.
"""

from __future__ import annotations

import os
import re
import shutil
import time
from pathlib import Path
from typing import Self

from cloudlet.engines.db import postgres_config as conf
from cloudlet.engines.db import postgres_host as host
from cloudlet.engines.db import system
from cloudlet.engines.db.server import EngineError, ServerSpec

LATEST_FILE = "latest-restorable-time"
SEGMENT = re.compile(r"^[0-9A-F]{24}$")
NOT_REACHED = "recovery ended before configured recovery target was reached"


class PostgresBackups:
    """A mixin of PostgresServer."""

    spec: ServerSpec

    def base_backup(self, dest: Path) -> None:
        if not self.running():
            raise EngineError("the server is not running")
        if dest.exists() and any(dest.iterdir()):
            raise EngineError(f"backup destination {dest} is not empty")
        try:
            self._run([host.tool("pg_basebackup"), "-d", self._conninfo(), "-D", str(dest),
                       "-X", "stream", "-c", "fast", "--no-sync"], as_server=False, timeout=3600)
            system.syncfs(dest)
        except BaseException:
            shutil.rmtree(dest, ignore_errors=True)
            raise

    def _archive_now(self, timeout: float = 10) -> float | None:
        """Switch to a new WAL segment and wait until the finished one is archived; returns
        the moment before the switch (everything committed by then is in the archive)."""
        # Something (pytest does, for its basetemp) may have closed an ancestor again.
        host.make_traversable(self.spec.archive_dir, host.server_user())
        moment = time.time()
        rows = self.sql("SELECT pg_walfile_name(pg_switch_wal()) WHERE NOT pg_is_in_recovery()")
        if not rows:
            return None     # a standby archives nothing
        segment = rows[0][0]
        deadline = time.monotonic() + timeout
        while not (self.spec.archive_dir / segment).exists():
            if time.monotonic() > deadline:
                raise EngineError(f"WAL segment {segment} was not archived within {timeout} s")
            time.sleep(0.05)
        latest = self.spec.archive_dir / LATEST_FILE
        latest.with_suffix(".tmp").write_text(f"{moment:.6f}\n")
        os.replace(latest.with_suffix(".tmp"), latest)
        return moment

    def latest_restorable_time(self) -> float | None:
        """On a running primary: now, after a WAL switch whose segment has been archived
        (cheap with 1 MB segments; nothing is switched when there was no activity).
        Otherwise the moment recorded at the last such switch, falling back to the
        modification time of the newest archived segment (a slight over-estimate: commits
        made while that segment was being copied are in the next one)."""
        archive = self.spec.archive_dir
        if archive is None:
            return None
        if self.running():
            try:
                moment = self._archive_now()
                if moment is not None:
                    return moment
            except EngineError:
                pass
        try:
            return float((archive / LATEST_FILE).read_text())
        except (OSError, ValueError):
            pass
        times = [p.stat().st_mtime for p in archive.iterdir() if SEGMENT.match(p.name)] \
            if archive.is_dir() else []
        return max(times, default=None)

    @classmethod
    def restore(cls, backup: Path, spec: ServerSpec, *, archive: Path | None = None,
                target_time: float | None = None) -> Self:
        """Copies the base backup into spec.data_dir; with an archive, starts it to replay
        the archive (to exactly target_time when given, else to its end), waits for the
        promotion and stops it again. Returned stopped, like MariaDB's; a backup without an
        archive replays the WAL it holds at its first start."""
        if target_time is not None and archive is None:
            raise EngineError("a point-in-time restore needs the WAL archive")
        d = spec.data_dir
        system.require_empty(d)
        server = cls(spec)
        try:
            shutil.copytree(backup, d, symlinks=True, dirs_exist_ok=True)
            server._forget_origin()
            system.syncfs(d)
            host.give(d, host.server_user(), 0o700)
            if archive is not None:
                server._recover(archive, target_time)
                server.stop()
        except BaseException:
            if server.running():
                server._run([host.tool("pg_ctl"), "stop", "-D", str(d), "-m", "immediate"],
                            check=False)
            shutil.rmtree(d, ignore_errors=True)
            raise
        return server

    def _recover(self, archive: Path, target_time: float | None) -> None:
        user = host.server_user()
        host.make_traversable(archive, user)
        self.recovery = {"restore_command": conf.restore_command(archive),
                         "recovery_target_timeline": "latest"}
        if target_time is not None:
            self.recovery |= {"recovery_target_time": conf.iso(target_time),
                              "recovery_target_inclusive": "on",
                              "recovery_target_action": "promote"}
        self._write("recovery.signal", "", 0o600)
        if not self._start_recovery():
            # No transaction in the archive committed after the target: replaying all of it
            # is exactly the state at the target.
            self.recovery = {k: v for k, v in self.recovery.items()
                             if not k.startswith("recovery_target_") or k.endswith("timeline")}
            if not self._start_recovery():
                raise EngineError("recovery failed: " + self._log_tail())
        self.recovery = None    # the next start writes the configuration without it

    def _start_recovery(self) -> bool:
        """Start in recovery and wait for the promotion; False when recovery ended before
        reaching its target."""
        offset = self._log_size()
        try:
            self.start()
        except EngineError:
            if self._target_not_reached(offset):
                return False
            raise
        return self._wait_promoted(offset=offset)

    def _target_not_reached(self, offset: int) -> bool:
        return NOT_REACHED in self._log_since(offset)

    def _wait_promoted(self, timeout: float = 600, offset: int | None = None) -> bool:
        """Wait until recovery has ended and the server accepts writes; False when it ended
        before reaching its target."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.running():
                time.sleep(0.2)
                if self.running():
                    continue
                if offset is not None and self._target_not_reached(offset):
                    return False
                raise EngineError("recovery failed: " + self._log_tail())
            try:
                if self.sql("SELECT pg_is_in_recovery()", timeout=10)[0][0] == "f":
                    return True
            except EngineError:
                pass
            time.sleep(0.1)
        raise EngineError(f"recovery did not finish within {timeout:.0f} s")
