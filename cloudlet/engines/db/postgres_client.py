"""How Cloudlet talks to its PostgreSQL servers: commands run as the server's OS user
(initdb, pg_ctl, ...), psql as the master user over the server's private Unix socket (trust,
reachable only by that OS user and root), psql to another server by its connection string,
and the quoting their SQL needs."""

from __future__ import annotations

import subprocess
from pathlib import Path

from cloudlet.engines.db import postgres_host as host
from cloudlet.engines.db.server import EngineError, ServerSpec


def ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


class PostgresClient:
    """A mixin of PostgresServer, whose socket_dir it connects to."""

    spec: ServerSpec
    socket_dir: Path

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
        return " ".join(f"{k}=" + literal(v.replace("\\", "\\\\")) for k, v in fields.items())

    def sql(self, query: str, *, database: str = "postgres", timeout: float = 60
            ) -> list[list[str]]:
        """Run SQL as the master user over the private socket; rows of text fields."""
        result = self._run([host.tool("psql"), "-X", "-q", "-A", "-t", "-F", "\x1f",
                            "-v", "ON_ERROR_STOP=1", *self._connection(database), "-c", query],
                           as_server=False, timeout=timeout)
        return [line.split("\x1f") for line in result.stdout.splitlines() if line]

    def _psql_remote(self, conninfo: str, *queries: str) -> str | None:
        """Run queries (each on its own) on another server; the output, None if it failed."""
        commands = [arg for query in queries for arg in ("-c", query)]
        result = self._run([host.tool("psql"), "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1",
                            "-d", conninfo + " dbname=postgres connect_timeout=2", *commands],
                           as_server=False, check=False, timeout=10)
        return result.stdout.strip() if result.returncode == 0 else None
