"""PostgreSQL from the host's packages, as RDS's `postgres` engine.

One PostgresServer is one postmaster started with pg_ctl as an unprivileged OS user (see
postgres_host), configured through the files described in postgres_config. Cloudlet talks to
its own servers with psql over a private Unix socket (trust, reachable only by the server's
OS user and root); clients use TCP on 127.0.0.1 with SCRAM passwords and TLS.

WAL segments are 1 MB (initdb --wal-segsize=1) so that forcing a segment switch to make the
archive current costs little: latest_restorable_time() does exactly that on a running primary.
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
from cloudlet.engines.db.server import DatabaseServer, EngineError, ServerSpec

START_TIMEOUT = 60
LOG = "server.log"
LATEST_FILE = "latest-restorable-time"
SYNCHRONOUS_MARK = "cloudlet-synchronous-standby"
SEGMENT = re.compile(r"^[0-9A-F]{24}$")
NOT_REACHED = "recovery ended before configured recovery target was reached"
# The log of a start that may succeed if tried again a moment later (children of a killed
# postmaster still attached to its shared memory).
RETRYABLE = ("is still in use", "lock file", "already running")


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


class PostgresServer(DatabaseServer):
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

    # -- paths and commands -----------------------------------------------------------------

    @property
    def data_dir(self) -> Path:
        return self.spec.data_dir

    @property
    def socket_dir(self) -> Path:
        """Short (Unix socket paths are limited to ~107 bytes) and private to this data dir."""
        digest = hashlib.sha1(str(self.data_dir.resolve()).encode()).hexdigest()[:16]
        return Path(tempfile.gettempdir()) / f"cloudlet-pg-{digest}"

    def _run(self, args: list[str], *, as_server: bool = True, timeout: float = 120,
             check: bool = True, input: str | None = None) -> subprocess.CompletedProcess:
        user = host.server_user()
        try:
            result = subprocess.run(args, capture_output=True, text=True, timeout=timeout,
                                    input=input, cwd="/", env=host.server_env(user),
                                    **(user.popen_args() if as_server else {}))
        except subprocess.TimeoutExpired as e:
            raise EngineError(f"{Path(args[0]).name} timed out after {timeout:.0f} s") from e
        if check and result.returncode != 0:
            message = (result.stderr or result.stdout).strip().splitlines()
            raise EngineError(f"{Path(args[0]).name} failed: " + " / ".join(message[-5:]))
        return result

    def _connection(self, database: str = "postgres") -> list[str]:
        return ["-h", str(self.socket_dir), "-p", str(self.spec.port),
                "-U", self.spec.master_username, "-d", database]

    def _conninfo(self, **extra: str) -> str:
        """A libpq connection string to this server's private socket."""
        fields = {"host": str(self.socket_dir), "port": str(self.spec.port),
                  "user": self.spec.master_username} | extra
        return " ".join(f"{k}=" + _literal(v.replace("\\", "\\\\")) for k, v in fields.items())

    def sql(self, query: str, *, database: str = "postgres", timeout: float = 60
            ) -> list[list[str]]:
        """Run SQL as the master user over the private socket; rows of text fields."""
        result = self._run([host.tool("psql"), "-X", "-q", "-A", "-t", "-F", "\x1f",
                            "-v", "ON_ERROR_STOP=1", *self._connection(database), "-c", query],
                           as_server=False, timeout=timeout)
        return [line.split("\x1f") for line in result.stdout.splitlines() if line]

    def _log_tail(self, lines: int = 8) -> str:
        try:
            text = (self.data_dir / LOG).read_text(errors="replace")
        except OSError:
            return ""
        return " / ".join(text.strip().splitlines()[-lines:])

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
            host.give(self.data_dir / "server.crt", user, 0o644)
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

    # -- lifecycle --------------------------------------------------------------------------

    def initialize(self, *, sync: bool = True) -> None:
        """initdb (the master user is the bootstrap superuser, SCRAM password), then DBName
        in single-user mode, both without their own fsyncs (a second or two per fsync'd file
        tree on a busy disk); one syncfs at the end makes it all durable at once. On failure
        nothing is left behind."""
        d = self.data_dir
        if d.exists() and any(d.iterdir()):
            raise EngineError(f"data directory {d} is not empty")
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
                self._single_user(f"CREATE DATABASE {_ident(self.spec.db_name)}")
            if sync:
                host.syncfs(d)
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
        try:
            with (self.data_dir / LOG).open("rb") as f:
                f.seek(offset)
                text = f.read().decode(errors="replace")
        except OSError:
            return set()
        named = set(re.findall(r'parameter "([^"]+)"', text))
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
            f"{_literal('%' + conf.PARAMETERS_FILE)}")
        if errors:
            self.rejected |= {row[0] for row in errors}
            self._write(conf.PARAMETERS_FILE, conf.parameters_conf(merged, self.rejected))
        self.sql("SELECT pg_reload_conf()")
        names = [n for n in parameters if not n.startswith("rds.") and n not in self.rejected]
        pending: set[str] = set()
        if names:
            time.sleep(0.1)     # the reload is asynchronous
            rows = self.sql("SELECT name FROM pg_settings WHERE pending_restart AND name IN ("
                            + ",".join(_literal(n.lower()) for n in names) + ")")
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
                        + ",".join(_literal(n.lower()) for n in values) + ")")
        known = {row[0]: row[1:] for row in rows}
        return {n for n, v in values.items()
                if (n.lower() not in known and "." not in n)
                or (n.lower() in known and not conf.valid_value(str(v), *known[n.lower()]))}

    def set_master_password(self, password: str) -> None:
        """ModifyDBInstance's MasterUserPassword (not part of the engine interface)."""
        self.sql(f"ALTER ROLE {_ident(self.spec.master_username)} PASSWORD {_literal(password)}")
        self.spec.master_password = password

    # -- backups ----------------------------------------------------------------------------

    def base_backup(self, dest: Path) -> None:
        if not self.running():
            raise EngineError("the server is not running")
        if dest.exists() and any(dest.iterdir()):
            raise EngineError(f"backup destination {dest} is not empty")
        try:
            self._run([host.tool("pg_basebackup"), "-d", self._conninfo(), "-D", str(dest),
                       "-X", "stream", "-c", "fast", "--no-sync"], as_server=False, timeout=3600)
            host.syncfs(dest)
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
                target_time: float | None = None) -> PostgresServer:
        """Copies the base backup into spec.data_dir; with an archive, starts it to replay
        the archive (to exactly target_time when given, else to its end), waits for the
        promotion and stops it again. Returned stopped, like MariaDB's; a backup without an
        archive replays the WAL it holds at its first start."""
        if target_time is not None and archive is None:
            raise EngineError("a point-in-time restore needs the WAL archive")
        d = spec.data_dir
        if d.exists() and any(d.iterdir()):
            raise EngineError(f"data directory {d} is not empty")
        server = cls(spec)
        try:
            shutil.copytree(backup, d, symlinks=True, dirs_exist_ok=True)
            server._forget_origin()
            host.syncfs(d)
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

    def _log_size(self) -> int:
        try:
            return (self.data_dir / LOG).stat().st_size
        except OSError:
            return 0

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
        with (self.data_dir / LOG).open("rb") as f:
            f.seek(offset)
            return NOT_REACHED.encode() in f.read()

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

    # -- replication ------------------------------------------------------------------------

    @staticmethod
    def _standby_name(spec: ServerSpec) -> str:
        return "cloudlet_" + hashlib.sha1(str(spec.data_dir.resolve()).encode()).hexdigest()[:12]

    def create_replica(self, spec: ServerSpec, *, synchronous: bool = False) -> PostgresServer:
        """pg_basebackup -R through a physical replication slot named after the replica,
        then start it as a hot standby. A synchronous one (a Multi-AZ standby) joins the
        primary's synchronous_standby_names (ANY 1 of them; synchronous_commit is on unless
        the parameter group says otherwise); standbys no longer connected leave it first,
        so that a dead standby stops holding commits."""
        if not self.running():
            raise EngineError("the primary is not running")
        d = spec.data_dir
        if d.exists() and any(d.iterdir()):
            raise EngineError(f"data directory {d} is not empty")
        name = self._standby_name(spec)
        replica = type(self)(spec)
        if synchronous:
            connected = {row[0] for row in self.sql("SELECT application_name FROM "
                                                    "pg_stat_replication")}
            self._set_standbys(None, [n for n in self._standbys(None) or [] if n in connected])
        self.sql(f"SELECT pg_create_physical_replication_slot({_literal(name)}) WHERE NOT EXISTS "
                 f"(SELECT 1 FROM pg_replication_slots WHERE slot_name = {_literal(name)})")
        try:
            self._run([host.tool("pg_basebackup"), "-d", self._conninfo(application_name=name),
                       "-D", str(d), "-X", "stream", "-S", name, "-R", "-c", "fast",
                       "--no-sync"], as_server=False, timeout=3600)
            host.syncfs(d)
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
                  f"{_literal(conf.synchronous_standby_names(names))}" if names
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
                       f"{_literal(name)} AND sync_state IN ('sync', 'quorum')")[0][0] == "0":
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
                     f"WHERE slot_name = {_literal(name)} AND NOT active")

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
                 f"WHERE slot_name = {_literal(name)} AND NOT active")
        deadline = time.monotonic() + 3
        while time.monotonic() < deadline:
            self._psql_remote(conninfo, query)
            left = self._psql_remote(conninfo, "SELECT count(*) FROM pg_replication_slots "
                                               f"WHERE slot_name = {_literal(name)}")
            if left in (None, "0"):
                return      # dropped, or the primary is gone
            time.sleep(0.2)

    def _psql_remote(self, conninfo: str, *queries: str) -> str | None:
        """Run queries (each on its own) on another server; the output, None if it failed."""
        commands = [arg for query in queries for arg in ("-c", query)]
        result = self._run([host.tool("psql"), "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1",
                            "-d", conninfo + " dbname=postgres connect_timeout=2", *commands],
                           as_server=False, check=False, timeout=10)
        return result.stdout.strip() if result.returncode == 0 else None

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

    # -- metrics ----------------------------------------------------------------------------

    def stats(self) -> dict:
        """connections (client backends), cpu_seconds (cumulative, all server processes),
        storage_bytes (the data directory), read_bytes/write_bytes (cumulative storage I/O
        of the live processes) and read_iops/write_iops: 8 kB pages per second actually read
        from or written to storage since the previous call (an approximation of IOPS)."""
        storage = host.tree_size(self.data_dir) if self.data_dir.exists() else 0
        pid = self.pid
        if pid is None:
            return {"connections": 0, "cpu_seconds": 0.0, "storage_bytes": storage,
                    "read_bytes": 0, "write_bytes": 0, "read_iops": 0.0, "write_iops": 0.0}
        try:
            connections = int(self.sql("SELECT count(*) FROM pg_stat_activity WHERE "
                                       "backend_type = 'client backend'")[0][0]) - 1  # ours
        except EngineError:
            connections = 0
        read, written = host.io_bytes(pid)
        now = time.monotonic()
        iops = {"read_iops": 0.0, "write_iops": 0.0}
        if self._io_sample is not None and now > self._io_sample[0]:
            then, before_read, before_written = self._io_sample
            iops = {"read_iops": max(0, read - before_read) / 8192 / (now - then),
                    "write_iops": max(0, written - before_written) / 8192 / (now - then)}
        self._io_sample = (now, read, written)
        return {"connections": max(connections, 0), "cpu_seconds": host.cpu_seconds(pid),
                "storage_bytes": storage, "read_bytes": read, "write_bytes": written, **iops}
