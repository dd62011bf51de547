"""What this host lets an execution environment be, detected once:

- mount namespaces (root and util-linux `unshare`): each environment gets a private mount
  table with its own tmpfs /tmp (size = EphemeralStorage), the code bound read-only at
  /var/task, Cloudlet's runtime files at /var/runtime, the layers at /opt (one layer bound,
  several merged with a read-only overlayfs, none: an empty /opt), and the hidden paths
  (Cloudlet's data directory) covered by an empty tmpfs. Without them: the code runs where it
  lies and TMPDIR points at a per-environment directory whose size is not enforced.
- cgroups: v2 (memory.max, cpu.max, pids.max) or v1 (memory.limit_in_bytes, cpu.cfs_quota_us,
  pids.max in the pids hierarchy) under Cloudlet's own cgroup, in `cloudlet-lambda-<pid>`;
  without them, RLIMIT_DATA, and RLIMIT_NPROC for the process limit (AWS's 1,024 processes
  and threads). `Cgroups.reap()` removes what dead Cloudlet processes left, killing what is
  still in it.
- PID namespaces (with mount namespaces): the environment's first process is the namespace's
  init (runtime/zygote.py); when it ends, the kernel kills everything else in there.
- users: as root, code runs as an unprivileged uid derived from the function's ARN (no entry
  in /etc/passwd needed), so functions cannot read each other's processes (/proc/<pid>/root,
  environ) nor any root-only file.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

from cloudlet.engines.sandbox.cgroups import own_cgroup as _own_cgroup

CPU_PERIOD_US = 20_000
PROCESS_LIMIT = 1024  # AWS's quota of processes and threads per execution environment
PREFIX = "cloudlet-lambda-"
MB_PER_VCPU = 1769
UID_BASE = 1 << 20


def mount_namespaces() -> bool:
    """Whether environments get private mount namespaces (CLOUDLET_LAMBDA_SANDBOX=off: no)."""
    if os.environ.get("CLOUDLET_LAMBDA_SANDBOX", "").lower() == "off":
        return False
    return _namespaces_work()


@functools.cache
def _namespaces_work() -> bool:
    if os.geteuid() != 0 or not shutil.which("unshare") or not shutil.which("mount"):
        return False
    try:
        done = subprocess.run(["unshare", "-m", "--propagation", "private", "sh", "-c",
                               "mount -t tmpfs -o size=1m tmpfs /tmp"],
                              capture_output=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return False
    if done.returncode != 0:
        return False
    for mountpoint in ("/var/task", "/var/runtime"):
        try:
            os.makedirs(mountpoint, exist_ok=True)
        except OSError:
            return False
    return True


def function_uid(function_arn: str) -> int | None:
    """A stable unprivileged uid per function (unqualified ARN), or None when not root."""
    if os.geteuid() != 0:
        return None
    unqualified = ":".join(function_arn.split(":")[:7])
    digest = hashlib.sha256(unqualified.encode()).digest()
    return UID_BASE + int.from_bytes(digest[:4], "big") % (1 << 30)


class Cgroups:
    """The parent cgroups environments are created under, or none."""

    def __init__(self):
        self.version = 0
        self.memory_parent: Path | None = None
        self.cpu_parent: Path | None = None
        self.pids_parent: Path | None = None
        if os.environ.get("CLOUDLET_LAMBDA_CGROUPS", "").lower() == "off":
            return
        name = f"{PREFIX}{os.getpid()}"
        root = Path("/sys/fs/cgroup")
        controllers = root / "cgroup.controllers"
        if controllers.exists() and "memory" in controllers.read_text().split():
            parent = root / _own_cgroup(None).lstrip("/") / name
            if self._make(parent) and self._enable(parent, "memory"):
                self.version, self.memory_parent = 2, parent
                for controller in ("cpu", "pids"):
                    self._enable(parent, controller)
                enabled = (parent / "cgroup.subtree_control").read_text().split()
                self.cpu_parent = parent if "cpu" in enabled else None
                self.pids_parent = parent if "pids" in enabled else None
            return
        memory = root / "memory"
        if (memory / "memory.limit_in_bytes").exists():
            parent = memory / _own_cgroup("memory").lstrip("/") / name
            if self._make(parent):
                self.version, self.memory_parent = 1, parent
            cpu = root / "cpu"
            if (cpu / "cpu.cfs_quota_us").exists():
                parent = cpu / _own_cgroup("cpu").lstrip("/") / name
                if self._make(parent):
                    self.cpu_parent = parent
            pids = root / "pids"
            if (pids / "cgroup.procs").exists():
                parent = pids / _own_cgroup("pids").lstrip("/") / name
                if self._make(parent):
                    self.pids_parent = parent

    @property
    def limits_processes(self) -> bool:
        """Whether each environment's processes are counted and capped by a pids cgroup."""
        return bool(self.version) and self.pids_parent is not None

    @staticmethod
    def reap():
        """Sweep every hierarchy this process would use (at start: a Cloudlet killed with
        -9 leaves its cgroups, and whatever still ran in them)."""
        root = Path("/sys/fs/cgroup")
        if (root / "cgroup.controllers").exists():
            Cgroups.sweep(root / _own_cgroup(None).lstrip("/"))
            return
        for controller in ("memory", "cpu", "pids"):
            if (root / controller / "cgroup.procs").exists():
                Cgroups.sweep(root / controller / _own_cgroup(controller).lstrip("/"))

    @staticmethod
    def sweep(root: Path):
        """Remove what engines of dead Cloudlet processes left under root (their function
        processes, if any survived, are killed first)."""
        try:
            parents = [p for p in root.iterdir() if p.name.startswith(PREFIX)]
        except OSError:
            return
        for parent in parents:
            pid = parent.name.rsplit("-", 1)[-1]
            if not pid.isdigit() or Path(f"/proc/{pid}").exists():
                continue
            for env in [p for p in parent.iterdir() if p.is_dir()]:
                EnvCgroup(0, env, None).kill()
                EnvCgroup(0, env, None).remove()
            try:
                parent.rmdir()
            except OSError:
                pass

    @staticmethod
    def _make(path: Path) -> bool:
        Cgroups.sweep(path.parent)
        try:
            path.mkdir(exist_ok=True)
            return True
        except OSError:
            return False

    @staticmethod
    def _enable(path: Path, controller: str) -> bool:
        try:
            (path / "cgroup.subtree_control").write_text(f"+{controller}")
            return True
        except OSError:
            return False

    def create(self, env_id: str, memory_limit_mb: int, process_limit: int = PROCESS_LIMIT
               ) -> EnvCgroup | None:
        if not self.version or self.memory_parent is None:
            return None
        memory = self.memory_parent / env_id
        try:
            memory.mkdir()
            limit = str(memory_limit_mb * 1024 * 1024)
            if self.version == 2:
                (memory / "memory.max").write_text(limit)
                (memory / "memory.swap.max").exists() and (memory / "memory.swap.max").write_text("0")
            else:
                (memory / "memory.limit_in_bytes").write_text(limit)
                swap = memory / "memory.memsw.limit_in_bytes"
                if swap.exists():
                    try:
                        swap.write_text(limit)
                    except OSError:
                        pass
        except OSError:
            return None
        cpu = pids = None
        if self.cpu_parent is not None and self.version == 1:
            cpu = self.cpu_parent / env_id
            try:
                cpu.mkdir()
            except OSError:
                cpu = None
        if self.pids_parent is not None:
            pids = memory if self.version == 2 else self.pids_parent / env_id
            try:
                pids.mkdir(exist_ok=True)
                (pids / "pids.max").write_text(str(process_limit))
            except OSError:
                if pids != memory:
                    with contextlib.suppress(OSError):
                        pids.rmdir()
                pids = None
        self._count(+1)
        return EnvCgroup(self.version, memory, cpu if self.version == 1 else memory
                         if self.cpu_parent else None, pids, on_remove=lambda: self._count(-1))

    def _count(self, delta: int):
        """All environments together weigh on the CPU as that many processes would (one
        group alone would weigh as one process against the rest of the host)."""
        self.live = max(0, getattr(self, "live", 0) + delta)
        if self.cpu_parent is None:
            return
        n = max(1, self.live)
        try:
            if self.version == 2:
                (self.cpu_parent / "cpu.weight").write_text(str(min(10000, 100 * n)))
            else:
                (self.cpu_parent / "cpu.shares").write_text(str(1024 * n))
        except OSError:
            pass

    def close(self):
        for parent in {self.memory_parent, self.cpu_parent, self.pids_parent} - {None}:
            if parent is not None:
                try:
                    parent.rmdir()
                except OSError:
                    pass


class EnvCgroup:
    """One environment's cgroup(s); `pids` (pids.max set) is None where the host has no pids
    controller."""

    def __init__(self, version: int, memory: Path, cpu: Path | None, pids: Path | None = None,
                 on_remove=None):
        self.version, self.memory, self.cpu, self.pids = version, memory, cpu, pids
        self._on_remove = on_remove

    @property
    def procs_files(self) -> list[str]:
        """The cgroup.procs files a new environment's first process writes itself into (with
        cgroups v1, the CPU cgroup is joined after init: limit_cpu)."""
        return [str(path / "cgroup.procs") for path in dict.fromkeys((self.memory, self.pids))
                if path is not None]

    def join_script(self) -> str:
        """Shell lines that move the shell (and so everything it execs) into its cgroups."""
        return "\n".join(f"echo $$ > {path}" for path in self.procs_files)

    def limit_cpu(self, memory_mb: int, pid: int):
        """CPU proportional to memory, as on AWS: 1,769 MB = one vCPU. Applied after init
        (AWS boosts the init phase too); CLOUDLET_LAMBDA_CPU=off leaves CPU unlimited."""
        if self.cpu is None or os.environ.get("CLOUDLET_LAMBDA_CPU", "").lower() == "off":
            return
        if self.cpu != self.memory:
            try:
                (self.cpu / "cgroup.procs").write_text(str(pid))
            except OSError:
                return
        quota = max(1000, CPU_PERIOD_US * memory_mb // MB_PER_VCPU)
        try:
            if self.version == 2:
                (self.cpu / "cpu.max").write_text(f"{quota} {CPU_PERIOD_US}")
                burst = self.cpu / "cpu.max.burst"
            else:
                (self.cpu / "cpu.cfs_period_us").write_text(str(CPU_PERIOD_US))
                (self.cpu / "cpu.cfs_quota_us").write_text(str(quota))
                burst = self.cpu / "cpu.cfs_burst_us"
            if burst.exists():  # idle time saved up smooths short bursts, as on AWS
                burst.write_text(str(quota))
        except OSError:
            pass

    def anon_bytes(self) -> int:
        """Memory the function itself uses (not /tmp's tmpfs pages)."""
        try:
            text = (self.memory / "memory.stat").read_text()
        except OSError:
            return 0
        keys = ("anon",) if self.version == 2 else ("rss", "rss_huge")
        total = 0
        for line in text.splitlines():
            name, _, value = line.partition(" ")
            if name in keys:
                total += int(value)
        return total

    def hit_limit(self) -> bool:
        """Whether the kernel's memory limit was reached (an OOM kill, most likely)."""
        try:
            if self.version == 2:
                events = (self.memory / "memory.events").read_text().split()
                return int(events[events.index("oom_kill") + 1]) > 0
            return int((self.memory / "memory.failcnt").read_text()) > 0
        except (OSError, ValueError, IndexError):
            return False

    @staticmethod
    def _pids(path: Path) -> list[int]:
        try:
            return [int(p) for p in (path / "cgroup.procs").read_text().split()]
        except OSError:
            return []

    def kill(self):
        for _ in range(50):
            pids = [pid for path in dict.fromkeys((self.memory, self.pids)) if path is not None
                    for pid in self._pids(path)]
            if not pids:
                return
            for pid in pids:
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass
            time.sleep(0.01)

    def remove(self):
        if self.cpu is not None and self.cpu != self.memory:
            for pid in self._pids(self.cpu):
                try:  # back to the parent, so that the directory can go
                    (self.cpu.parent.parent / "cgroup.procs").write_text(str(pid))
                except OSError:
                    pass
        if self._on_remove is not None:
            self._on_remove()
            self._on_remove = None
        for path in {self.memory, self.cpu, self.pids} - {None}:
            for _ in range(20):
                try:
                    path.rmdir()
                    break
                except FileNotFoundError:
                    break
                except OSError:
                    time.sleep(0.05)


def _reachable(path: str) -> bool:
    """Whether any user may execute path (every directory on the way searchable by others)."""
    real = os.path.realpath(path)
    try:
        if not os.stat(real).st_mode & 0o001:
            return False
        parent = os.path.dirname(real)
        while True:
            if not os.stat(parent).st_mode & 0o001:
                return False
            if parent == "/":
                return True
            parent = os.path.dirname(parent)
    except OSError:
        return False


@functools.cache
def host_python() -> tuple[str, str]:
    """The Python interpreter functions run on, and its version: Cloudlet's own when an
    unprivileged user can execute it, else the same minor version from the system."""
    import sys

    minor = f"{sys.version_info[0]}.{sys.version_info[1]}"
    candidates = [sys.executable]
    if os.geteuid() == 0:
        candidates = [p for p in candidates if _reachable(p)]
        candidates += [p for p in (f"/usr/bin/python{minor}", f"/usr/local/bin/python{minor}",
                                   shutil.which(f"python{minor}") or "") if p and _reachable(p)]
    for python in candidates:
        try:
            out = subprocess.run([python, "-S", "-c", "import platform; print(platform.python_version())"],
                                 capture_output=True, text=True, timeout=10)
        except (OSError, subprocess.SubprocessError):
            continue
        if out.returncode == 0:
            return os.path.realpath(python), out.stdout.strip()
    return sys.executable, ".".join(map(str, sys.version_info[:3]))
