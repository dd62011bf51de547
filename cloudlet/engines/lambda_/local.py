"""LocalEngine: Lambda's execution environments as local processes (environment.py),
pooled per FunctionSpec.key: reused while warm, reaped when idle (CLOUDLET_LAMBDA_IDLE
seconds, default 300), replaced when they crash, retired when their code or configuration
changes or their credentials near expiry. Results carry AWS's error payloads and the
START/END/REPORT lines as AWS writes them.

As root, each environment has its own network namespace (network.py) where Cloudlet's API
is served by `serve_api` (the gateway's in-cloud listener, set before the first invocation),
and AWS_ENDPOINT_URL points there; without `serve_api`, nothing answers there."""

from __future__ import annotations

import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from functools import cache
from pathlib import Path

from cloudlet.engines.lambda_ import network, sandbox
from cloudlet.engines.lambda_.engine import FunctionSpec, Invocation, LambdaEngine, Result
from cloudlet.engines.lambda_.environment import (
    RUNTIME_DIR,
    SITE_MOUNT,
    Environment,
    Launch,
    Outcome,
)
from cloudlet.engines.lambda_.zygote import Zygote


@cache
def node_version() -> str:
    node = shutil.which("node") or "/usr/bin/node"
    try:
        out = subprocess.run([node, "--version"], capture_output=True, text=True, timeout=10)
        return out.stdout.strip().lstrip("v")
    except (OSError, subprocess.SubprocessError):
        return ""


def runtime_info(runtime: str) -> dict:
    """What actually runs a runtime here: {"Runtime", "Host", "Matches", "Message"}."""
    if runtime.startswith("python"):
        host = sandbox.host_python()[1]
        wanted = runtime.removeprefix("python")
        matches = ".".join(host.split(".")[:2]) == wanted
        label = f"Python {host}"
    elif runtime.startswith("nodejs"):
        host = node_version()
        wanted = runtime.removeprefix("nodejs").removesuffix(".x")
        matches = bool(host) and host.split(".")[0] == wanted
        label = f"Node.js {host}" if host else "no Node.js"
    elif runtime.startswith("provided"):
        return {"Runtime": runtime, "Host": "the function's own bootstrap", "Matches": True,
                "Message": ""}
    else:
        return {"Runtime": runtime, "Host": "", "Matches": False,
                "Message": f"{runtime} is not available on this host"}
    message = "" if matches else f"{runtime} runs on the host's {label}"
    return {"Runtime": runtime, "Host": label, "Matches": matches, "Message": message}


class LocalEngine(LambdaEngine):
    def __init__(self, hidden_paths: tuple[Path, ...] = (), state_dir: Path | None = None,
                 idle_seconds: float | None = None):
        self.idle_seconds = (float(os.environ.get("CLOUDLET_LAMBDA_IDLE", "300"))
                             if idle_seconds is None else idle_seconds)
        self._hidden = tuple(Path(p).resolve() for p in hidden_paths)
        self._state_dir = state_dir
        self._lock = threading.Lock()
        self._idle: dict[str, list[Environment]] = defaultdict(list)
        self._busy: set[Environment] = set()
        self._active: dict[str, int] = defaultdict(int)
        self._launch: Launch | None = None
        self._reaper: threading.Thread | None = None
        self._closed = threading.Event()
        self._teardowns: list[threading.Thread] = []
        self._serve_api: network.ServeApi | None = None

    @property
    def serve_api(self) -> network.ServeApi | None:
        """serve_api(sock) -> stop(): serves Cloudlet's API on a listening socket made in an
        environment's namespace, as a request from inside the cloud."""
        return self._serve_api

    @serve_api.setter
    def serve_api(self, serve: network.ServeApi | None) -> None:
        self._serve_api = serve
        if self._launch is not None:
            self._launch.serve_api = serve

    # --- the interface ------------------------------------------------------------------

    def start(self) -> None:
        sandbox.Cgroups.reap()

    def invoke(self, spec: FunctionSpec, invocation: Invocation) -> Result:
        with self._lock:
            self._active[spec.key] += 1
        try:
            failure = self._check(spec)
            if failure is not None:
                return self._error_result(spec, invocation, *failure)
            try:
                env = self._checkout(spec)
            except Exception as e:  # noqa: BLE001 - the caller gets AWS's shape, not a trace
                return self._error_result(spec, invocation, "Runtime.Unknown",
                                          f"The execution environment could not start: {e}")
            outcome = env.run(invocation)
            self._checkin(env)
            return self._result(spec, env, invocation, outcome)
        finally:
            with self._lock:
                self._active[spec.key] -= 1
                if not self._active[spec.key]:
                    del self._active[spec.key]

    def active(self, key_prefix: str = "") -> int:
        with self._lock:
            return sum(n for key, n in self._active.items() if key.startswith(key_prefix))

    def retire(self, key_prefix: str) -> None:
        with self._lock:
            stopping = []
            for key in [k for k in self._idle if k.startswith(key_prefix)]:
                stopping += self._idle.pop(key)
            for env in self._busy:
                if env.spec.key.startswith(key_prefix):
                    env.retired = True
        for env in stopping:
            self._stop(env)

    def shutdown(self) -> None:
        self._closed.set()
        with self._lock:
            envs = [e for group in self._idle.values() for e in group] + list(self._busy)
            self._idle.clear()
        teardowns = [env.stop() for env in envs] + self._teardowns
        deadline = time.monotonic() + 10
        for thread in teardowns:
            thread.join(max(0.0, deadline - time.monotonic()))
        if self._launch is not None:
            launch, self._launch = self._launch, None
            launch.cgroups.close()
            if launch.zygote is not None:
                launch.zygote.close()
            shutil.rmtree(launch.state_dir, ignore_errors=True)

    def runtime_info(self, runtime: str) -> dict:
        return runtime_info(runtime)

    def environments(self, key_prefix: str = "") -> int:
        """Environments alive now, warm or busy (for tests and metrics)."""
        with self._lock:
            idle = sum(len(g) for k, g in self._idle.items() if k.startswith(key_prefix))
            return idle + sum(1 for e in self._busy if e.spec.key.startswith(key_prefix))

    # --- the pool -----------------------------------------------------------------------

    def _stop(self, env: Environment):
        thread = env.stop()
        with self._lock:
            self._teardowns = [t for t in self._teardowns if t.is_alive()] + [thread]

    def _setup(self) -> Launch:
        with self._lock:
            if self._launch is None:
                state = self._state_dir or Path(tempfile.mkdtemp(prefix="cloudlet-lambda-"))
                state.mkdir(parents=True, exist_ok=True)
                os.chmod(state, 0o711)
                self._launch = Launch(namespaces=sandbox.mount_namespaces(),
                                      cgroups=sandbox.Cgroups(), state_dir=state,
                                      hidden=self._hidden + (state,), python=sandbox.host_python()[0],
                                      node=shutil.which("node") or "/usr/bin/node",
                                      network=network.available(), serve_api=self._serve_api)
                if os.environ.get("CLOUDLET_LAMBDA_ZYGOTE", "").lower() != "off":
                    try:
                        self._launch.zygote = Zygote(self._launch.python)
                    except OSError:
                        self._launch.zygote = None
                self._reaper = threading.Thread(target=self._reap, name="lambda-reaper",
                                                daemon=True)
                self._reaper.start()
            return self._launch

    def _checkout(self, spec: FunctionSpec) -> Environment:
        launch = self._setup()
        stale = []
        env = None
        with self._lock:
            pool = self._idle.get(spec.key, [])
            while pool:
                candidate = pool.pop()
                if candidate.fresh():
                    env = candidate
                    break
                stale.append(candidate)
            if env is not None:
                self._busy.add(env)
        for old in stale:
            self._stop(old)
        if env is not None:
            return env
        for root in (spec.code_dir, *spec.layer_dirs):
            _open_to_mount(Path(root))
        env = Environment(spec, launch)
        with self._lock:
            self._busy.add(env)
        try:
            self._start(env, spec, launch)
        except BaseException:
            with self._lock:
                self._busy.discard(env)
            self._stop(env)
            raise
        return env

    def _start(self, env: Environment, spec: FunctionSpec, launch: Launch):
        uid = sandbox.function_uid(spec.function_arn)
        task_root = Path(spec.code_dir)
        if not launch.namespaces:
            # no bind mount: a private copy the function's uid alone can read
            task_root = env.private_task = launch.state_dir / f"task-{env.id}"
            shutil.copytree(spec.code_dir, task_root, symlinks=True)
            if uid is not None:
                for path in (task_root, *task_root.rglob("*")):
                    os.lchown(path, uid, uid)
            task_root.chmod(0o700)
        command, variables = self._command(spec, launch, task_root)
        env.start(command, variables, task_root, uid, python=spec.runtime.startswith("python"))

    def _checkin(self, env: Environment):
        with self._lock:
            self._busy.discard(env)
            keep = env.fresh() and not self._closed.is_set()
            if keep:
                self._idle[env.spec.key].append(env)
        if not keep:
            self._stop(env)

    def _reap(self):
        while not self._closed.wait(min(5.0, max(0.2, self.idle_seconds / 4))):
            now = time.monotonic()
            expired = []
            with self._lock:
                for key in list(self._idle):
                    pool = self._idle[key]
                    keep = [e for e in pool if now - e.last_used < self.idle_seconds and e.alive]
                    expired += [e for e in pool if e not in keep]
                    if keep:
                        self._idle[key] = keep
                    else:
                        del self._idle[key]
            for env in expired:
                self._stop(env)

    # --- runtimes -----------------------------------------------------------------------

    def _check(self, spec: FunctionSpec) -> tuple[str, str] | None:
        if spec.runtime.startswith("provided"):
            if self._bootstrap(spec) is None:
                roots = "/var/task/bootstrap /opt/bootstrap"
                return "Runtime.InvalidEntrypoint", f"Couldn't find valid bootstrap(s): [{roots}]"
        elif spec.runtime.startswith("nodejs"):
            if not shutil.which("node"):
                return "Runtime.InvalidRuntime", f"{spec.runtime} is not available on this host"
        elif not spec.runtime.startswith("python"):
            return ("Runtime.InvalidRuntime",
                    f"Cloudlet runs python3.x, nodejs* and provided.* functions; {spec.runtime} "
                    "is not available on this host")
        return None

    @staticmethod
    def _bootstrap(spec: FunctionSpec) -> Path | None:
        for root in (spec.code_dir, *reversed(spec.layer_dirs)):
            path = Path(root) / "bootstrap"
            if path.is_file():
                mode = path.stat().st_mode
                if not mode & 0o111:
                    try:  # zip tools often lose the execute bit
                        path.chmod(mode | 0o555)
                    except OSError:
                        pass
                return path
        return None

    def _command(self, spec: FunctionSpec, launch: Launch, task_root: Path
                 ) -> tuple[list[str], dict]:
        ns = launch.namespaces
        task = "/var/task" if ns else str(task_root)
        runtime_dir = "/var/runtime" if ns else str(RUNTIME_DIR)
        opt = "/opt" if ns else (str(spec.layer_dirs[-1]) if spec.layer_dirs else "/opt")
        pyver = ".".join(sandbox.host_python()[1].split(".")[:2])
        env = {
            "PATH": f"{os.path.dirname(launch.python)}:/usr/local/bin:/usr/bin/:/bin:{opt}/bin",
            "LD_LIBRARY_PATH": f"/lib64:/usr/lib64:{runtime_dir}:{runtime_dir}/lib:{task}:"
                               f"{task}/lib:{opt}/lib",
            "LANG": "en_US.UTF-8",
            "TZ": ":UTC",
        }
        if spec.runtime.startswith("python"):
            # -S: no site module (Cloudlet's .pth files cost ~50 ms); the host's
            # site-packages (boto3) come last on the path instead, as /var/runtime's do on AWS
            site = ":".join(p for p in sys.path if p.endswith("-packages"))
            if ns:  # the host's may be hidden in the sandbox (under /tmp): boto3's is bound
                site = f"{SITE_MOUNT}:{site}"
            env["PYTHONPATH"] = (f"{task}:{opt}/python/lib/python{pyver}/site-packages:"
                                 f"{opt}/python:{site}")
            env["PYTHONUNBUFFERED"] = "1"
            command = [launch.python, "-S", f"{runtime_dir}/bootstrap.py"]
        elif spec.runtime.startswith("nodejs"):
            major = node_version().split(".")[0]
            env["NODE_PATH"] = (f"{opt}/nodejs/node{major}/node_modules:{opt}/nodejs/node_modules:"
                                f"{runtime_dir}/node_modules:{runtime_dir}:{task}")
            command = [launch.node, f"{runtime_dir}/bootstrap.js"]
        else:
            bootstrap = self._bootstrap(spec)
            if ns:
                in_code = bootstrap.parent == Path(spec.code_dir)
                command = ["/var/task/bootstrap" if in_code else "/opt/bootstrap"]
            else:
                in_code = bootstrap.parent == Path(spec.code_dir)
                command = [str(task_root / "bootstrap") if in_code else str(bootstrap)]
        env.update(spec.environment)
        if launch.network:
            env.setdefault("AWS_ENDPOINT_URL", network.endpoint_inside(spec.endpoint_url))
        elif spec.endpoint_url:
            env.setdefault("AWS_ENDPOINT_URL", spec.endpoint_url)
        env.update({
            "AWS_LAMBDA_FUNCTION_NAME": spec.function_name,
            "AWS_LAMBDA_FUNCTION_VERSION": spec.version,
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(spec.memory_mb),
            "AWS_LAMBDA_LOG_GROUP_NAME": spec.log_group or f"/aws/lambda/{spec.function_name}",
            "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
            "AWS_REGION": spec.region,
            "AWS_DEFAULT_REGION": spec.region,
            "AWS_EXECUTION_ENV": f"AWS_Lambda_{spec.runtime}",
            "_HANDLER": spec.handler,
            "LAMBDA_TASK_ROOT": task,
            "LAMBDA_RUNTIME_DIR": runtime_dir,
        })
        return command, env

    # --- results ------------------------------------------------------------------------

    def _result(self, spec: FunctionSpec, env: Environment, invocation: Invocation,
                outcome: Outcome) -> Result:
        rid = invocation.request_id
        lines = list(outcome.lines_before)
        if outcome.init_ms is not None:
            info = runtime_info(spec.runtime)
            family = spec.runtime.rstrip("0123456789.x")
            version = info["Host"].split(" ")[-1] if family in ("python", "nodejs") else \
                spec.runtime.removeprefix("provided.") or "al2"
            lines.insert(0, f"INIT_START Runtime Version: {family.rstrip('.')}:{version}\t"
                            f"Runtime Version ARN: arn:aws:lambda:{spec.region}::runtime:"
                            f"cloudlet-host-{family.rstrip('.')}-{version}")
            if info["Message"]:
                lines.insert(1, f"Cloudlet: {info['Message']}")
        payload, error, error_type = outcome.body, None, outcome.error_type
        status = ""
        if outcome.status == "error":
            error = "Unhandled"
        elif outcome.status == "init_error":
            error = "Unhandled"
            status = f"Status: error\tError Type: {error_type}\t"
            lines += outcome.lines
            outcome.lines = []
        elif outcome.status in ("timeout", "init_timeout"):
            error = "Unhandled"
            seconds = spec.timeout_s if outcome.status == "timeout" else outcome.duration_ms / 1000
            message = f"Task timed out after {seconds:.2f} seconds"
            payload = json.dumps({"errorMessage": f"RequestId: {rid} Error: {message}",
                                  "errorType": "Sandbox.Timedout"}).encode()
            outcome.lines.append(f"{_now_iso()} {rid} {message}")
            status = "Status: timeout\t"
        elif outcome.status == "exit":
            error = "Unhandled"
            message = f"Runtime exited with error: {outcome.exit_reason}"
            payload = json.dumps({"errorMessage": f"RequestId: {rid} Error: {message}",
                                  "errorType": "Runtime.ExitError"}).encode()
            outcome.lines.append(f"RequestId: {rid} Error: {message}")
            outcome.lines.append("Runtime.ExitError")
            status = "Status: error\tError Type: Runtime.ExitError\t"
        duration = outcome.duration_ms
        billed = max(1, math.ceil(duration))
        report = (f"REPORT RequestId: {rid}\tDuration: {duration:.2f} ms\tBilled Duration: "
                  f"{billed} ms\tMemory Size: {spec.memory_mb} MB\tMax Memory Used: "
                  f"{outcome.max_memory_mb} MB\t")
        if outcome.init_ms is not None:
            report += f"Init Duration: {outcome.init_ms:.2f} ms\t"
        report += status
        lines += [f"START RequestId: {rid} Version: {spec.version}", *outcome.lines,
                  f"END RequestId: {rid}", report]
        return Result(request_id=rid, payload=payload, error=error, error_type=error_type,
                      log_lines=lines, duration_ms=duration, billed_ms=billed,
                      init_ms=outcome.init_ms, max_memory_mb=outcome.max_memory_mb,
                      log_stream=env.log_stream)

    def _error_result(self, spec: FunctionSpec, invocation: Invocation, error_type: str,
                      message: str) -> Result:
        rid = invocation.request_id
        payload = json.dumps({"errorMessage": message, "errorType": error_type}).encode()
        return Result(request_id=rid, payload=payload, error="Unhandled", error_type=error_type,
                      log_lines=[f"START RequestId: {rid} Version: {spec.version}",
                                 f"{message}\t{error_type}", f"END RequestId: {rid}",
                                 f"REPORT RequestId: {rid}\tDuration: 0.00 ms\tBilled Duration: "
                                 f"0 ms\tMemory Size: {spec.memory_mb} MB\tMax Memory Used: 0 MB\t"
                                 f"Status: error\tError Type: {error_type}\t"],
                      log_stream="")


def _open_to_mount(root: Path):
    """The function reads its code through a bind mount, so the code's top directory must be
    readable by others; its parents (Cloudlet's data directory) keep it out of their reach."""
    try:
        mode = root.stat().st_mode
        if mode & 0o005 != 0o005:
            root.chmod(mode | 0o555)
    except OSError:
        pass


def _now_iso() -> str:
    from cloudlet import clock

    return clock.now().strftime("%Y-%m-%dT%H:%M:%S.") + f"{clock.now().microsecond // 1000:03d}Z"
