"""Backups of a MariaDB server: a base backup is a consistent logical dump taken in one
transaction, with the binlog position it corresponds to; a restore loads the dump into a
new server, and point-in-time recovery replays the archived binlog from that position up
to the target second. The binlog counts time in whole seconds, so a restore to T includes
everything committed during the second T."""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import subprocess
import time
from pathlib import Path
from typing import Self

from cloudlet.engines.db.mariadb_client import tool
from cloudlet.engines.db.server import EngineError, ServerSpec


class MariaDBBackups:
    """A mixin of MariaDBServer."""

    spec: ServerSpec
    admin_cnf: Path
    binlog_dir: Path

    def base_backup(self, dest: Path) -> None:
        dest.mkdir(parents=True, exist_ok=True)
        dump = dest / "dump.sql"
        with open(dump, "wb") as out:
            result = subprocess.run(
                [tool("mariadb-dump"), f"--defaults-extra-file={self.admin_cnf}",
                 "--single-transaction", "--master-data=2", "--all-databases", "--routines",
                 "--events", "--triggers", "--flush-privileges", "--hex-blob"],
                stdout=out, stderr=subprocess.PIPE, check=False)
        if result.returncode != 0:
            raise EngineError(f"mariadb-dump failed: {result.stderr.decode(errors='replace')[-500:]}")
        position = _dump_position(dump)
        meta = {"binlog_file": position[0], "binlog_pos": position[1], "time": time.time(),
                "admin_password": self._admin_password()}
        (dest / "backup.json").write_text(json.dumps(meta))
        (dest / "backup.json").chmod(0o600)

    @classmethod
    def restore(cls, backup: Path, spec: ServerSpec, *, archive: Path | None = None,
                target_time: float | None = None) -> Self:
        """A new server from a base backup, replayed to target_time through the archived
        binlog when given. Returned stopped, like a fresh initialize()."""
        meta = json.loads((backup / "backup.json").read_text())
        server = cls(spec)
        try:
            server._initialize(admin_password=meta["admin_password"])
            server.start()
            server._load(backup / "dump.sql")
            if archive is not None and target_time is not None:
                server._replay(archive, meta, target_time)
            server.stop()
        except BaseException:
            server._abandon()
            raise
        return server

    def _load(self, dump: Path) -> None:
        with open(dump, "rb") as source:
            result = subprocess.run(
                [tool("mariadb"), f"--defaults-extra-file={self.admin_cnf}"],
                stdin=source, capture_output=True, check=False)
        if result.returncode != 0:
            raise EngineError(f"loading the backup failed: {result.stderr.decode(errors='replace')[-500:]}")
        self.sql("FLUSH PRIVILEGES")

    def _replay(self, archive: Path, meta: dict, target_time: float) -> None:
        files = _binlog_files(archive)
        if meta["binlog_file"] not in files:
            raise EngineError("the archive does not hold the backup's binlog")
        files = files[files.index(meta["binlog_file"]):]
        stop = dt.datetime.fromtimestamp(int(target_time) + 1, dt.UTC)
        reader = subprocess.Popen(
            [tool("mariadb-binlog"), f"--start-position={meta['binlog_pos']}",
             f"--stop-datetime={stop:%Y-%m-%d %H:%M:%S}"] + [str(archive / f) for f in files],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env={**os.environ, "TZ": "UTC"})
        result = subprocess.run(
            [tool("mariadb"), f"--defaults-extra-file={self.admin_cnf}"],
            stdin=reader.stdout, capture_output=True, check=False)
        reader.stdout.close()
        reader_err = reader.stderr.read().decode(errors="replace")
        reader.wait()
        if reader.returncode != 0 or result.returncode != 0:
            raise EngineError("replaying the binlog failed: "
                              + (reader_err or result.stderr.decode(errors="replace"))[-500:])

    def latest_restorable_time(self) -> float | None:
        """The binlog is synced on every commit, so a running server can be restored to
        now; a stopped one to when its binlog was last written."""
        if self.running():
            return time.time()
        files = _binlog_files(self.binlog_dir)
        if not files:
            return None
        return (self.binlog_dir / files[-1]).stat().st_mtime


def _binlog_files(directory: Path) -> list[str]:
    index = directory / "binlog.index"
    try:
        return [Path(line.strip()).name for line in index.read_text().splitlines() if line.strip()]
    except OSError:
        return []


def _dump_position(dump: Path) -> tuple[str, int]:
    with open(dump, "rb") as source:
        for _ in range(200):
            line = source.readline()
            if not line:
                break
            match = re.search(rb"MASTER_LOG_FILE='([^']+)', MASTER_LOG_POS=(\d+)", line)
            if match:
                return match.group(1).decode(), int(match.group(2))
    raise EngineError("the dump records no binlog position")
