"""How an instance's processes start: `unshare --fork --pid --mount --uts --ipc --kill-child`,
joined to the instance's cgroups and network namespace before it runs (in the child, before
exec: inside the namespaces /sys/fs/cgroup may not be there), with PR_SET_PDEATHSIG, runs
boot.py as PID 1 of the new PID namespace. If Cloudlet dies, unshare gets SIGKILL, its
child (PID 1) too (--kill-child), and the kernel kills the rest of the PID namespace."""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from cloudlet.engines.sandbox import linux


class Spawner:
    """One thread that forks every instance: PR_SET_PDEATHSIG fires when the *thread* that
    forked a process ends, so it must be a thread that lives as long as the engine."""

    def __init__(self):
        self._jobs: queue.Queue = queue.Queue()
        threading.Thread(target=self._run, name="instance-spawner", daemon=True).start()

    def _run(self):
        while True:
            job, done = self._jobs.get()
            try:
                done.put((True, job()))
            except BaseException as e:  # noqa: BLE001 - handed back to the caller
                done.put((False, e))

    def call(self, job):
        done: queue.Queue = queue.Queue()
        self._jobs.put((job, done))
        ok, value = done.get()
        if not ok:
            raise value
        return value

    def spawn(self, procs: list[str], netns: str, boot_json: Path, out: int,
              control) -> subprocess.Popen:
        """Start an instance: procs are the cgroup.procs files to join, out its console."""
        import pyseccomp

        import cloudlet

        path = [str(Path(cloudlet.__file__).parent.parent), str(Path(pyseccomp.__file__).parent)]
        env = {"PYTHONPATH": ":".join(path), "PATH": "/usr/sbin:/usr/bin:/sbin:/bin",
               "LANG": "C.UTF-8"}
        cmd = ["unshare", "--fork", "--pid", "--mount", "--uts", "--ipc", "--kill-child",
               "--propagation", "private", "--", sys.executable, "-S", "-m",
               "cloudlet.engines.instances.boot", str(boot_json)]

        def preexec():
            linux.prctl(linux.PR_SET_PDEATHSIG, signal.SIGKILL)
            for path in procs:
                with open(path, "w") as f:
                    f.write("0")
            fd = os.open(netns, os.O_RDONLY)
            linux.setns(fd, linux.CLONE_NEWNET)
            os.close(fd)

        return self.call(lambda: subprocess.Popen(
            cmd, stdin=subprocess.DEVNULL, stdout=out, stderr=out, env=env,
            preexec_fn=preexec, pass_fds=[control.fileno()], start_new_session=True))


def drain(reader: int, console: Path) -> None:
    """Copy the instance's console pipe into its log file until the instance is gone."""
    fd = os.open(console, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    with open(reader, "rb", buffering=0) as pipe, open(fd, "ab", buffering=0) as log:
        while chunk := pipe.read(65536):
            log.write(chunk)


def pid1_of(unshare_pid: int) -> int:
    """The host pid of the instance's PID 1 (unshare's child)."""
    for _ in range(500):
        try:
            children = Path(f"/proc/{unshare_pid}/task/{unshare_pid}/children").read_text().split()
        except OSError:
            return 0
        if children:
            return int(children[0])
        time.sleep(0.002)
    return 0
