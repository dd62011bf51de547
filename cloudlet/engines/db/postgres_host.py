"""The host side of the PostgreSQL engine: where the binaries are, which OS user runs the
server (PostgreSQL refuses to run as root), files handed over to that user, and whether a
pid is one of PostgreSQL's. What both engines ask of /proc is in system.py."""

from __future__ import annotations

import functools
import glob
import os
import pwd
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from cloudlet.engines.db import access, system
from cloudlet.engines.db.server import EngineError

TOOLS = ("initdb", "pg_ctl", "postgres", "psql", "pg_basebackup")
DEDICATED_USER = "cloudlet-pg"


def _major(path: str) -> tuple[int, ...]:
    return tuple(int(n) for n in re.findall(r"\d+", path)) or (0,)


def _candidate_bindirs() -> list[Path]:
    candidates: list[Path] = []
    pg_config = shutil.which("pg_config")
    if pg_config:
        try:
            out = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True,
                                 timeout=10).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            out = ""
        if out:
            candidates.append(Path(out))
    for pattern in ("/usr/lib/postgresql/*/bin", "/usr/pgsql-*/bin", "/usr/local/pgsql/bin"):
        candidates += [Path(p) for p in sorted(glob.glob(pattern), key=_major, reverse=True)]
    found = shutil.which("postgres")
    if found:
        candidates.append(Path(os.path.realpath(found)).parent)
    return candidates


def _has(directory: Path, tool: str) -> bool:
    return system.executable(directory / tool)


@functools.cache
def bindir() -> Path | None:
    """The first directory holding all of TOOLS: pg_config's, the distribution's, PATH's."""
    for directory in _candidate_bindirs():
        if all(_has(directory, tool) for tool in TOOLS):
            return directory
    return None


def missing_tools() -> list[str]:
    """The TOOLS no candidate directory has (for a helpful message)."""
    dirs = _candidate_bindirs()
    return [tool for tool in TOOLS if not any(_has(d, tool) for d in dirs)]


def tool(name: str) -> str:
    directory = bindir()
    if directory is None:
        raise EngineError(f"PostgreSQL is not installed: {', '.join(missing_tools()) or name} missing")
    return str(directory / name)


@dataclass(frozen=True)
class OSUser:
    name: str
    uid: int
    gid: int
    home: str

    def popen_args(self) -> dict:
        """subprocess arguments that run a command as this user (only root can switch)."""
        if os.geteuid() != 0 or self.uid == 0:
            return {}
        return {"user": self.uid, "group": self.gid, "extra_groups": []}


def _user(entry: pwd.struct_passwd) -> OSUser:
    return OSUser(entry.pw_name, entry.pw_uid, entry.pw_gid, entry.pw_dir or "/")


@functools.cache
def server_user() -> OSUser:
    """Who runs the server: ourselves when not root; as root, the `postgres` system user, or
    a dedicated system user created once when that does not exist."""
    if os.geteuid() != 0:
        return _user(pwd.getpwuid(os.geteuid()))
    for name in ("postgres", DEDICATED_USER):
        try:
            return _user(pwd.getpwnam(name))
        except KeyError:
            pass
    useradd = shutil.which("useradd")
    if useradd is None:
        raise EngineError("no `postgres` OS user and no useradd to create one: create an "
                          "unprivileged user named postgres")
    result = subprocess.run([useradd, "--system", "--user-group", "--no-create-home",
                             "--home-dir", "/nonexistent", "--shell", "/usr/sbin/nologin",
                             DEDICATED_USER], capture_output=True, text=True)
    if result.returncode != 0:
        raise EngineError(f"could not create the OS user {DEDICATED_USER}: {result.stderr.strip()}")
    return _user(pwd.getpwnam(DEDICATED_USER))


def user_problem() -> str | None:
    """Why no server user can be had, without creating one."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", DEDICATED_USER):
        try:
            pwd.getpwnam(name)
            return None
        except KeyError:
            pass
    if shutil.which("useradd") is None:
        return "no `postgres` OS user and no useradd to create one"
    return None


def server_env(user: OSUser) -> dict[str, str]:
    """Our environment minus libpq's PG* variables, with the server user's HOME and a
    UTF-8 C locale."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    env.update(HOME=user.home if os.geteuid() == 0 else env.get("HOME", user.home),
               LC_ALL="C.UTF-8", LANG="C.UTF-8", TZ="UTC")
    return env


def give(path: Path, user: OSUser, mode: int | None = None) -> None:
    """Hand a file or a whole tree to the server user."""
    if os.geteuid() != 0:
        if mode is not None:
            os.chmod(path, mode)
        return
    if path.is_dir() and not path.is_symlink():
        for root, dirs, files in os.walk(path):
            for name in dirs + files:
                os.lchown(os.path.join(root, name), user.uid, user.gid)
    os.lchown(path, user.uid, user.gid)
    if mode is not None:
        os.chmod(path, mode)


def make_traversable(path: Path, user: OSUser) -> None:
    """Let the server user reach `path`: every ancestor it cannot search gets an ACL entry
    giving that user alone search (x: it can pass through, not list); see access.py. The
    data directory stays 0700 to everyone else, and so does a home directory above it."""
    if os.geteuid() != 0:
        return
    groups = {user.gid} | set(os.getgrouplist(user.name, user.gid))
    for ancestor in list(path.resolve().parents):
        if not access.can_search(ancestor, user.uid, groups):
            access.grant_search(ancestor, user.uid)


def is_postgres(pid: int, data_dir: Path | None = None) -> bool:
    """Whether pid is a live PostgreSQL process (working in data_dir, when given: a stale
    postmaster.pid may name a pid reused by another server)."""
    state = system.process_state(pid)
    if state is None or state[1] in ("Z", "X") or not state[0].startswith(
            ("postgres", "postmaster")):
        return False
    if data_dir is None:
        return True
    try:
        return os.readlink(f"/proc/{pid}/cwd") == str(data_dir.resolve())
    except OSError:
        return True     # not ours to inspect
