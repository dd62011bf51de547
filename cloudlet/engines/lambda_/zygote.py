"""The engine's side of the Python zygote (runtime/zygote.py): one process per engine that
forks Python execution environments on request, saving a cold start the interpreter's
start-up and the sandbox's helper programs. ZygoteProcess stands in for subprocess.Popen."""

from __future__ import annotations

import itertools
import json
import os
import signal
import socket
import subprocess
import threading
from pathlib import Path

SCRIPT = Path(__file__).parent / "runtime" / "zygote.py"


class ZygoteProcess:
    """What Environment needs of a process: pid, stdout, wait(), poll(), returncode."""

    def __init__(self, pid: int, stdout):
        self.pid = pid
        self.stdout = stdout
        self.returncode: int | None = None
        self._done = threading.Event()

    def _exited(self, code: int):
        self.returncode = code
        self._done.set()

    def wait(self, timeout: float | None = None) -> int:
        if not self._done.wait(timeout):
            raise subprocess.TimeoutExpired("zygote child", timeout)
        return self.returncode

    def poll(self) -> int | None:
        return self.returncode


class Zygote:
    def __init__(self, python: str):
        parent, child = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self._sock = parent
        self._proc = subprocess.Popen([python, "-S", str(SCRIPT), str(child.fileno())],
                                      pass_fds=[child.fileno()], stdin=subprocess.DEVNULL,
                                      env={"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"},
                                      cwd="/")
        child.close()
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self._waiting: dict[int, list] = {}
        self._children: dict[int, ZygoteProcess] = {}
        self._early_exits: dict[int, int] = {}
        self.alive = True
        threading.Thread(target=self._read, name="lambda-zygote", daemon=True).start()

    def spawn(self, request: dict, net_fd: int | None = None) -> ZygoteProcess:
        """Fork one environment; its stdout and stderr go to a new pipe. With net_fd, it
        joins that network namespace."""
        if not self.alive:
            raise OSError("the zygote is gone")
        read_end, write_end = os.pipe()
        request_id = next(self._ids)
        slot = [threading.Event(), None]
        with self._lock:
            self._waiting[request_id] = slot
        try:
            message = {**request, "id": request_id, "network": net_fd is not None}
            socket.send_fds(self._sock, [json.dumps(message).encode()],
                            [write_end] if net_fd is None else [write_end, net_fd])
        except OSError:
            os.close(read_end)
            self.alive = False
            raise
        finally:
            os.close(write_end)
        if not slot[0].wait(10) or not isinstance(slot[1], int):
            os.close(read_end)
            raise OSError(f"the zygote did not fork: {slot[1]}")
        process = ZygoteProcess(slot[1], open(read_end, "rb", buffering=0))  # noqa: SIM115
        with self._lock:
            code = self._early_exits.pop(process.pid, None)
            if code is None:
                self._children[process.pid] = process
        if code is not None:
            process._exited(code)
        return process

    def _read(self):
        while True:
            try:
                data = self._sock.recv(65536)
            except OSError:
                data = b""
            if not data:
                break
            message = json.loads(data)
            with self._lock:
                if "exit" in message:
                    process = self._children.pop(message["exit"], None)
                    if process is None:
                        self._early_exits[message["exit"]] = message["code"]
                else:
                    process = None
                    slot = self._waiting.pop(message["id"], None)
                    if slot is not None:
                        slot[1] = message.get("pid", message.get("error"))
                        slot[0].set()
            if process is not None:
                process._exited(message["code"])
        self.alive = False
        with self._lock:
            children, self._children = list(self._children.values()), {}
        for process in children:  # the zygote died: its children cannot be watched any more
            try:
                os.kill(process.pid, signal.SIGKILL)
            except OSError:
                pass
            process._exited(-signal.SIGKILL)

    def close(self):
        self.alive = False
        try:
            self._sock.close()
        except OSError:
            pass
        try:
            self._proc.wait(5)
        except subprocess.TimeoutExpired:
            self._proc.kill()
