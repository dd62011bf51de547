"""Replication between MariaDB servers: a replica is restored from a base backup of its
primary and follows its binlog from the backup's position (semi-synchronous for a Multi-AZ
standby); `read_only` holds the master user off it until it is promoted."""

from __future__ import annotations

import json
import subprocess
import tempfile
from pathlib import Path
from typing import Self

from cloudlet.engines.db.mariadb_client import ADMIN_USER, quote, tool
from cloudlet.engines.db.server import ServerSpec


class MariaDBReplication:
    """A mixin of MariaDBServer."""

    spec: ServerSpec
    admin_cnf: Path

    def create_replica(self, spec: ServerSpec, *, synchronous: bool = False) -> Self:
        with tempfile.TemporaryDirectory(prefix="cloudlet-replica-") as scratch:
            backup = Path(scratch)
            self.base_backup(backup)
            meta = json.loads((backup / "backup.json").read_text())
            if synchronous:
                self.sql("SET GLOBAL rpl_semi_sync_master_enabled = ON;"
                         "SET GLOBAL rpl_semi_sync_master_wait_point = 'AFTER_SYNC'")
                self.spec.parameters["rpl_semi_sync_master_enabled"] = "ON"
                self._write_cnf(self._role_settings())
            replica = type(self).restore(backup, spec)
        try:
            (spec.data_dir / "replica.json").write_text(json.dumps(
                {"primary_port": self.spec.port, "synchronous": synchronous}))
            if synchronous:
                spec.parameters["rpl_semi_sync_slave_enabled"] = "ON"
            replica._write_cnf(replica._role_settings())
            replica.start()
            replica.sql(
                "CHANGE MASTER TO MASTER_HOST='127.0.0.1', "
                f"MASTER_PORT={self.spec.port}, MASTER_USER='{ADMIN_USER}', "
                f"MASTER_PASSWORD={quote(meta['admin_password'])}, "
                f"MASTER_LOG_FILE={quote(meta['binlog_file'])}, "
                f"MASTER_LOG_POS={meta['binlog_pos']}; START SLAVE")
        except BaseException:
            replica._abandon()
            raise
        return replica

    def _role_settings(self) -> dict[str, str]:
        """What my.cnf says because of the server's role: a replica is read_only."""
        return {"read_only": "ON"} if (self.spec.data_dir / "replica.json").exists() else {}

    def promote(self) -> None:
        self.sql("STOP SLAVE; RESET SLAVE ALL; SET GLOBAL read_only = OFF")
        (self.spec.data_dir / "replica.json").unlink(missing_ok=True)
        self.spec.parameters.pop("rpl_semi_sync_slave_enabled", None)
        self._write_cnf(self._role_settings())

    def replica_lag(self) -> float | None:
        if not (self.spec.data_dir / "replica.json").exists() or not self.running():
            return None
        status = self._slave_status()
        if status is None:
            return None
        behind = status.get("Seconds_Behind_Master")
        return float(behind) if behind not in (None, "", "NULL") else None

    def _slave_status(self) -> dict | None:
        """SHOW SLAVE STATUS as {field: value}; None when this server is no replica."""
        result = subprocess.run(
            [tool("mariadb"), f"--defaults-extra-file={self.admin_cnf}", "-E", "-e",
             "SHOW SLAVE STATUS"], capture_output=True, text=True, check=False)
        if result.returncode != 0 or not result.stdout.strip():
            return None
        status = {}
        for line in result.stdout.splitlines():
            key, sep, value = line.partition(":")
            if sep:
                status[key.strip()] = value.strip()
        return status
