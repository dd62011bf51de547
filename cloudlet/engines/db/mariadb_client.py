"""How Cloudlet talks to its MariaDB servers: where the client tools are, the credentials
of `rdsadmin` (Cloudlet's own superuser, in admin.cnf, 0600) and the statements run with
them over the server's socket, and the quoting they need."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

from cloudlet.engines.db import system
from cloudlet.engines.db.server import EngineError, ServerSpec

ADMIN_USER = "rdsadmin"
_SEARCH = ("/usr/sbin", "/usr/bin", "/usr/local/sbin", "/usr/local/bin", "/usr/libexec")


def binary(name: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    for directory in _SEARCH:
        if system.executable(Path(directory) / name):
            return str(Path(directory) / name)
    return None


def tool(name: str) -> str:
    path = binary(name)
    if path is None:
        raise EngineError(f"MariaDB's {name} is not installed (Debian package mariadb-server)")
    return path


def quote(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


class MariaDBClient:
    """A mixin of MariaDBServer, whose socket and admin_cnf it uses."""

    spec: ServerSpec
    socket: Path
    admin_cnf: Path

    def _write_admin_cnf(self, password: str) -> None:
        self.admin_cnf.write_text(
            f"[client]\nuser={ADMIN_USER}\npassword={password}\nsocket={self.socket}\n")
        self.admin_cnf.chmod(0o600)

    def _admin_password(self) -> str:
        text = self.admin_cnf.read_text()
        return re.search(r"^password=(.*)$", text, re.M).group(1)

    def sql(self, statement: str, *, database: str | None = None) -> list[list[str]]:
        """Run statements as rdsadmin over the socket; rows of tab-separated text."""
        result = subprocess.run(
            [tool("mariadb"), f"--defaults-extra-file={self.admin_cnf}", "-N", "-B",
             "--raw"] + ([database] if database else []),
            input=statement, capture_output=True, text=True, check=False)
        if result.returncode != 0:
            raise EngineError(f"MariaDB refused: {result.stderr.strip()[-500:]}")
        return [line.split("\t") for line in result.stdout.splitlines() if line]

    def _ping(self) -> bool:
        result = subprocess.run(
            [tool("mariadb-admin"), f"--defaults-extra-file={self.admin_cnf}",
             "--connect-timeout=2", "ping"], capture_output=True, text=True, check=False)
        return result.returncode == 0
