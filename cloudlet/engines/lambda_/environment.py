"""One execution environment: a process tree running a runtime against its own Runtime
API, in its sandbox (sandbox.py) and its own network namespace (network.py), with the output
of stdout and stderr gathered line by line. `run()` hands it one invocation and waits for the
response, the error, a crash, the memory limit or the timeout."""

from __future__ import annotations

import json
import math
import os
import select
import shlex
import shutil
import signal
import subprocess
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from cloudlet import clock
from cloudlet.engines.lambda_ import sandbox
from cloudlet.engines.lambda_.engine import FunctionSpec, Invocation
from cloudlet.engines.lambda_.network import EnvNetwork, ServeApi
from cloudlet.engines.lambda_.runtime_api import RuntimeAPI
from cloudlet.engines.lambda_.zygote import Zygote

INIT_TIMEOUT = 10.0  # AWS's init phase limit
MAX_LINES = 100_000  # output kept per invocation
SHM_MB = 64  # a private /dev/shm (AWS has none; multiprocessing wants one)
RUNTIME_DIR = Path(__file__).parent / "runtime"
SITE_MOUNT = "/var/runtime/site-packages"  # where the host's boto3 is, in a sandbox


def host_site_packages() -> str | None:
    """The host directory that holds boto3 (Cloudlet's own environment). A sandbox binds it
    at SITE_MOUNT: its host path may lie under /tmp, which the sandbox covers."""
    import importlib.util

    spec = importlib.util.find_spec("boto3")
    if spec is None or not spec.submodule_search_locations:
        return None
    return str(Path(list(spec.submodule_search_locations)[0]).parent)


@dataclass
class Outcome:
    """How one run ended: "ok", "error" (function error), "init_error", "exit" (the
    runtime died), "timeout" or "init_timeout"."""

    status: str
    body: bytes = b""
    error_type: str | None = None
    duration_ms: float = 0.0
    init_ms: float | None = None
    exit_reason: str = ""
    lines_before: list[str] = field(default_factory=list)
    lines: list[str] = field(default_factory=list)
    max_memory_mb: int = 0


@dataclass
class Launch:
    """How the engine starts environments on this host (shared by all of them)."""

    namespaces: bool                # mount and PID namespaces
    cgroups: sandbox.Cgroups
    state_dir: Path
    hidden: tuple[Path, ...] = ()
    python: str = ""
    node: str = ""
    zygote: Zygote | None = None
    network: bool = False           # a network namespace per environment
    serve_api: ServeApi | None = None  # serves Cloudlet's API on a socket in a namespace


def exit_reason(returncode: int) -> str:
    """Go's words for a process state, as AWS's runtime interface reports them."""
    if returncode < 0:
        try:
            name = signal.strsignal(-returncode) or f"signal {-returncode}"
        except ValueError:
            name = f"signal {-returncode}"
        return f"signal: {name.lower()}"
    return f"exit status {returncode}"


class Environment:
    def __init__(self, spec: FunctionSpec, launch: Launch):
        self.spec = spec
        self.launch = launch
        self.id = uuid.uuid4().hex
        self.log_stream = f"{clock.now():%Y/%m/%d}/[{spec.version}]{self.id}"
        self.cond = threading.Condition()
        self.pending: Invocation | None = None
        self.current: str | None = None
        self.delivered_at = 0.0
        self.outcome: tuple[bytes, str | None, float] | None = None
        self.init_failure: tuple[bytes, str | None] | None = None
        self.init_done_at: float | None = None
        self.exit_code: int | None = None
        self.stopping = False
        self.retired = False
        self.cold = True
        self.last_used = time.monotonic()
        self.credentials_expire: float | None = None
        self.proc: subprocess.Popen | None = None
        self.cgroup: sandbox.EnvCgroup | None = None
        self.tmpdir: Path | None = None
        self.private_task: Path | None = None
        self._out_lock = threading.Lock()
        self._lines: list[str] = []
        self._partial = b""
        self._mark = 0
        self._peak_kb = 0
        self._runtime_pid: int | None = None
        self.network = EnvNetwork(launch.serve_api) if launch.network else None
        try:
            if self.network is not None:
                self.api = RuntimeAPI(self, sock=self.network.runtime_socket)
            else:
                self.api = RuntimeAPI(self, sandbox.function_uid(spec.function_arn))
        except BaseException:
            if self.network is not None:
                self.network.close()
            raise

    # --- the Runtime API's side -------------------------------------------------------

    def next_invocation(self) -> tuple[dict[str, str], bytes] | None:
        with self.cond:
            if self.init_done_at is None:
                self.init_done_at = time.monotonic()
                if self.cgroup is not None:
                    self.cgroup.limit_cpu(self.spec.memory_mb, self.runtime_pid())
            self.cond.notify_all()
            while self.pending is None and not self.stopping:
                self.cond.wait()
            if self.stopping:
                return None
            invocation, self.pending = self.pending, None
            self._drain()
            with self._out_lock:
                self._mark = len(self._lines)
            self.current = invocation.request_id
            self.outcome = None
            self.delivered_at = time.monotonic()
            self.cond.notify_all()
        deadline_ms = int((time.time() + self.spec.timeout_s) * 1000)
        headers = {
            "Lambda-Runtime-Aws-Request-Id": invocation.request_id,
            "Lambda-Runtime-Deadline-Ms": str(deadline_ms),
            "Lambda-Runtime-Invoked-Function-Arn": self.spec.function_arn,
            "Lambda-Runtime-Trace-Id": invocation.trace_id or _trace_id(),
            "Content-Type": "application/json",
        }
        if invocation.client_context:
            headers["Lambda-Runtime-Client-Context"] = _decode_client_context(
                invocation.client_context)
        if invocation.cognito_identity:
            headers["Lambda-Runtime-Cognito-Identity"] = invocation.cognito_identity
        return headers, invocation.payload

    def report(self, request_id: str, body: bytes, error_type: str | None) -> int:
        with self.cond:
            if request_id != self.current or self.outcome is not None:
                return 400
            self.outcome = (body, error_type, time.monotonic())
            self.cond.notify_all()
            return 202

    def init_error(self, body: bytes, error_type: str | None) -> int:
        with self.cond:
            if self.init_done_at is not None:
                return 403
            self.init_failure = (body, error_type or "Runtime.Unknown")
            self.cond.notify_all()
            return 202

    # --- the process ----------------------------------------------------------------

    def start(self, command: list[str], env: dict[str, str], task_root: Path, uid: int | None,
              python: bool = False):
        """Start the process: forked by the zygote (python: it runs Cloudlet's Python runtime
        itself; else it execs `command`), or, without a zygote, through `unshare`, `mount` and
        `setpriv` in a shell; both give the same sandbox."""
        spec, launch = self.spec, self.launch
        if spec.credentials is not None:
            creds = spec.credentials() or {}
            env["AWS_ACCESS_KEY_ID"] = creds.get("AccessKeyId", "")
            env["AWS_SECRET_ACCESS_KEY"] = creds.get("SecretAccessKey", "")
            env["AWS_SESSION_TOKEN"] = creds.get("SessionToken", "")
            expiration = creds.get("Expiration")
            if isinstance(expiration, int | float):
                self.credentials_expire = float(expiration)
        env["AWS_LAMBDA_RUNTIME_API"] = self.api.address
        env["AWS_LAMBDA_LOG_STREAM_NAME"] = self.log_stream
        # the kernel's limit leaves room for the tmpfs pages of /tmp and /dev/shm; the
        # function's own memory is held to memory_mb by the watchdog in _wait_outcome
        limit = spec.memory_mb + (spec.ephemeral_mb + SHM_MB if launch.namespaces else 0)
        # the zygote's PID namespace init is one more process, not the function's (in the
        # shell path, the runtime is the namespace's init)
        zygote = launch.zygote is not None and launch.zygote.alive
        processes = sandbox.PROCESS_LIMIT + (1 if launch.namespaces and zygote else 0)
        self.cgroup = launch.cgroups.create(self.id, limit, processes)
        # without a pids cgroup, RLIMIT_NPROC counts the function's uid instead
        self.process_rlimit = (sandbox.PROCESS_LIMIT if uid is not None and (
            self.cgroup is None or self.cgroup.pids is None) else 0)
        script = ["set -e"]
        if self.cgroup is not None:
            script.append(self.cgroup.join_script())
        else:
            script.append(f"ulimit -d {spec.memory_mb * 1024}")
        script.append("ulimit -n 1024 || true")
        if self.process_rlimit:
            script.append(f"prlimit --nproc={self.process_rlimit} --pid $$")
        if launch.namespaces:
            script += self._mounts(task_root)
            script.append("cd /var/task")
        else:
            self.tmpdir = launch.state_dir / f"tmp-{self.id}"
            self.tmpdir.mkdir(mode=0o700)
            if uid is not None:
                os.chown(self.tmpdir, uid, uid)
            env["TMPDIR"] = str(self.tmpdir)
            script.append(f"cd {shlex.quote(str(task_root))}")
        if zygote:
            request = self._zygote_request(task_root, uid, env, command, python)
            self.started_at = time.monotonic()
            try:
                self.proc = launch.zygote.spawn(
                    request, self.network.fd if self.network is not None else None)
            except OSError:
                self.proc = None
            if self.proc is not None:
                return self._watch()
        run = " ".join(shlex.quote(part) for part in command)
        if uid is not None:
            run = (f"setpriv --reuid={uid} --regid={uid} --clear-groups --no-new-privs "
                   f"-- {run}")
        script.append(f"exec {run}")
        self.started_at = time.monotonic()
        self.proc = subprocess.Popen(self._shell_argv(script), env=env, stdin=subprocess.DEVNULL,
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                     start_new_session=True, cwd="/",
                                     pass_fds=(self.network.fd,) if self.network else ())
        self._watch()

    def _shell_argv(self, script: list[str]) -> list[str]:
        """The same sandbox from util-linux: `unshare` makes the mount and PID namespaces
        (the runtime is their init; --kill-child takes the namespace down with unshare),
        `nsenter` the network namespace, `setpriv --pdeathsig` ties it all to Cloudlet."""
        argv = ["sh", "-c", "\n".join(script)]
        if self.launch.namespaces:
            argv = ["unshare", "-m", "--propagation", "private", "--pid", "--fork",
                    "--kill-child", "--mount-proc", *argv]
        if self.network is not None:
            argv = ["nsenter", f"--net=/proc/self/fd/{self.network.fd}", "--", *argv]
        if os.geteuid() == 0:
            argv = ["setpriv", "--pdeathsig", "KILL", "--", *argv]
        return argv

    def _watch(self):
        os.set_blocking(self.proc.stdout.fileno(), False)
        threading.Thread(target=self._read, name=f"lambda-out-{self.id[:8]}", daemon=True).start()
        threading.Thread(target=self._wait, name=f"lambda-wait-{self.id[:8]}", daemon=True).start()

    def _zygote_request(self, task_root: Path, uid: int | None, env: dict[str, str],
                        command: list[str], python: bool) -> dict:
        ns = self.launch.namespaces
        binds = [[str(task_root), "/var/task"], [str(RUNTIME_DIR), "/var/runtime"]]
        site = host_site_packages()
        if site is not None:
            binds.append([site, SITE_MOUNT])
        mounts = []
        layers = [str(p) for p in self.spec.layer_dirs]
        if not layers:
            mounts.append(["tmpfs", "tmpfs", "/opt", "ro", "size=4k,mode=755"])
        elif len(layers) == 1:
            binds.append([layers[0], "/opt"])
        else:
            mounts.append(["overlay", "overlay", "/opt", "ro",
                           "lowerdir=" + ":".join(reversed(layers))])
        for path in self.launch.hidden:
            if path.exists():
                mounts.append(["tmpfs", "tmpfs", str(path), "ro", "size=4k,mode=700"])
        mounts.append(["tmpfs", "tmpfs", "/tmp", "", f"size={self.spec.ephemeral_mb}m,mode=1777"])
        mounts.append(["tmpfs", "tmpfs", "/dev/shm", "", f"size={SHM_MB}m,mode=1777"])
        return {
            "namespaces": ns, "pid_namespace": ns, "binds": binds, "mounts": mounts, "uid": uid,
            "env": env, "cgroup_procs": self.cgroup.procs_files if self.cgroup else [],
            "data_limit": 0 if self.cgroup else self.spec.memory_mb * 1024 * 1024,
            "process_limit": self.process_rlimit,
            "cwd": "/var/task" if ns else str(task_root), "argv0": command[-1],
            "exec": None if python else command,
        }

    def _mounts(self, task_root: Path) -> list[str]:
        q = shlex.quote
        lines = [f"mount --bind -o ro {q(str(task_root))} /var/task",
                 f"mount --bind -o ro {q(str(RUNTIME_DIR))} /var/runtime"]
        site = host_site_packages()
        if site is not None:
            lines.append(f"mount --bind -o ro {q(site)} {SITE_MOUNT}")
        layers = [str(p) for p in self.spec.layer_dirs]
        if not layers:
            lines.append("mount -t tmpfs -o ro,size=4k,mode=755 tmpfs /opt")
        elif len(layers) == 1:
            lines.append(f"mount --bind -o ro {q(layers[0])} /opt")
        else:  # the last layer wins, as when AWS extracts them in order
            lower = ":".join(reversed(layers))
            lines.append(f"mount -t overlay overlay -o ro,lowerdir={q(lower)} /opt")
        for path in self.launch.hidden:
            if path.exists():
                lines.append(f"mount -t tmpfs -o ro,size=4k,mode=700 tmpfs {q(str(path))}")
        # last: the code and the layers may lie under the host's /tmp
        lines.append(f"mount -t tmpfs -o size={self.spec.ephemeral_mb}m,mode=1777 tmpfs /tmp")
        lines.append(f"mount -t tmpfs -o size={SHM_MB}m,mode=1777 tmpfs /dev/shm")
        lines.append("mount -o remount,bind,ro /")  # as on AWS: only /tmp is writable
        return lines

    def _read(self):
        fd = self.proc.stdout.fileno()
        poller = select.poll()
        poller.register(fd, select.POLLIN | select.POLLHUP)
        while True:
            try:
                poller.poll()
            except OSError:
                return
            if not self._drain():
                return

    def _drain(self) -> bool:
        """Move what the pipe holds into lines; False at end of file."""
        with self._out_lock:
            if self.proc is None or self.proc.stdout.closed:
                return False
            fd = self.proc.stdout.fileno()
            while True:
                try:
                    chunk = os.read(fd, 65536)
                except BlockingIOError:
                    return True
                except OSError:
                    return False
                if not chunk:
                    if self._partial:
                        self._lines.append(self._partial.decode("utf-8", "replace"))
                        self._partial = b""
                    return False
                data = self._partial + chunk
                *complete, self._partial = data.split(b"\n")
                self._lines.extend(line.decode("utf-8", "replace") for line in complete)
                if len(self._lines) > MAX_LINES:  # output while idle, nobody to read it
                    dropped = len(self._lines) - MAX_LINES
                    del self._lines[:dropped]
                    self._mark = max(0, self._mark - dropped)

    def _take_lines(self) -> tuple[list[str], list[str]]:
        self._drain()
        with self._out_lock:
            if self._partial:
                self._lines.append(self._partial.decode("utf-8", "replace"))
                self._partial = b""
            mark = min(self._mark, len(self._lines))
            before, during = self._lines[:mark], self._lines[mark:]
            self._lines = []
            self._mark = 0
        return before, during

    def _wait(self):
        code = self.proc.wait()
        with self.cond:
            self.exit_code = code
            self.cond.notify_all()

    @property
    def alive(self) -> bool:
        return self.exit_code is None and not self.stopping

    def fresh(self) -> bool:
        """Reusable: alive, not retired, and its credentials good for a while yet."""
        if not self.alive or self.retired:
            return False
        return self.credentials_expire is None or self.credentials_expire - clock.timestamp() > 60

    def run(self, invocation: Invocation) -> Outcome:
        memory_check = self.cgroup is not None
        memory_limit = self.spec.memory_mb * 1024 * 1024
        with self.cond:
            self.pending = invocation
            self.cond.notify_all()
            init_deadline = time.monotonic() + INIT_TIMEOUT
            while self.current != invocation.request_id:
                if self.init_failure is not None or self.exit_code is not None:
                    break
                remaining = init_deadline - time.monotonic()
                if remaining <= 0:
                    break
                self.cond.wait(remaining)
            cold = self.cold
            self.cold = False
            init_ms = None
            if cold and self.init_done_at is not None:
                init_ms = (self.init_done_at - self.started_at) * 1000
            if self.current != invocation.request_id:
                self.pending = None
                if self.init_failure is not None:
                    status, body, error_type = "init_error", *self.init_failure
                elif self.exit_code is not None:
                    status, body, error_type = "exit", b"", "Runtime.ExitError"
                else:
                    status, body, error_type = "init_timeout", b"", "Sandbox.Timedout"
                elapsed = (time.monotonic() - self.started_at) * 1000
                early = Outcome(status, body, error_type, elapsed, elapsed if cold else None)
            else:
                early = None
                outcome = self._wait_outcome(init_ms, memory_check, memory_limit)
        return self._finish(early or outcome)

    def _wait_outcome(self, init_ms, memory_check: bool, memory_limit: int) -> Outcome:
        """Called with self.cond held, once the invocation is delivered."""
        spec = self.spec
        deadline = self.delivered_at + spec.timeout_s
        while self.outcome is None and self.exit_code is None:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            self.cond.wait(min(remaining, 0.025) if memory_check else remaining)
            if memory_check and self.outcome is None and self.exit_code is None:
                self.max_memory_mb()  # keeps the peak while the process is there to ask
                anon = self.cgroup.anon_bytes()
                if anon > memory_limit:
                    self._peak_kb = max(self._peak_kb, anon // 1024)
                    self.cgroup.kill()
        if self.outcome is not None:
            body, error_type, done_at = self.outcome
            status = "ok" if error_type is None else "error"
            outcome = Outcome(status, body, error_type, (done_at - self.delivered_at) * 1000,
                              init_ms)
        elif self.exit_code is not None:
            outcome = Outcome("exit", b"", "Runtime.ExitError",
                              (time.monotonic() - self.delivered_at) * 1000, init_ms)
        else:
            outcome = Outcome("timeout", b"", "Sandbox.Timedout",
                              (time.monotonic() - self.delivered_at) * 1000, init_ms)
        return outcome

    def _finish(self, outcome: Outcome) -> Outcome:
        outcome.max_memory_mb = self.max_memory_mb()
        if (outcome.status in ("ok", "error") and self.cgroup is not None
                and outcome.max_memory_mb > self.spec.memory_mb):
            # a spike between two looks of the watchdog: AWS's limit would have killed it
            outcome.status, outcome.body, outcome.error_type = "exit", b"", "Runtime.ExitError"
            self.kill()
        if outcome.status in ("exit", "init_error", "init_timeout", "timeout"):
            if outcome.status != "exit":
                self.kill()
            if self.proc is not None:
                try:
                    self.proc.wait(5)
                except subprocess.TimeoutExpired:
                    pass
            if self.exit_code is None and self.proc is not None:
                self.exit_code = self.proc.returncode
            outcome.exit_reason = exit_reason(self.proc.returncode if self.proc and
                                              self.proc.returncode is not None else 1)
        outcome.lines_before, outcome.lines = self._take_lines()
        self.last_used = time.monotonic()
        return outcome

    def runtime_pid(self) -> int | None:
        """The runtime's process: in a PID namespace, the only child of its init."""
        if self.proc is None or not self.launch.namespaces:
            return self.proc and self.proc.pid
        if self._runtime_pid is None:
            pid = self.proc.pid
            try:
                with open(f"/proc/{pid}/task/{pid}/children") as f:
                    children = f.read().split()
            except OSError:
                children = []
            if children:
                self._runtime_pid = int(children[0])
        return self._runtime_pid or self.proc.pid

    def max_memory_mb(self) -> int:
        if self.proc is None:
            return 0
        try:
            with open(f"/proc/{self.runtime_pid()}/status", "rb") as f:
                for line in f:
                    if line.startswith(b"VmHWM:"):
                        self._peak_kb = max(self._peak_kb, int(line.split()[1]))
                        break
        except (OSError, ValueError):
            pass
        if self.cgroup is not None and self.proc.poll() is not None and self.cgroup.hit_limit():
            self._peak_kb = max(self._peak_kb, self.spec.memory_mb * 1024)
        return math.ceil(self._peak_kb / 1024)

    def kill(self):
        if self.cgroup is not None:
            self.cgroup.kill()
        if self.proc is not None and self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except OSError:
                pass

    def stop(self) -> threading.Thread:
        """Kill the process tree and release everything, in the background."""
        with self.cond:
            self.stopping = True
            self.cond.notify_all()
        thread = threading.Thread(target=self._teardown, name=f"lambda-stop-{self.id[:8]}",
                                  daemon=True)
        thread.start()
        return thread

    def _teardown(self):
        self.kill()
        if self.proc is not None:
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                pass
        self.api.close()
        if self.network is not None:
            self.network.close()
        if self.cgroup is not None:
            self.cgroup.kill()
            self.cgroup.remove()
        for path in (self.tmpdir, self.private_task):
            if path is not None:
                shutil.rmtree(path, ignore_errors=True)
        if self.proc is not None and self.proc.stdout is not None:
            with self._out_lock:
                self.proc.stdout.close()


def _trace_id() -> str:
    return f"Root=1-{int(time.time()):08x}-{uuid.uuid4().hex[:24]};Parent={uuid.uuid4().hex[:16]};Sampled=0"


def _decode_client_context(value: str) -> str:
    """The Invoke API carries it base64-encoded; the Runtime API hands out the JSON."""
    import base64
    import binascii

    try:
        decoded = base64.b64decode(value, validate=True).decode()
        json.loads(decoded)
        return decoded
    except (binascii.Error, ValueError):
        return value
