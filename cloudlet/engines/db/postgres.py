"""PostgreSQL from the host's packages, as RDS's `postgres` engine.

One PostgresServer is one postmaster started with pg_ctl as an unprivileged OS user (see
postgres_host), configured through the files described in postgres_config. Cloudlet talks to
its own servers with psql over a private Unix socket (postgres_client); clients use TCP on
127.0.0.1 with SCRAM passwords and TLS. The class is composed of what it does:

    postgres.py               the server itself: initdb, the files of a start, start and
                              stop, parameters, metrics
    postgres_client.py        commands as the server user, psql, quoting
    postgres_backup.py        base backups, the WAL archive, restore and point-in-time recovery
    postgres_replication.py   streaming replicas, synchronous standbys, promotion
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import os
import re
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from cloudlet.engines.db import postgres_config as conf
from cloudlet.engines.db import postgres_host as host
from cloudlet.engines.db import system
from cloudlet.engines.db.postgres_backup import PostgresBackups
from cloudlet.engines.db.postgres_client import PostgresClient, ident, literal
from cloudlet.engines.db.postgres_replication import SYNCHRONOUS_MARK, PostgresReplication
from cloudlet.engines.db.server import DatabaseServer, EngineError, ServerSpec

START_TIMEOUT = 60
LOG = "server.log"
# The log of a start that may succeed if tried again a moment later (children of a killed
# postmaster still attached to its shared memory).
RETRYABLE = ("is still in use", "lock file", "already running")


class PostgresServer(PostgresClient, PostgresBackups, PostgresReplication, DatabaseServer):
    engine = "postgres"

    def __init__(self, spec: ServerSpec):
        super().__init__(spec)
        self.local_only = False          # no TCP listener (the parameter-listing server)
        self.recovery: dict[str, str] | None = None
        self.rejected: set[str] = set()  # parameter group entries the server refused
        self._io_sample: tuple[float, int, int] | None = None

    # -- the host ---------------------------------------------------------------------------

    @classmethod
    def available(cls) -> str | None:
        if host.bindir() is None:
            return ("PostgreSQL is not installed (missing: " + ", ".join(host.missing_tools())
                    + "); install the postgresql package, e.g. apt-get install postgresql")
        return host.user_problem()

    @classmethod
    @functools.cache
    def versions(cls) -> list[str]:
        out = subprocess.run([host.tool("postgres"), "--version"], capture_output=True,
                             text=True, timeout=30).stdout
        match = re.search(r"\(PostgreSQL\)\s+(\d+(?:\.\d+)*)", out)
        return [match.group(1)] if match else []

    @classmethod
    @functools.cache
    def _parameter_rows(cls) -> tuple[dict, ...]:
        """pg_settings of a throwaway server (a second or two, once per process)."""
        with tempfile.TemporaryDirectory(prefix="cloudlet-pg-params-") as tmp:
            user = host.server_user()
            host.give(Path(tmp), user, 0o700)
            spec = ServerSpec(data_dir=Path(tmp) / "data", port=5432, master_username="rdsadmin",
                              master_password=os.urandom(16).hex(), memory_mb=64)
            server = cls(spec)
            server.local_only = True
            server.initialize(sync=False)
            server.start()
            try:
                rows = server.sql(
                    "SELECT name, boot_val, unit, vartype, context, short_desc, min_val, "
                    "max_val, array_to_string(enumvals, ',') FROM pg_settings ORDER BY name")
            finally:
                server.stop()
        result = [conf.parameter_row(n, s, u or None, v, c, d, lo or None, hi or None,
                                     e.split(",") if e else None)
                  for n, s, u, v, c, d, lo, hi, e in rows]
        return tuple(sorted(result + conf.RDS_ONLY, key=lambda row: row["ParameterName"]))

    @classmethod
    def parameters(cls) -> list[dict]:
        """DescribeDBParameters rows (ParameterName, ParameterValue = the engine default,
        Description, Source, ApplyType, DataType, AllowedValues, IsModifiable, ApplyMethod)
        from the real server's pg_settings, plus rds.force_ssl."""
        return [dict(row) for row in cls._parameter_rows()]

    # -- paths and the log -----------------------------------------------------------------

    @property
    def data_dir(self) -> Path:
        return self.spec.data_dir

    @property
    def socket_dir(self) -> Path:
        """Short (Unix socket paths are limited to ~107 bytes) and private to this data dir."""
        digest = hashlib.sha1(str(self.data_dir.resolve()).encode()).hexdigest()[:16]
        return Path(tempfile.gettempdir()) / f"cloudlet-pg-{digest}"

    def _log_tail(self, lines: int = 8) -> str:
        try:
            text = (self.data_dir / LOG).read_text(errors="replace")
        except OSError:
            return ""
        return " / ".join(text.strip().splitlines()[-lines:])

    def _log_size(self) -> int:
        try:
            return (self.data_dir / LOG).stat().st_size
        except OSError:
            return 0

    def _log_since(self, offset: int) -> str:
        """What the server logged after the first offset bytes."""
        try:
            with (self.data_dir / LOG).open("rb") as f:
                f.seek(offset)
                return f.read().decode(errors="replace")
        except OSError:
            return ""

    # -- files ------------------------------------------------------------------------------

    def _write(self, name: str, text: str, mode: int = 0o600) -> None:
        path = self.data_dir / name
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(text)
        host.give(tmp, host.server_user(), mode)
        os.replace(tmp, path)

    def _ssl(self) -> bool:
        return self.spec.tls_cert is not None and self.spec.tls_key is not None

    def _prepare(self) -> None:
        """Everything a start needs: ownership, socket dir, certificates and config files."""
        user = host.server_user()
        host.make_traversable(self.data_dir, user)
        self.socket_dir.mkdir(mode=0o700, exist_ok=True)
        host.give(self.socket_dir, user, 0o700)
        if self._ssl():
            shutil.copyfile(self.spec.tls_cert, self.data_dir / "server.crt")
            host.give(self.data_dir / "server.crt", user, 0o600)
            shutil.copyfile(self.spec.tls_key, self.data_dir / "server.key")
            host.give(self.data_dir / "server.key", user, 0o600)
        if self.spec.archive_dir:
            self.spec.archive_dir.mkdir(parents=True, exist_ok=True)
            host.give(self.spec.archive_dir, user, 0o700)
            host.make_traversable(self.spec.archive_dir, user)
        main = self.data_dir / "postgresql.conf"
        if f"include = '{conf.MAIN_FILE}'" not in main.read_text():
            with main.open("a") as f:
                f.write(f"\ninclude = '{conf.MAIN_FILE}'\n")
        self._write(conf.MAIN_FILE, conf.main_conf(
            self.spec, self.socket_dir, ssl=self._ssl(), local_only=self.local_only,
            recovery=self.recovery))
        self._write(conf.PARAMETERS_FILE, conf.parameters_conf(self.spec.parameters,
                                                               self.rejected))
        self._write("pg_hba.conf", conf.hba_conf(
            ssl_only=self._ssl() and conf.force_ssl(self.spec.parameters)))

    def _forget_origin(self) -> None:
        """What a copied data directory must not inherit from its source."""
        for name in (LOG, "postmaster.pid", "postmaster.opts", "standby.signal",
                     "recovery.signal", SYNCHRONOUS_MARK, "backup_manifest"):
            (self.data_dir / name).unlink(missing_ok=True)
        auto = self.data_dir / "postgresql.auto.conf"
        if auto.exists():   # the source's standbys are not ours
            lines = auto.read_text().splitlines(keepends=True)
            auto.write_text("".join(line for line in lines
                                    if not line.startswith("synchronous_standby_names")))

    # -- lifecycle --------------------------------------------------------------------------

    def initialize(self, *, sync: bool = True) -> None:
        """initdb (the master user is the bootstrap superuser, SCRAM password), then DBName
        in single-user mode, both without their own fsyncs (a second or two per fsync'd file
        tree on a busy disk); one syncfs at the end makes it all durable at once. On failure
        nothing is left behind."""
        d = self.data_dir
        system.require_empty(d)
        created = not d.exists()
        user = host.server_user()
        try:
            d.mkdir(parents=True, exist_ok=True)
            host.give(d, user, 0o700)
            host.make_traversable(d, user)
            with tempfile.NamedTemporaryFile("w", prefix="cloudlet-pg-pw-") as pw:
                pw.write(self.spec.master_password + "\n")
                pw.flush()
                host.give(Path(pw.name), user, 0o600)
                self._run([host.tool("initdb"), "-D", str(d), "-U", self.spec.master_username,
                           f"--pwfile={pw.name}", "--auth-local=trust",
                           "--auth-host=scram-sha-256", "--encoding=UTF8",
                           "--locale=C.UTF-8", "--wal-segsize=1", "--no-sync"])
            if self.spec.db_name and self.spec.db_name != "postgres":
                self._single_user(f"CREATE DATABASE {ident(self.spec.db_name)}")
            if sync:
                system.syncfs(d)
        except BaseException:
            if created:
                shutil.rmtree(d, ignore_errors=True)
            else:
                for child in d.iterdir():
                    shutil.rmtree(child) if child.is_dir() else child.unlink()
            raise

    def _single_user(self, statement: str) -> None:
        result = self._run([host.tool("postgres"), "--single", "-D", str(self.data_dir),
                            "-c", "log_min_messages=warning", "-c", "fsync=off", "template1"],
                           input=statement + "\n")
        if "ERROR:" in result.stderr or "ERROR:" in result.stdout:
            raise EngineError("postgres --single: " + (result.stderr + result.stdout).strip())

    def start(self) -> None:
        if self.running():
            return
        self._prepare()
        offset = self._log_size()
        deadline = time.monotonic() + 20
        while True:
            result = self._run([host.tool("pg_ctl"), "start", "-w", "-t", str(START_TIMEOUT),
                                "-D", str(self.data_dir), "-l", str(self.data_dir / LOG)],
                               check=False, timeout=START_TIMEOUT + 10)
            if result.returncode == 0:
                if (self.data_dir / SYNCHRONOUS_MARK).exists():
                    self._join_primary()
                return
            log = self._log_tail()
            if time.monotonic() < deadline and any(r in log for r in RETRYABLE):
                time.sleep(0.5)
                continue
            refused = self._refused_parameters(offset) - self.rejected
            if refused:
                # A parameter group the server will not take: start without those entries.
                self.rejected |= refused
                self._write(conf.PARAMETERS_FILE, conf.parameters_conf(self.spec.parameters,
                                                                       self.rejected))
                continue
            raise EngineError("PostgreSQL did not start: " + (log or result.stderr.strip()))

    def _refused_parameters(self, offset: int) -> set[str]:
        """Parameter group entries the log since offset complains about."""
        named = set(re.findall(r'parameter "([^"]+)"', self._log_since(offset)))
        return {n for n in self.spec.parameters if n.lower() in {m.lower() for m in named}}

    def stop(self) -> None:
        if (self.data_dir / SYNCHRONOUS_MARK).exists():
            self._leave_primary()
        if not self.running():
            return
        if self.spec.archive_dir:
            try:
                self._archive_now(timeout=5)
            except EngineError:
                pass
        result = self._run([host.tool("pg_ctl"), "stop", "-D", str(self.data_dir), "-m", "fast",
                            "-w", "-t", "60"], check=False, timeout=70)
        if result.returncode != 0 and self.running():
            self._run([host.tool("pg_ctl"), "stop", "-D", str(self.data_dir), "-m",
                       "immediate", "-w", "-t", "30"], check=False, timeout=40)
        if not self.running():
            with contextlib.suppress(OSError):
                self.socket_dir.rmdir()     # empty once the server is down

    @property
    def pid(self) -> int | None:
        """The postmaster's pid, from postmaster.pid, if that process is alive."""
        try:
            first = (self.data_dir / "postmaster.pid").read_text().split("\n", 1)[0]
            pid = int(first)
        except (OSError, ValueError):
            return None
        return pid if host.is_postgres(pid, self.data_dir) else None

    def running(self) -> bool:
        return self.pid is not None

    # -- parameters -------------------------------------------------------------------------

    def apply_parameters(self, parameters: dict[str, str]) -> set[str]:
        """Merge into the parameter group (a None value resets a parameter), rewrite its file
        (and the rest of the configuration, from the spec) and reload. Returns the
        parameters whose new value waits for a restart (pg_settings' pending_restart).
        Unknown names and invalid values are left out of the server's files (so a bad group
        never keeps it from starting) and reported with an EngineError after the valid ones
        are applied. A stopped server just keeps them for its next start."""
        merged = dict(self.spec.parameters)
        for name, value in parameters.items():
            if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_.]*", name):
                raise EngineError(f"invalid parameter name {name!r}")
            if value is None:
                merged.pop(name, None)
            else:
                merged[name] = str(value)
        self.spec.parameters = merged
        if not self.running():
            return set()
        self.rejected = self._invalid({n: v for n, v in merged.items() if not n.startswith("rds.")})
        self._prepare()     # also takes the spec's other reloadable changes (the archive)
        # The server's own check of the file (a postmaster parameter's new value always
        # "could not be applied" until the restart).
        errors = self.sql(
            "SELECT f.name FROM pg_file_settings f JOIN pg_settings s USING (name) WHERE "
            "f.error IS NOT NULL AND s.context <> 'postmaster' AND f.sourcefile LIKE "
            f"{literal('%' + conf.PARAMETERS_FILE)}")
        if errors:
            self.rejected |= {row[0] for row in errors}
            self._write(conf.PARAMETERS_FILE, conf.parameters_conf(merged, self.rejected))
        self.sql("SELECT pg_reload_conf()")
        names = [n for n in parameters if not n.startswith("rds.") and n not in self.rejected]
        pending: set[str] = set()
        if names:
            time.sleep(0.1)     # the reload is asynchronous
            rows = self.sql("SELECT name FROM pg_settings WHERE pending_restart AND name IN ("
                            + ",".join(literal(n.lower()) for n in names) + ")")
            pending = {n for n in names if n.lower() in {row[0] for row in rows}}
        bad = sorted(self.rejected & set(parameters))
        if bad:
            raise EngineError("invalid parameters, not applied: " + ", ".join(bad))
        return pending

    def _invalid(self, values: dict[str, str]) -> set[str]:
        """Unknown names and values of the wrong type or out of range (an invalid static
        value would keep the server from starting again)."""
        if not values:
            return set()
        rows = self.sql("SELECT name, vartype, min_val, max_val, unit, "
                        "array_to_string(enumvals, ',') FROM pg_settings WHERE name IN ("
                        + ",".join(literal(n.lower()) for n in values) + ")")
        known = {row[0]: row[1:] for row in rows}
        return {n for n, v in values.items()
                if (n.lower() not in known and "." not in n)
                or (n.lower() in known and not conf.valid_value(str(v), *known[n.lower()]))}

    def set_master_password(self, password: str) -> None:
        """ModifyDBInstance's MasterUserPassword (not part of the engine interface)."""
        self.sql(f"ALTER ROLE {ident(self.spec.master_username)} PASSWORD {literal(password)}")
        self.spec.master_password = password

    # -- metrics ----------------------------------------------------------------------------

    def stats(self) -> dict:
        """connections (client backends), cpu_seconds (cumulative, all server processes),
        storage_bytes (the data directory), read_bytes/write_bytes (cumulative storage I/O
        of the live processes) and read_iops/write_iops: 8 kB pages per second actually read
        from or written to storage since the previous call (an approximation of IOPS)."""
        storage = system.tree_size(self.data_dir) if self.data_dir.exists() else 0
        pid = self.pid
        if pid is None:
            return {"connections": 0, "cpu_seconds": 0.0, "storage_bytes": storage,
                    "read_bytes": 0, "write_bytes": 0, "read_iops": 0.0, "write_iops": 0.0}
        try:
            connections = int(self.sql("SELECT count(*) FROM pg_stat_activity WHERE "
                                       "backend_type = 'client backend'")[0][0]) - 1  # ours
        except EngineError:
            connections = 0
        read, written = system.io_bytes(pid)
        now = time.monotonic()
        iops = {"read_iops": 0.0, "write_iops": 0.0}
        if self._io_sample is not None and now > self._io_sample[0]:
            then, before_read, before_written = self._io_sample
            iops = {"read_iops": max(0, read - before_read) / 8192 / (now - then),
                    "write_iops": max(0, written - before_written) / 8192 / (now - then)}
        self._io_sample = (now, read, written)
        return {"connections": max(connections, 0), "cpu_seconds": system.cpu_seconds(pid),
                "storage_bytes": storage, "read_bytes": read, "write_bytes": written, **iops}
