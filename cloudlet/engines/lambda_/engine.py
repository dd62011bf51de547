"""The interface between the Lambda provider and the execution environments.

The provider owns the API, the records, code storage, concurrency limits, triggers, logs
and metrics; the engine owns the processes: it starts an execution environment for a
function version (cold start), hands it invocations through the Runtime API, reuses it
while warm, reaps it when idle, and enforces memory, timeout and /tmp limits.

The implementation is `cloudlet.engines.lambda_.LocalEngine` (local.py): construct it once,
`LocalEngine(hidden_paths=(settings.data_dir,))`, and call shutdown() when Cloudlet stops.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class FunctionSpec:
    """One function version, as the engine needs it. Two specs with the same `key` may
    share warm environments; a new key (code or configuration changed) never does."""

    key: str                        # e.g. "<function arn>:<version>:<code sha256>:<config hash>"
    function_name: str
    function_arn: str               # qualified ARN of the version invoked
    version: str                    # "$LATEST" or "1", "2", ...
    account: str
    region: str
    runtime: str                    # "python3.12", "nodejs20.x", "provided.al2023", ...
    handler: str                    # "app.handler" (unused by provided.*)
    code_dir: Path                  # the unzipped code (read-only for the function)
    layer_dirs: tuple[Path, ...] = ()  # unzipped layers, merged under /opt in order
    memory_mb: int = 128
    timeout_s: float = 3.0
    ephemeral_mb: int = 512
    environment: dict[str, str] = field(default_factory=dict)
    log_group: str = ""             # "/aws/lambda/<name>"
    endpoint_url: str = ""          # Cloudlet's own endpoint: AWS_ENDPOINT_URL in the function
    credentials: Callable[[], dict] | None = None
    # returns the execution role's temporary credentials
    # {"AccessKeyId", "SecretAccessKey", "SessionToken", "Expiration": epoch seconds}


@dataclass
class Invocation:
    request_id: str
    payload: bytes                  # the event, JSON
    client_context: str | None = None  # base64 JSON, as the Lambda-Runtime-Client-Context header
    cognito_identity: str | None = None
    trace_id: str | None = None


@dataclass
class Result:
    request_id: str
    payload: bytes                  # the response, or the runtime's error JSON
    error: str | None = None        # None, or "Unhandled" (a function error)
    error_type: str | None = None   # "Runtime.ExitError", "Sandbox.Timedout", ... where AWS says so
    log_lines: list[str] = field(default_factory=list)  # stdout/stderr plus START/END/REPORT
    duration_ms: float = 0.0
    billed_ms: int = 0
    init_ms: float | None = None    # only on a cold start
    max_memory_mb: int = 0
    log_stream: str = ""            # "2026/11/26/[$LATEST]<environment id>"


class LambdaEngine:
    """Implemented in this package; the provider calls only these methods."""

    # serve_api(sock) -> stop(): serves Cloudlet's API on a listening socket made in an
    # environment's network namespace, marked as coming from inside the cloud (the gateway's
    # in-cloud listener); set by the provider before the first invocation
    serve_api = None

    def start(self) -> None:
        """Reap what an earlier Cloudlet, killed, left behind (called once at start)."""

    def invoke(self, spec: FunctionSpec, invocation: Invocation) -> Result:
        """Run one invocation to completion on a warm environment of spec.key, or a new one.
        Blocks (never call it on the event loop). Timeouts, crashes and memory overflow come
        back as a Result with AWS's error payload, never as an exception."""
        raise NotImplementedError

    def active(self, key_prefix: str = "") -> int:
        """Invocations running now (for ConcurrentExecutions and reserved concurrency)."""
        raise NotImplementedError

    def retire(self, key_prefix: str) -> None:
        """Stop the environments whose key starts with key_prefix (code updated, deleted)."""
        raise NotImplementedError

    def shutdown(self) -> None:
        """Stop every environment (Cloudlet is stopping)."""
        raise NotImplementedError

    def runtime_info(self, runtime: str) -> dict:
        """What really runs `runtime` here, for GetFunction and the logs:
        {"Runtime": "python3.12", "Host": "Python 3.11.2", "Matches": False,
         "Message": "python3.12 runs on the host's Python 3.11.2"} (Message "" when it matches)."""
        return {"Runtime": runtime, "Host": "", "Matches": True, "Message": ""}
