"""MariaDB from the host's packages: RDS's `mysql` and `mariadb` engines.

Layout of one server's directory (ServerSpec.data_dir):

    data/           the server's datadir
    run/            socket and pid file
    my.cnf          its whole configuration (written by Cloudlet; parameters persist here)
    admin.cnf       the client credentials of `rdsadmin`, Cloudlet's own superuser (0600)
    error.log

The binary log is always on (row format, synced on every commit): replicas read it, and
when automated backups are on it is written straight into ServerSpec.archive_dir, which
outlives the instance. A base backup is a consistent logical dump taken in one
transaction, with the binlog position it corresponds to; point-in-time recovery loads the
dump and replays the archived binlog from that position up to the target second. The
binlog counts time in whole seconds, so a restore to T includes everything committed
during the second T.

The server runs as the user running Cloudlet (root included). The master user gets every
privilege except READ_ONLY ADMIN (as on RDS, where it is not SUPER), so `read_only` holds
it off a replica.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

from cloudlet.engines.db.server import DatabaseServer, EngineError, ServerSpec

ADMIN_USER = "rdsadmin"
START_TIMEOUT = 60.0
_SEARCH = ("/usr/sbin", "/usr/bin", "/usr/local/sbin", "/usr/local/bin", "/usr/libexec")


def _binary(name: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    for directory in _SEARCH:
        candidate = Path(directory) / name
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    return None


def _tool(name: str) -> str:
    path = _binary(name)
    if path is None:
        raise EngineError(f"MariaDB's {name} is not installed (Debian package mariadb-server)")
    return path


def _user_flag() -> list[str]:
    """mariadbd refuses to run as root unless told to; Cloudlet's data directory is the
    invoking user's, so the server runs as that user."""
    return ["--user=root"] if os.geteuid() == 0 else []


def _quote(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


class MariaDBServer(DatabaseServer):
    engine = "mariadb"

    # -- what the host has ---------------------------------------------------------------
    @classmethod
    def available(cls) -> str | None:
        missing = [name for name in ("mariadbd", "mariadb-install-db", "mariadb",
                                     "mariadb-dump", "mariadb-binlog") if _binary(name) is None]
        if missing:
            return ("MariaDB is not installed (missing " + ", ".join(missing) +
                    "): install the Debian package mariadb-server")
        return None

    @classmethod
    @functools.cache
    def versions(cls) -> list[str]:
        if cls.available() is not None:
            return []
        out = subprocess.run([_tool("mariadbd"), "--version"], capture_output=True, text=True,
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

    def _write_admin_cnf(self, password: str) -> None:
        self.admin_cnf.write_text(
            f"[client]\nuser={ADMIN_USER}\npassword={password}\nsocket={self.socket}\n")
        self.admin_cnf.chmod(0o600)

    def _admin_password(self) -> str:
        text = self.admin_cnf.read_text()
        return re.search(r"^password=(.*)$", text, re.M).group(1)

    # -- running the server --------------------------------------------------------------
    def initialize(self) -> None:
        try:
            self._initialize(admin_password=secrets.token_urlsafe(24))
            self.start()
            spec = self.spec
            user = _quote(spec.master_username)
            password = _quote(spec.master_password)
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
        if self.spec.data_dir.exists() and any(self.spec.data_dir.iterdir()):
            raise EngineError(f"{self.spec.data_dir} is not empty")
        for path in (self.datadir, self.rundir, self.binlog_dir):
            path.mkdir(parents=True, exist_ok=True)
        self._write_cnf()
        self._install_tls()
        self._write_admin_cnf(admin_password)
        init = subprocess.run(
            [_tool("mariadb-install-db"), f"--defaults-file={self.cnf}",
             "--auth-root-authentication-method=socket", "--skip-test-db"]
            + _user_flag(),
            capture_output=True, text=True, check=False)
        if init.returncode != 0:
            raise EngineError("mariadb-install-db failed: " + (init.stderr.strip()[-300:] or self._error_tail()))
        # rdsadmin is created through the bootstrap, before the server ever listens.
        boot = subprocess.run(
            [_tool("mariadbd"), f"--defaults-file={self.cnf}", "--bootstrap",
             "--skip-log-bin"] + _user_flag(),
            input="".join(f"{statement};\n" for statement in (
                "FLUSH PRIVILEGES",
                *(f"CREATE USER '{ADMIN_USER}'@'{host}' IDENTIFIED BY {_quote(admin_password)}"
                  for host in ("localhost", "127.0.0.1")),
                *(f"GRANT ALL PRIVILEGES ON *.* TO '{ADMIN_USER}'@'{host}' WITH GRANT OPTION"
                  for host in ("localhost", "127.0.0.1")))),
            capture_output=True, text=True, check=False)
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
                [_tool("mariadbd"), f"--defaults-file={self.cnf}"]
                + _user_flag(),
                stdout=log, stderr=log, stdin=subprocess.DEVNULL, start_new_session=True)
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

    def _ping(self) -> bool:
        result = subprocess.run(
            [_tool("mariadb-admin"), f"--defaults-extra-file={self.admin_cnf}",
             "--connect-timeout=2", "ping"], capture_output=True, text=True, check=False)
        return result.returncode == 0

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
            elif not _alive(pid):
                return
            time.sleep(0.05)
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)

    def running(self) -> bool:
        pid = self.pid
        return pid is not None and _alive(pid)

    @property
    def pid(self) -> int | None:
        try:
            pid = int(self.pidfile.read_text().strip())
        except (OSError, ValueError):
            return None
        return pid if _alive(pid) else None

    # -- SQL through the client ----------------------------------------------------------
    def sql(self, statement: str, *, database: str | None = None) -> list[list[str]]:
        """Run statements as rdsadmin over the socket; rows of tab-separated text."""
        result = subprocess.run(
            [_tool("mariadb"), f"--defaults-extra-file={self.admin_cnf}", "-N", "-B",
             "--raw"] + ([database] if database else []),
            input=statement, capture_output=True, text=True, check=False)
        if result.returncode != 0:
            raise EngineError(f"MariaDB refused: {result.stderr.strip()[-500:]}")
        return [line.split("\t") for line in result.stdout.splitlines() if line]

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
            literal = value if re.fullmatch(r"-?\d+(\.\d+)?", value) else _quote(value)
            self.sql(f"SET GLOBAL {key} = {literal}")
        self._write_cnf(self._role_settings())
        return pending

    def _role_settings(self) -> dict[str, str]:
        return {"read_only": "ON"} if (self.spec.data_dir / "replica.json").exists() else {}

    # -- backups and recovery ------------------------------------------------------------
    def base_backup(self, dest: Path) -> None:
        dest.mkdir(parents=True, exist_ok=True)
        dump = dest / "dump.sql"
        with open(dump, "wb") as out:
            result = subprocess.run(
                [_tool("mariadb-dump"), f"--defaults-extra-file={self.admin_cnf}",
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
                target_time: float | None = None) -> MariaDBServer:
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
                [_tool("mariadb"), f"--defaults-extra-file={self.admin_cnf}"],
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
            [_tool("mariadb-binlog"), f"--start-position={meta['binlog_pos']}",
             f"--stop-datetime={stop:%Y-%m-%d %H:%M:%S}"] + [str(archive / f) for f in files],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env={**os.environ, "TZ": "UTC"})
        result = subprocess.run(
            [_tool("mariadb"), f"--defaults-extra-file={self.admin_cnf}"],
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

    # -- replication ---------------------------------------------------------------------
    def create_replica(self, spec: ServerSpec, *, synchronous: bool = False) -> MariaDBServer:
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
                f"MASTER_PASSWORD={_quote(meta['admin_password'])}, "
                f"MASTER_LOG_FILE={_quote(meta['binlog_file'])}, "
                f"MASTER_LOG_POS={meta['binlog_pos']}; START SLAVE")
        except BaseException:
            replica._abandon()
            raise
        return replica

    def promote(self) -> None:
        self.sql("STOP SLAVE; RESET SLAVE ALL; SET GLOBAL read_only = OFF")
        (self.spec.data_dir / "replica.json").unlink(missing_ok=True)
        self.spec.parameters.pop("rpl_semi_sync_slave_enabled", None)
        self._write_cnf(self._role_settings())

    def replica_lag(self) -> float | None:
        if not (self.spec.data_dir / "replica.json").exists() or not self.running():
            return None
        rows = self.sql("SELECT VARIABLE_VALUE FROM information_schema.GLOBAL_STATUS "
                        "WHERE VARIABLE_NAME = 'SLAVE_RUNNING'")
        status = _slave_status(self)
        if status is None:
            return None
        behind = status.get("Seconds_Behind_Master")
        del rows
        return float(behind) if behind not in (None, "", "NULL") else None

    # -- what CloudWatch reports ---------------------------------------------------------
    def stats(self) -> dict:
        result = {"storage_bytes": _tree_size(self.spec.data_dir), "connections": 0,
                  "cpu_seconds": 0.0}
        pid = self.pid
        if pid is None:
            return result
        result["cpu_seconds"] = _cpu_seconds(pid)
        with contextlib.suppress(EngineError):
            rows = self.sql("SELECT VARIABLE_VALUE FROM information_schema.GLOBAL_STATUS "
                            "WHERE VARIABLE_NAME = 'THREADS_CONNECTED'")
            result["connections"] = int(rows[0][0]) if rows else 0
        return result


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return True
    return state != "Z"


def _cpu_seconds(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return 0.0


def _tree_size(path: Path) -> int:
    total = 0
    for root, _dirs, files in os.walk(path):
        for name in files:
            with contextlib.suppress(OSError):
                total += os.lstat(os.path.join(root, name)).st_size
    return total


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


def _slave_status(server: MariaDBServer) -> dict | None:
    result = subprocess.run(
        [_tool("mariadb"), f"--defaults-extra-file={server.admin_cnf}", "-E", "-e",
         "SHOW SLAVE STATUS"], capture_output=True, text=True, check=False)
    if result.returncode != 0 or not result.stdout.strip():
        return None
    status = {}
    for line in result.stdout.splitlines():
        key, sep, value = line.partition(":")
        if sep:
            status[key.strip()] = value.strip()
    return status


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
