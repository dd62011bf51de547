"""cgroups for sandboxes: v2 (one directory) or v1 (one directory per controller), under the
calling process's own cgroup, in a parent named `<prefix>-<pid of the engine's process>` so
that a later engine can sweep what a dead one left."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

ROOT = Path("/sys/fs/cgroup")
CPU_PERIOD_US = 100_000


def own_cgroup(controller: str | None) -> str:
    """The calling process's cgroup path in a v1 controller's hierarchy (None: v2's)."""
    try:
        lines = Path("/proc/self/cgroup").read_text().splitlines()
    except OSError:
        return "/"
    for line in lines:
        _, controllers, path = line.split(":", 2)
        if (controller is None and controllers == "") or (
                controller is not None and controller in controllers.split(",")):
            return path
    return "/"


def version() -> int:
    """2 for a unified hierarchy with the memory controller, 1 for v1 memory, else 0."""
    controllers = ROOT / "cgroup.controllers"
    if controllers.exists() and "memory" in controllers.read_text().split():
        return 2
    if (ROOT / "memory" / "memory.limit_in_bytes").exists():
        return 1
    return 0


def _pids(path: Path) -> list[int]:
    try:
        return [int(p) for p in (path / "cgroup.procs").read_text().split()]
    except (OSError, ValueError):
        return []


def _kill_and_remove(path: Path) -> None:
    for _ in range(100):
        pids = _pids(path)
        if not pids:
            break
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        time.sleep(0.01)
    for _ in range(50):
        try:
            path.rmdir()
            return
        except FileNotFoundError:
            return
        except OSError:
            time.sleep(0.02)


class Hierarchy:
    """Where one kind of sandbox's cgroups go: per controller (v1) or one directory (v2)."""

    V1_CONTROLLERS = ("cpu", "cpuacct", "memory", "pids", "devices")

    def __init__(self, prefix: str, controllers=V1_CONTROLLERS):
        self.prefix = prefix
        self.version = version()
        self.parents: dict[str, Path] = {}
        name = f"{prefix}-{os.getpid()}"
        if self.version == 2:
            parent = ROOT / own_cgroup(None).lstrip("/") / name
            self.parents["unified"] = parent
        elif self.version == 1:
            for controller in controllers:
                mount = ROOT / controller
                if mount.is_dir():
                    self.parents[controller] = mount / own_cgroup(controller).lstrip("/") / name

    def controllers(self) -> set[str]:
        if self.version == 2:
            path = ROOT / own_cgroup(None).lstrip("/") / "cgroup.subtree_control"
            try:
                return set(path.read_text().split()) | {"devices-bpf"}
            except OSError:
                return set()
        return set(self.parents)

    def sweep(self) -> list[str]:
        """Kill and remove what engines of dead processes left; the sandboxes' names."""
        found = set()
        for parent in self.parents.values():
            try:
                siblings = [p for p in parent.parent.iterdir()
                            if p.is_dir() and p.name.startswith(f"{self.prefix}-")]
            except OSError:
                continue
            for old in siblings:
                pid = old.name.rsplit("-", 1)[-1]
                if old == parent or not pid.isdigit() or Path(f"/proc/{pid}").exists():
                    continue  # ours, or a live engine's
                for group in [p for p in old.iterdir() if p.is_dir()]:
                    found.add(group.name)
                    _kill_and_remove(group)
                try:
                    old.rmdir()
                except OSError:
                    pass
        return sorted(found)

    def create(self, name: str) -> Group:
        dirs = {}
        for controller, parent in self.parents.items():
            parent.mkdir(exist_ok=True)
            if self.version == 2:
                try:
                    (parent / "cgroup.subtree_control").write_text("+memory +cpu +pids")
                except OSError:
                    pass
            path = parent / name
            if path.exists():
                _kill_and_remove(path)
            path.mkdir()
            dirs[controller] = path
        return Group(self.version, dirs)

    def existing(self, name: str) -> Group | None:
        dirs = {c: p / name for c, p in self.parents.items() if (p / name).is_dir()}
        return Group(self.version, dirs) if dirs else None

    def close(self) -> None:
        for parent in self.parents.values():
            try:
                parent.rmdir()
            except OSError:
                pass


class Group:
    """One sandbox's cgroup(s)."""

    def __init__(self, version: int, dirs: dict[str, Path]):
        self.version, self.dirs = version, dirs

    def _dir(self, controller: str) -> Path | None:
        return self.dirs.get("unified" if self.version == 2 else controller)

    def _write(self, controller: str, name: str, value: str) -> bool:
        path = self._dir(controller)
        if path is None:
            return False
        try:
            (path / name).write_text(value)
            return True
        except OSError:
            return False

    def procs_files(self, exclude: tuple[str, ...] = ()) -> list[str]:
        """The cgroup.procs files a process writes its pid into to join (before it enters
        its namespaces: inside them /sys/fs/cgroup may not be there)."""
        return [str(p / "cgroup.procs") for c, p in self.dirs.items() if c not in exclude]

    def limit_cpu(self, vcpus: float) -> None:
        quota = max(1000, int(CPU_PERIOD_US * vcpus))
        if self.version == 2:
            self._write("cpu", "cpu.max", f"{quota} {CPU_PERIOD_US}")
        else:
            self._write("cpu", "cpu.cfs_period_us", str(CPU_PERIOD_US))
            self._write("cpu", "cpu.cfs_quota_us", str(quota))

    def limit_memory(self, limit_bytes: int) -> None:
        if self.version == 2:
            self._write("memory", "memory.max", str(limit_bytes))
            self._write("memory", "memory.swap.max", "0")
        else:
            self._write("memory", "memory.limit_in_bytes", str(limit_bytes))
            self._write("memory", "memory.memsw.limit_in_bytes", str(limit_bytes))

    def limit_pids(self, n: int) -> bool:
        return self._write("pids", "pids.max", str(n))

    def devices(self, allowed: list[str]) -> bool:
        """v1: deny every device but allowed ("c 1:3 rwm", ...). v2 has no devices file
        (a BPF program would be needed): False."""
        if self.version != 1 or "devices" not in self.dirs:
            return False
        if not self._write("devices", "devices.deny", "a"):
            return False
        return all(self._write("devices", "devices.allow", rule) for rule in allowed)

    def allow_device(self, rule: str) -> bool:
        return self._write("devices", "devices.allow", rule)

    def deny_device(self, rule: str) -> bool:
        return self._write("devices", "devices.deny", rule)

    def cpu_seconds(self) -> float:
        try:
            if self.version == 2:
                for line in (self.dirs["unified"] / "cpu.stat").read_text().splitlines():
                    if line.startswith("usage_usec "):
                        return int(line.split()[1]) / 1e6
                return 0.0
            return int((self.dirs["cpuacct"] / "cpuacct.usage").read_text()) / 1e9
        except (OSError, KeyError, ValueError):
            return 0.0

    def memory(self) -> dict[str, int]:
        """usage (all charged memory, page cache included), rss (anonymous), peak, limit."""
        path = self._dir("memory")
        out = {"usage": 0, "rss": 0, "peak": 0, "limit": 0, "oom_kills": 0}
        if path is None:
            return out
        names = ({"usage": "memory.current", "peak": "memory.peak", "limit": "memory.max"}
                 if self.version == 2 else
                 {"usage": "memory.usage_in_bytes", "peak": "memory.max_usage_in_bytes",
                  "limit": "memory.limit_in_bytes"})
        for key, name in names.items():
            try:
                out[key] = int((path / name).read_text().strip().replace("max", "0"))
            except (OSError, ValueError):
                pass
        try:
            stat = dict(line.split() for line in (path / "memory.stat").read_text().splitlines())
            out["rss"] = int(stat.get("anon", stat.get("total_rss", stat.get("rss", 0))))
        except (OSError, ValueError):
            pass
        try:
            if self.version == 2:
                events = (path / "memory.events").read_text().split()
                out["oom_kills"] = int(events[events.index("oom_kill") + 1])
            else:
                for line in (path / "memory.oom_control").read_text().splitlines():
                    if line.startswith("oom_kill "):
                        out["oom_kills"] = int(line.split()[1])
        except (OSError, ValueError, IndexError):
            pass
        return out

    def pids(self) -> list[int]:
        path = self._dir("pids") or self._dir("memory")
        return _pids(path) if path else []

    def kill_and_remove(self) -> None:
        for path in self.dirs.values():
            _kill_and_remove(path)
