"""The instance engine: starts, stops and watches instance sandboxes.

An instance's processes are started as process.py says; if Cloudlet dies, they die with
it, and reclaim() removes what is left (cgroups, loop devices, run files).

State on the host, under the engine's state directory:

    run/<id>/boot.json      boot.py's configuration
    run/<id>/loops.json     the data volumes' loop devices (for reclaim)
    console/<id>.log        the instance's console (boot, cloud-init), appended each boot
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import threading
import time
from pathlib import Path

from cloudlet.engines.instances import nsexec, process, seed, volumes
from cloudlet.engines.instances.mounts import MountSupervisor
from cloudlet.engines.instances.spec import (
    EventCallback,
    InstanceError,
    InstanceEvent,
    InstanceSpec,
    Limits,
    Stats,
    Volume,
)
from cloudlet.engines.sandbox import cgroups

KEEP_CAPS = frozenset({
    "CHOWN", "DAC_OVERRIDE", "FOWNER", "FSETID", "KILL", "SETGID", "SETUID", "SETPCAP",
    "NET_BIND_SERVICE", "NET_RAW", "NET_ADMIN", "SYS_CHROOT", "AUDIT_WRITE", "SETFCAP",
})
DEVICES = ["c 1:3 rwm", "c 1:5 rwm", "c 1:7 rwm", "c 1:8 rwm", "c 1:9 rwm", "c 5:0 rwm",
           "c 5:2 rwm", "c 136:* rwm"]
EXIT_REASONS = {100: "poweroff", 101: "reboot", 102: "poweroff"}
CONSOLE_LIMIT = 1 << 20


def _host_memory_mib() -> int:
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) // 1024
    return 1024


class Sandbox:
    """One running instance."""

    def __init__(self, spec: InstanceSpec, group: cgroups.Group, limits: Limits):
        self.spec, self.group, self.limits = spec, group, limits
        self.proc: subprocess.Popen | None = None
        self.pid1 = 0
        self.loops: dict[str, str] = {}         # device name -> /dev/loopN
        self.protected: list[int] = []          # mount ids made at boot
        self.supervisor: MountSupervisor | None = None
        self.requested: str | None = None       # "stop" / "kill" / "reboot" by the engine
        self.booted = threading.Event()
        self.exited = threading.Event()
        self.reason = ""
        self.started_at = time.monotonic()

    def devices(self) -> list[list[int]]:
        return [list(volumes.device_numbers(dev)) for dev in self.loops.values()
                if os.path.exists(dev)]


class Engine:
    def __init__(self, state_dir: Path, on_event: EventCallback | None = None,
                 grace_seconds: float = 10.0, boot_timeout: float = 120.0):
        self.state_dir = Path(state_dir)
        self.on_event = on_event or (lambda _e: None)
        self.grace_seconds, self.boot_timeout = grace_seconds, boot_timeout
        self._instances: dict[str, Sandbox] = {}
        self._lock = threading.Lock()
        self._spawner: process.Spawner | None = None
        self.hierarchy = cgroups.Hierarchy("cloudlet-instances")

    # ----- what the host allows

    def status(self) -> str | None:
        """What this host lacks to run instances, or None when it can."""
        if os.geteuid() != 0:
            return "instances need root (namespaces, loop devices, overlayfs)"
        for tool in ("unshare", "mount", "losetup", "mkfs.ext4"):
            if not shutil.which(tool):
                return f"{tool} is not installed (util-linux, e2fsprogs)"
        if not Path("/proc/self/ns/pid").exists() or not Path("/proc/self/ns/net").exists():
            return "the kernel has no PID or network namespaces"
        try:
            if "overlay" not in Path("/proc/filesystems").read_text():
                subprocess.run(["modprobe", "overlay"], capture_output=True)
                if "overlay" not in Path("/proc/filesystems").read_text():
                    return "the kernel has no overlayfs"
        except OSError:
            return "cannot read /proc/filesystems"
        if not Path("/dev/loop-control").exists():
            return "no loop devices (/dev/loop-control)"
        if not self.hierarchy.version:
            return "no memory cgroup (cgroups v1 or v2) to hold instances' limits"
        try:
            import pyseccomp  # noqa: F401
        except (ImportError, RuntimeError) as e:
            return f"seccomp is not available (pyseccomp, libseccomp): {e}"
        return None

    def effective_limits(self, vcpus: float, memory_mib: int, pids_max: int) -> Limits:
        host_cpus = os.cpu_count() or 1
        return Limits(vcpus=min(float(vcpus), float(host_cpus)),
                      memory_mib=min(int(memory_mib), _host_memory_mib()),
                      pids_max=pids_max, devices_allowlist=self.hierarchy.version == 1
                      and "devices" in self.hierarchy.parents, seccomp=True)

    # ----- life cycle

    def start(self, spec: InstanceSpec) -> Limits:
        """Boot an instance (returns once its init runs; `booted` follows when sshd accepts)."""
        missing = self.status()
        if missing:
            raise InstanceError(missing)
        if not Path(spec.netns).exists():
            raise InstanceError(f"network namespace {spec.netns} does not exist")
        with self._lock:
            if spec.instance_id in self._instances:
                raise InstanceError(f"{spec.instance_id} is running")
            limits = self.effective_limits(spec.vcpus, spec.memory_mib, spec.pids_max)
            group = self.hierarchy.create(spec.instance_id)
            box = Sandbox(spec, group, limits)
            self._instances[spec.instance_id] = box
        try:
            self._boot(box)
        except BaseException:
            self._cleanup(box)
            with self._lock:
                self._instances.pop(spec.instance_id, None)
            raise
        return limits

    def _boot(self, box: Sandbox) -> None:
        spec = box.spec
        if not spec.root_volume.exists():
            volumes.create_root_volume(spec.root_volume, spec.root_volume_gib)
        else:
            volumes.grow_if_needed(spec.root_volume)
        group = box.group
        group.limit_cpu(box.limits.vcpus)
        group.limit_memory(box.limits.memory_mib << 20)
        group.limit_pids(box.limits.pids_max)
        for volume in spec.volumes:
            box.loops[volume.device_name] = volumes.attach_loop(Path(volume.file))
        devices = DEVICES + [f"b {major}:{minor} rwm" for major, minor in box.devices()]
        devices_ok = group.devices(devices)
        run = self._run_dir(spec.instance_id)
        self._save_loops(box)
        console = self.state_dir / "console" / f"{spec.instance_id}.log"
        console.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        self._trim(console)
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        config = {
            "staging": str(run / "mnt"), "root_volume": str(spec.root_volume),
            "layers": [str(p) for p in spec.layers], "hostname": spec.hostname,
            "files": seed.files(spec),
            "append": seed.appended(spec),
            "devices": [[name, *volumes.device_numbers(dev)] for name, dev in box.loops.items()],
            "devices_procs": str(group.dirs["devices"] / "cgroup.procs")
            if devices_ok and "devices" in group.dirs else None,
            "keep_caps": sorted(KEEP_CAPS), "control_fd": theirs.fileno(), "seccomp": True,
            "init": ["/usr/bin/tini", "--", "/usr/lib/cloudlet/init"],
            "env": {"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                    "LANG": "C.UTF-8", "TERM": "linux", "container": "cloudlet"},
        }
        (run / "mnt").mkdir(exist_ok=True)
        boot_json = run / "boot.json"
        fd = os.open(boot_json, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            json.dump(config, f)
        procs = group.procs_files(exclude=("devices",))
        netns = spec.netns
        # A pipe, not the file: inside, /proc/self/fd/1 must not name a host path.
        reader, writer = os.pipe()
        try:
            if self._spawner is None:
                self._spawner = process.Spawner()
            box.proc = self._spawner.spawn(procs, netns, boot_json, writer, theirs)
        finally:
            os.close(writer)
            theirs.close()
        threading.Thread(target=process.drain, args=(reader, console), daemon=True).start()
        box.pid1 = process.pid1_of(box.proc.pid)
        threading.Thread(target=self._watch, args=(box, ours), name=f"instance-{spec.instance_id}",
                         daemon=True).start()

    def _watch(self, box: Sandbox, control: socket.socket) -> None:
        """The instance's life: its seccomp listener, sshd's first answer, its exit."""
        try:
            control.settimeout(60)
            with contextlib.suppress(OSError):
                _msg, fds, _flags, _addr = socket.recv_fds(control, 64, 1)
                if fds:
                    # boot.py sends the listener once its mounts are done: those are the
                    # mounts nobody inside may unmount, known before any call is answered
                    with contextlib.suppress(OSError):
                        box.protected = [m["id"] for m in nsexec._mountinfo(box.pid1)]
                    box.supervisor = MountSupervisor(fds[0], lambda: self._mount_context(box))
        finally:
            control.close()
        threading.Thread(target=self._probe_ssh, args=(box,), daemon=True).start()
        code = box.proc.wait()
        self._exited(box, code)

    def _mount_context(self, box: Sandbox) -> dict:
        dirs = box.group.dirs
        return {"devices": box.devices(), "protected": box.protected,
                "devices_procs": str(dirs["devices"] / "cgroup.procs") if "devices" in dirs else None}

    def _probe_ssh(self, box: Sandbox) -> None:
        from cloudlet.engines.sandbox.netns import socket_in

        deadline = time.monotonic() + self.boot_timeout
        while time.monotonic() < deadline and box.proc.poll() is None:
            try:
                with socket_in(box.spec.netns) as s:
                    s.settimeout(1)
                    s.connect(("127.0.0.1", 22))
                    if s.recv(64).startswith(b"SSH-"):
                        box.booted.set()
                        self.on_event(InstanceEvent(box.spec.instance_id, "booted"))
                        return
            except OSError:
                pass
            time.sleep(0.02)

    def _exited(self, box: Sandbox, code: int) -> None:
        memory = box.group.memory()
        if box.requested in ("stop", "kill", "reboot"):
            reason = box.requested
        else:
            reason = EXIT_REASONS.get(code, "crash")
        detail = f"exit status {code}"
        if reason == "crash" and memory.get("oom_kills"):
            detail += f", {memory['oom_kills']} OOM kill(s) at the memory limit"
        box.reason = reason
        self._cleanup(box)
        with self._lock:
            if self._instances.get(box.spec.instance_id) is box:
                del self._instances[box.spec.instance_id]
        box.exited.set()
        self.on_event(InstanceEvent(box.spec.instance_id, "exited", reason, detail))
        if reason == "reboot" and box.requested is None:  # `reboot` inside: boot again
            with contextlib.suppress(InstanceError, OSError, subprocess.SubprocessError):
                self.start(box.spec)

    def _cleanup(self, box: Sandbox) -> None:
        if box.supervisor is not None:
            box.supervisor.close()
        box.group.kill_and_remove()
        for device in box.loops.values():
            volumes.detach_loop(device)
        box.loops.clear()
        shutil.rmtree(self._run_dir(box.spec.instance_id, create=False), ignore_errors=True)

    def stop(self, instance_id: str, force: bool = False, grace: float | None = None) -> str:
        """Stop as a host shutdown would: SIGTERM to init, SIGKILL after the grace period
        (at once with force). Returns once every process is gone; the exit reason."""
        box = self._get(instance_id)
        box.requested = box.requested or "stop"
        if not force and box.pid1:
            with contextlib.suppress(OSError):
                os.kill(box.pid1, signal.SIGTERM)
            box.exited.wait(self.grace_seconds if grace is None else grace)
        if not box.exited.is_set():
            self._kill_processes(box)
            box.exited.wait(30)
        return box.reason

    def kill(self, instance_id: str) -> str:
        box = self._get(instance_id)
        box.requested = "kill"
        self._kill_processes(box)
        box.exited.wait(30)
        return box.reason

    def reboot(self, instance_id: str) -> Limits:
        """RebootInstances: a clean stop, then a boot from the same volumes."""
        box = self._get(instance_id)
        box.requested = "reboot"
        self.stop(instance_id)
        return self.start(box.spec)

    @staticmethod
    def _kill_processes(box: Sandbox) -> None:
        for pid in (box.pid1, box.proc.pid if box.proc else 0):
            if pid:
                with contextlib.suppress(OSError):
                    os.kill(pid, signal.SIGKILL)

    def running(self) -> list[str]:
        with self._lock:
            return sorted(self._instances)

    def wait_booted(self, instance_id: str, timeout: float = 60) -> bool:
        """Whether sshd answered within timeout (False at once if the instance exited)."""
        with self._lock:
            box = self._instances.get(instance_id)
        deadline = time.monotonic() + timeout
        while box is not None and not box.exited.is_set() and time.monotonic() < deadline:
            if box.booted.wait(0.05):
                return True
        return bool(box and box.booted.is_set())

    def wait_exited(self, instance_id: str, timeout: float = 60) -> str | None:
        with self._lock:
            box = self._instances.get(instance_id)
        if box is None:
            return None
        return box.reason if box.exited.wait(timeout) else None

    def _get(self, instance_id: str) -> Sandbox:
        with self._lock:
            box = self._instances.get(instance_id)
        if box is None:
            raise InstanceError(f"{instance_id} is not running")
        return box

    # ----- what the service shows

    def console_output(self, instance_id: str, limit: int = 64 * 1024) -> str:
        """The instance's console: the most recent limit bytes (boot and cloud-init output)."""
        path = self.state_dir / "console" / f"{instance_id}.log"
        try:
            with open(path, "rb") as f:
                f.seek(0, os.SEEK_END)
                f.seek(max(0, f.tell() - limit))
                return f.read().decode(errors="replace")
        except OSError:
            return ""

    def stats(self, instance_id: str) -> Stats:
        box = self._get(instance_id)
        memory = box.group.memory()
        devices = [*volumes.loops_backed_by(box.spec.root_volume), *box.loops.values()]
        read_bytes, write_bytes, reads, writes = volumes.io_counters(devices)
        return Stats(cpu_seconds=box.group.cpu_seconds(), memory_bytes=memory["usage"],
                     rss_bytes=memory["rss"], memory_limit_bytes=memory["limit"],
                     pids=len(box.group.pids()), oom_kills=memory["oom_kills"],
                     disk_read_bytes=read_bytes, disk_write_bytes=write_bytes,
                     disk_read_ops=reads, disk_write_ops=writes)

    def limits(self, instance_id: str) -> Limits:
        return self._get(instance_id).limits

    # ----- volumes

    def attach_volume(self, instance_id: str, file: Path, device_name: str) -> str:
        """Attach a volume file live: a loop device, allowed in the devices cgroup, with a
        node at device_name inside. Returns the host's loop device."""
        box = self._get(instance_id)
        if device_name in box.loops:
            raise InstanceError(f"{device_name} is in use on {instance_id}")
        device = volumes.attach_loop(Path(file))
        major, minor = volumes.device_numbers(device)
        box.loops[device_name] = device
        self._save_loops(box)
        box.group.allow_device(f"b {major}:{minor} rwm")
        result = nsexec.call(box.pid1, {"op": "mknod", "path": device_name, "major": major,
                                        "minor": minor})
        if result.get("errno"):
            self.detach_volume(instance_id, device_name, force=True)
            raise InstanceError(f"cannot create {device_name}: {os.strerror(result['errno'])}")
        box.spec.volumes.append(Volume(Path(file), device_name))
        return device

    def detach_volume(self, instance_id: str, device_name: str, force: bool = False) -> None:
        """Detach a volume: refused while it is mounted inside, unless force (then it is
        unmounted lazily first, as a yanked disk would be)."""
        box = self._get(instance_id)
        device = box.loops.get(device_name)
        if device is None:
            raise InstanceError(f"{device_name} is not attached to {instance_id}")
        numbers = list(volumes.device_numbers(device)) if os.path.exists(device) else None
        if numbers:
            points = nsexec.call(box.pid1, {"op": "mounts_of", "devices": [numbers]}).get("points", [])
            if points and not force:
                raise InstanceError(f"{device_name} is mounted at {points[0]} in {instance_id}")
            for point in reversed(points):
                nsexec.call(box.pid1, {"op": "umount", "target": point, "flags": 2, "protected": []})
            box.group.deny_device(f"b {numbers[0]}:{numbers[1]} rwm")
        nsexec.call(box.pid1, {"op": "unlink", "path": device_name})
        volumes.detach_loop(device)
        del box.loops[device_name]
        box.spec.volumes = [v for v in box.spec.volumes if v.device_name != device_name]
        self._save_loops(box)

    # ----- after a crash

    def reclaim(self, keep_ids: set[str] | frozenset[str] = frozenset()) -> list[str]:
        """Remove what instances of earlier engines (or of this one, but for keep_ids) left:
        processes (killed), cgroups, loop devices, run files. Returns the ids found."""
        found = set(self.hierarchy.sweep())
        with self._lock:
            live = set(self._instances) | set(keep_ids)
        run_root = self.state_dir / "run"
        known = {p.name for p in run_root.iterdir()} if run_root.is_dir() else set()
        for controller_parent in self.hierarchy.parents.values():
            if controller_parent.is_dir():  # this process's: only this state dir's instances
                for group in controller_parent.iterdir():
                    if group.is_dir() and group.name in known - live:
                        found.add(group.name)
                        cgroups._kill_and_remove(group)
        if run_root.is_dir():
            for run in run_root.iterdir():
                if run.name in live:
                    continue
                found.add(run.name)
                self._detach_recorded(run)
                with contextlib.suppress(OSError):
                    subprocess.run(["umount", "-l", str(run / "mnt")], capture_output=True)
                shutil.rmtree(run, ignore_errors=True)
        return sorted(found)

    @staticmethod
    def _detach_recorded(run: Path) -> None:
        try:
            loops = json.loads((run / "loops.json").read_text())
        except (OSError, ValueError):
            return
        for device, backing in loops.items():
            if volumes.backing_file(device) == backing:
                volumes.detach_loop(device)

    def close(self) -> None:
        """Stop every instance (as a host shutdown would)."""
        threads = [threading.Thread(target=self.stop, args=(i,)) for i in self.running()]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        self.hierarchy.close()

    # ----- files

    def _run_dir(self, instance_id: str, create: bool = True) -> Path:
        run = self.state_dir / "run" / instance_id
        if create:
            run.mkdir(parents=True, exist_ok=True, mode=0o700)
        return run

    def _save_loops(self, box: Sandbox) -> None:
        record = {dev: volumes.backing_file(dev) or "" for dev in box.loops.values()}
        path = self._run_dir(box.spec.instance_id) / "loops.json"
        path.write_text(json.dumps(record))

    @staticmethod
    def _trim(console: Path) -> None:
        """Keep the console log bounded: the last CONSOLE_LIMIT bytes survive a boot."""
        try:
            if console.stat().st_size > CONSOLE_LIMIT:
                data = console.read_bytes()[-CONSOLE_LIMIT // 2:]
                console.write_bytes(data)
        except OSError:
            pass
