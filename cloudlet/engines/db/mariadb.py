"""MariaDB from the host's packages: RDS's `mysql` and `mariadb` engines.

Layout of one server's directory (ServerSpec.data_dir):

    data/           the server's datadir
    run/            socket and pid file
    my.cnf          its whole configuration (written by Cloudlet; parameters persist here)
    admin.cnf       the client credentials of `rdsadmin`, Cloudlet's own superuser (0600)
    error.log

The binary log is always on (row format, synced on every commit): replicas read it, and
when automated backups are on it is written straight into ServerSpec.archive_dir, which
outlives the instance.

The server runs as the user running Cloudlet (root included). The master user gets every
privilege except READ_ONLY ADMIN (as on RDS, where it is not SUPER), so `read_only` holds
it off a replica. The class is composed of what it does:

    mariadb.py              the server itself: my.cnf, initialization, start and stop,
                            parameters, metrics
    mariadb_client.py       the client tools as `rdsadmin` over the socket, quoting
    mariadb_backup.py       dumps with their binlog position, restore and point-in-time recovery
    mariadb_replication.py  replicas following the binlog, promotion, replica lag
"""

from __future__ import annotations

import contextlib
import functools
import os
import re
import secrets
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

from cloudlet.engines.db import system
from cloudlet.engines.db.mariadb_backup import MariaDBBackups
from cloudlet.engines.db.mariadb_client import ADMIN_USER, MariaDBClient, binary, quote, tool
from cloudlet.engines.db.mariadb_replication import MariaDBReplication
from cloudlet.engines.db.server import DatabaseServer, EngineError, ServerSpec

START_TIMEOUT = 60.0


def _server_env() -> dict[str, str]:
    """mariadbd sets its own umask from UMASK and UMASK_DIR (the modes it creates files and
    directories with, 0660 and 0700 by default): private, like the rest of the data dir."""
    return {**os.environ, "UMASK": "0600", "UMASK_DIR": "0700"}


def _user_flag() -> list[str]:
    """mariadbd refuses to run as root unless told to; Cloudlet's data directory is the
    invoking user's, so the server runs as that user."""
    return ["--user=root"] if os.geteuid() == 0 else []


class MariaDBServer(MariaDBClient, MariaDBBackups, MariaDBReplication, DatabaseServer):
    engine = "mariadb"

    # -- what the host has ---------------------------------------------------------------
    @classmethod
    def available(cls) -> str | None:
        missing = [name for name in ("mariadbd", "mariadb-install-db", "mariadb",
                                     "mariadb-dump", "mariadb-binlog") if binary(name) is None]
        if missing:
            return ("MariaDB is not installed (missing " + ", ".join(missing) +
                    "): install the Debian package mariadb-server")
        return None

    @classmethod
    @functools.cache
    def versions(cls) -> list[str]:
        if cls.available() is not None:
            return []
        out = subprocess.run([tool("mariadbd"), "--version"], capture_output=True, text=True,
                             check=False).stdout
        match = re.search(r"Ver\s+(\d+\.\d+\.\d+)", out)
        return [match.group(1)] if match else []

    @classmethod
    def parameters(cls) -> list[dict]:
        return [dict(p) for p in _parameter_catalog()]

    # -- paths ---------------------------------------------------------------------------
    @property
    def datadir(self) -> Path:
        return self.spec.data_dir / "data"

    @property
    def rundir(self) -> Path:
        return self.spec.data_dir / "run"

    @property
    def socket(self) -> Path:
        return self.rundir / "mysqld.sock"

    @property
    def pidfile(self) -> Path:
        return self.rundir / "mysqld.pid"

    @property
    def cnf(self) -> Path:
        return self.spec.data_dir / "my.cnf"

    @property
    def admin_cnf(self) -> Path:
        return self.spec.data_dir / "admin.cnf"

    @property
    def binlog_dir(self) -> Path:
        return self.spec.archive_dir or (self.spec.data_dir / "binlog")

    # -- configuration -------------------------------------------------------------------
    def _settings(self) -> dict[str, str]:
        spec = self.spec
        buffer_mb = max(16, min(spec.memory_mb // 4, 128))
        settings = {
            "datadir": str(self.datadir),
            "socket": str(self.socket),
            "pid-file": str(self.pidfile),
            "log-error": str(self.spec.data_dir / "error.log"),
            "port": str(spec.port),
            "bind-address": "127.0.0.1",
            "skip-name-resolve": "ON",
            "server-id": str(spec.port),
            "log-bin": str(self.binlog_dir / "binlog"),
            "binlog_format": "ROW",
            "sync_binlog": "1",
            "innodb_flush_log_at_trx_commit": "1",
            "innodb_buffer_pool_size": f"{buffer_mb}M",
            "innodb_log_file_size": "16M",
            "max_connections": str(spec.max_connections or 100),
            "performance_schema": "OFF",
            "rpl_semi_sync_master_timeout": "10000",
        }
        if spec.tls_cert and spec.tls_key:
            settings["ssl_cert"] = str(self.spec.data_dir / "tls" / "server.crt")
            settings["ssl_key"] = str(self.spec.data_dir / "tls" / "server.key")
        settings.update(spec.parameters)
        return settings

    def _install_tls(self) -> None:
        """Copies of the certificate and key, kept with the server (0600)."""
        if not (self.spec.tls_cert and self.spec.tls_key):
            return
        directory = self.spec.data_dir / "tls"
        directory.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(self.spec.tls_cert, directory / "server.crt")
        shutil.copyfile(self.spec.tls_key, directory / "server.key")
        (directory / "server.key").chmod(0o600)

    def _write_cnf(self, extra: dict[str, str] | None = None) -> None:
        settings = self._settings()
        settings.update(extra or {})
        lines = ["[mariadbd]"] + [f"{k}={v}" for k, v in settings.items()]
        self.cnf.write_text("\n".join(lines) + "\n")

    # -- running the server --------------------------------------------------------------
    def initialize(self) -> None:
        try:
            self._initialize(admin_password=secrets.token_urlsafe(24))
            self.start()
            spec = self.spec
            user = quote(spec.master_username)
            password = quote(spec.master_password)
            statements = [
                f"CREATE USER {user}@'%' IDENTIFIED BY {password}",
                f"GRANT ALL PRIVILEGES ON *.* TO {user}@'%' WITH GRANT OPTION",
                f"REVOKE READ_ONLY ADMIN ON *.* FROM {user}@'%'",
            ]
            if spec.db_name:
                statements.append(f"CREATE DATABASE `{spec.db_name}`")
            self.sql(";".join(statements))
            self.stop()
        except BaseException:
            self._abandon()
            raise

    def _initialize(self, admin_password: str) -> None:
        """A fresh datadir with only `rdsadmin`, and the configuration written."""
        system.require_empty(self.spec.data_dir)
        for path in (self.datadir, self.rundir, self.binlog_dir):
            path.mkdir(parents=True, exist_ok=True)
        self._write_cnf()
        self._install_tls()
        self._write_admin_cnf(admin_password)
        init = subprocess.run(
            [tool("mariadb-install-db"), f"--defaults-file={self.cnf}",
             "--auth-root-authentication-method=socket", "--skip-test-db"]
            + _user_flag(),
            capture_output=True, text=True, check=False, env=_server_env())
        if init.returncode != 0:
            raise EngineError("mariadb-install-db failed: " + (init.stderr.strip()[-300:] or self._error_tail()))
        # rdsadmin is created through the bootstrap, before the server ever listens.
        boot = subprocess.run(
            [tool("mariadbd"), f"--defaults-file={self.cnf}", "--bootstrap",
             "--skip-log-bin"] + _user_flag(),
            input="".join(f"{statement};\n" for statement in (
                "FLUSH PRIVILEGES",
                *(f"CREATE USER '{ADMIN_USER}'@'{host}' IDENTIFIED BY {quote(admin_password)}"
                  for host in ("localhost", "127.0.0.1")),
                *(f"GRANT ALL PRIVILEGES ON *.* TO '{ADMIN_USER}'@'{host}' WITH GRANT OPTION"
                  for host in ("localhost", "127.0.0.1")))),
            capture_output=True, text=True, check=False, env=_server_env())
        if boot.returncode != 0:
            raise EngineError("MariaDB bootstrap failed: " + self._error_tail())

    def _abandon(self) -> None:
        """Leave nothing behind of a server that failed to come up."""
        with contextlib.suppress(Exception):
            self.kill()
        shutil.rmtree(self.spec.data_dir, ignore_errors=True)

    def start(self) -> None:
        if self.running():
            return
        self._install_tls()
        self.rundir.mkdir(parents=True, exist_ok=True)
        self.pidfile.unlink(missing_ok=True)
        log = open(self.spec.data_dir / "stdout.log", "ab")  # noqa: SIM115 - handed to the child
        try:
            process = subprocess.Popen(
                [tool("mariadbd"), f"--defaults-file={self.cnf}"]
                + _user_flag(),
                stdout=log, stderr=log, stdin=subprocess.DEVNULL, start_new_session=True,
                env=_server_env())
        finally:
            log.close()
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise EngineError("MariaDB exited at start: " + self._error_tail())
            if self.socket.exists() and self._ping():
                self._process = process
                return
            time.sleep(0.05)
        process.kill()
        raise EngineError("MariaDB did not accept connections within "
                          f"{START_TIMEOUT:.0f} s: " + self._error_tail())

    def _error_tail(self) -> str:
        try:
            lines = (self.spec.data_dir / "error.log").read_text(errors="replace").splitlines()
        except OSError:
            return "(no error log)"
        return " | ".join(line for line in lines[-8:] if "[Note]" not in line and line.strip())

    def stop(self) -> None:
        pid = self.pid
        if pid is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
        self._wait_gone(pid, 60.0)

    def kill(self) -> None:
        pid = self.pid
        if pid is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
            self._wait_gone(pid, 10.0)

    def _wait_gone(self, pid: int, timeout: float) -> None:
        process = getattr(self, "_process", None)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if process is not None and process.pid == pid:
                if process.poll() is not None:
                    return
            elif not system.alive(pid):
                return
            time.sleep(0.05)
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)

    def running(self) -> bool:
        pid = self.pid
        return pid is not None and system.alive(pid)

    @property
    def pid(self) -> int | None:
        try:
            pid = int(self.pidfile.read_text().strip())
        except (OSError, ValueError):
            return None
        return pid if system.alive(pid) else None

    # -- parameters ----------------------------------------------------------------------

    def apply_parameters(self, parameters: dict[str, str]) -> set[str]:
        catalog = {p["name"]: p for p in _parameter_catalog()}
        pending = set()
        for name, value in parameters.items():
            key = name.replace("-", "_")
            self.spec.parameters[key] = value
            info = catalog.get(key)
            if info is None or info["static"]:
                pending.add(name)
                continue
            literal = value if re.fullmatch(r"-?\d+(\.\d+)?", value) else quote(value)
            self.sql(f"SET GLOBAL {key} = {literal}")
        self._write_cnf(self._role_settings())
        return pending

    # -- what CloudWatch reports ---------------------------------------------------------
    def stats(self) -> dict:
        result = {"storage_bytes": system.tree_size(self.spec.data_dir), "connections": 0,
                  "cpu_seconds": 0.0}
        pid = self.pid
        if pid is None:
            return result
        result["cpu_seconds"] = system.cpu_seconds(pid)
        with contextlib.suppress(EngineError):
            rows = self.sql("SELECT VARIABLE_VALUE FROM information_schema.GLOBAL_STATUS "
                            "WHERE VARIABLE_NAME = 'THREADS_CONNECTED'")
            result["connections"] = int(rows[0][0]) if rows else 0
        return result


@functools.cache
def _parameter_catalog() -> tuple[dict, ...]:
    """The server's real variables, from information_schema.SYSTEM_VARIABLES of a
    throwaway server (started once per process, on a socket only)."""
    if MariaDBServer.available() is not None:
        return ()
    with tempfile.TemporaryDirectory(prefix="cloudlet-mariadb-params-") as scratch:
        root = Path(scratch)
        os.chmod(root, 0o755)
        server = MariaDBServer(ServerSpec(data_dir=root / "server", port=0,
                                          master_username="x", master_password="x"))
        server._initialize(admin_password=secrets.token_urlsafe(16))
        server.spec.parameters["skip_networking"] = "ON"
        server._write_cnf()
        server.start()
        try:
            rows = server.sql(
                "SELECT VARIABLE_NAME, READ_ONLY, VARIABLE_TYPE, IFNULL(DEFAULT_VALUE, ''), "
                "IFNULL(NUMERIC_MIN_VALUE, ''), IFNULL(NUMERIC_MAX_VALUE, ''), "
                "IFNULL(ENUM_VALUE_LIST, ''), REPLACE(IFNULL(VARIABLE_COMMENT, ''), '\\t', ' ') "
                "FROM information_schema.SYSTEM_VARIABLES ORDER BY VARIABLE_NAME")
        finally:
            server.kill()
    catalog = []
    for name, read_only, kind, default, low, high, enum, comment in (r + [""] * (8 - len(r)) for r in rows):
        if enum:
            allowed = enum
        elif low and high:
            allowed = f"{low}-{high}"
        else:
            allowed = ""
        catalog.append({
            "name": name.lower(), "default": default, "type": _data_type(kind),
            "allowed": allowed, "description": comment, "static": read_only == "YES",
        })
    return tuple(catalog)


def _data_type(kind: str) -> str:
    kind = kind.upper()
    if "INT" in kind:
        return "integer"
    if kind in ("BOOLEAN",):
        return "boolean"
    if kind in ("DOUBLE",):
        return "float"
    if kind in ("ENUM", "SET", "FLAGSET"):
        return "list" if kind != "ENUM" else "string"
    return "string"
