"""Invoking Lambda functions, and what triggers them.

    Invoke            RequestResponse (6 MB each way), Event (1 MB, the durable queue of
                      async_queue.py), DryRun; LogType Tail; X-Amz-Function-Error
    concurrency       the regional limit (CLOUDLET_LAMBDA_CONCURRENCY, default 1000) shared by
                      functions without reserved concurrency; reserved concurrency caps its
                      function; beyond either, TooManyRequestsException with AWS's Reason
    logs, metrics     every invocation's lines to /aws/lambda/<name> (bus `logs:put`), and
                      AWS/Lambda metrics (bus `cloudwatch:metrics`)
    triggers.py       S3 notifications, SNS, alarms, Logs subscriptions: checked against the
                      function's resource policy, then queued as Event invokes
    urls_http.py      function URLs served on Cloudlet's port (API Gateway v2 payload 2.0)

The engine (cloudlet/engines/lambda_) runs the code; this side decides whether and what it
runs, and reports what happened.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import secrets
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

from cloudlet import clock
from cloudlet.engines.lambda_.engine import FunctionSpec, Invocation, Result
from cloudlet.services.base import RequestContext
from cloudlet.services.lambda_ import errors
from cloudlet.services.lambda_.async_queue import AsyncQueue, Throttled
from cloudlet.services.lambda_.telemetry import Telemetry
from cloudlet.services.lambda_.triggers import TriggerOperations
from cloudlet.services.lambda_.urls_http import FunctionUrlServing

try:  # the engine helper's implementation; Invoke answers without it only if it is missing
    from cloudlet.engines.lambda_ import LocalEngine
except ImportError:  # pragma: no cover
    LocalEngine = None

log = logging.getLogger("cloudlet.lambda.invoke")

REQUEST_LIMIT = 6_291_456
ASYNC_LIMIT = 1_048_576
RESPONSE_LIMIT = 6_291_456
TAIL_BYTES = 4096
RESERVED_TTL = 1.0


class _Throttle(Exception):
    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


class Concurrency:
    """Invocations running now, per function (unqualified ARN) and in the region."""

    def __init__(self):
        self._lock = threading.Lock()
        self.running: dict[str, int] = {}
        self.unreserved: dict[tuple[str, str], int] = {}
        self.total: dict[tuple[str, str], int] = {}

    def acquire(self, scope: tuple[str, str], function: str, reserved: int | None,
                unreserved_limit: int) -> int:
        with self._lock:
            if reserved is not None:
                if self.running.get(function, 0) >= reserved:
                    raise _Throttle("ReservedFunctionConcurrentInvocationLimitExceeded")
            else:
                if self.unreserved.get(scope, 0) >= unreserved_limit:
                    raise _Throttle("ConcurrentInvocationLimitExceeded")
                self.unreserved[scope] = self.unreserved.get(scope, 0) + 1
            self.running[function] = self.running.get(function, 0) + 1
            self.total[scope] = self.total.get(scope, 0) + 1
            return self.total[scope]

    def release(self, scope: tuple[str, str], function: str, reserved: int | None) -> None:
        with self._lock:
            if reserved is None:
                self.unreserved[scope] -= 1
            self.running[function] -= 1
            if not self.running[function]:
                del self.running[function]
            self.total[scope] -= 1


def check_json(payload: bytes) -> bytes:
    """The payload as the function gets it: JSON, `{}` when empty."""
    if not payload.strip():
        return b"{}"
    try:
        json.loads(payload)
    except UnicodeDecodeError:
        raise errors.InvalidRequestContent(
            "Could not parse request body into json: Could not parse payload into json: "
            "Invalid UTF-8 start byte") from None
    except ValueError as error:
        raise errors.InvalidRequestContent(
            "Could not parse request body into json: Could not parse payload into json: "
            f"{error.msg}: at [Source: (byte[])\"{payload[:60].decode('utf-8', 'replace')}\"; "
            f"line: {error.lineno}, column: {error.colno}]") from None
    return payload


def tail(lines: list[str]) -> str:
    text = "".join(line if line.endswith("\n") else line + "\n" for line in lines).encode()
    return base64.b64encode(text[-TAIL_BYTES:]).decode()


class InvokeOperations(TriggerOperations, FunctionUrlServing):
    def __init__(self, store, bus=None):
        super().__init__(store, bus)
        # the engine's own state lives outside the data directory, which functions cannot see
        self.engine = (LocalEngine(hidden_paths=(store.root,))
                       if LocalEngine is not None else None)
        self.concurrency = Concurrency()
        self.invoke_pool = ThreadPoolExecutor(self.concurrency_limit() + 16,
                                              thread_name_prefix="lambda-invoke")
        self.async_queue = AsyncQueue(self, store.db)
        self.telemetry = Telemetry(self.bus)
        self._reserved: dict[tuple[str, str], tuple[float, int]] = {}
        self.subscribe_triggers()

    def attach_in_cloud(self, serve) -> None:
        """Functions reach Cloudlet's API on a socket in their own namespace (AWS_ENDPOINT_URL)."""
        if self.engine is not None:
            self.engine.serve_api = serve

    def start(self) -> None:
        super().start()
        if self.engine is not None:
            self.engine.start()  # what a Cloudlet killed earlier left running
        self.async_queue.start()

    def stop(self) -> None:
        self.async_queue.stop()
        self.telemetry.stop()
        if self.engine is not None:
            self.engine.shutdown()
        self.invoke_pool.shutdown(wait=False, cancel_futures=True)
        super().stop()

    # -- Invoke ---------------------------------------------------------------------------
    async def invoke(self, ctx: RequestContext, params: dict) -> dict:
        """Runs on Lambda's own threads (as many as the concurrency limit allows), so
        functions running for minutes never hold the gateway's shared workers."""
        return await asyncio.get_running_loop().run_in_executor(
            self.invoke_pool, self.invoke_now, ctx, params)

    def invoke_now(self, ctx: RequestContext, params: dict) -> dict:
        self.note_endpoint(ctx)
        kind = params.get("InvocationType") or "RequestResponse"
        payload = params.get("Payload") or b""
        if isinstance(payload, str):
            payload = payload.encode()
        limit = ASYNC_LIMIT if kind == "Event" else REQUEST_LIMIT
        if len(payload) > limit:
            raise errors.RequestTooLarge(
                f"Request must be smaller than {limit} bytes for the InvokeFunction operation")
        payload = check_json(payload)
        _, _, qualifier = self.locate(ctx.account_id, ctx.region, params["FunctionName"],
                                      params.get("Qualifier"))
        spec = self.function_spec(ctx.account_id, ctx.region, params["FunctionName"],
                                  params.get("Qualifier"))
        record = self.invoke_record(spec)
        if record.get("State") == "Pending":
            raise errors.ResourceConflict(
                "The operation cannot be performed at this time. The function is currently "
                "in the following state: Pending")
        if kind == "DryRun":
            return {"StatusCode": 204, "Payload": b""}
        if kind == "Event":
            self.async_queue.put(spec.account, spec.region, spec.function_name,
                                 qualifier, payload, {"api": True},
                                 request_id=ctx.request_id)
            return {"StatusCode": 202, "Payload": b""}
        result = self.run(spec, record, Invocation(
            request_id=ctx.request_id, payload=payload,
            client_context=params.get("ClientContext")), qualifier=qualifier)
        out = {"StatusCode": 200, "ExecutedVersion": spec.version, "Payload": result.payload}
        if result.error:
            out["FunctionError"] = result.error
        if params.get("LogType") == "Tail":
            out["LogResult"] = tail(result.log_lines)
        return out

    async def invoke_with_response_stream(self, ctx: RequestContext, params: dict) -> dict:
        """The response as an event stream: the engine answers whole, so it is one
        PayloadChunk, then InvokeComplete (with ErrorCode/ErrorDetails/LogResult)."""
        kind = params.get("InvocationType") or "RequestResponse"
        out = await self.invoke(ctx, {**params, "InvocationType": kind})

        async def events():
            payload = out.get("Payload") or b""
            if kind == "RequestResponse" and not out.get("FunctionError"):
                yield {"PayloadChunk": {"Payload": payload}}
            complete = {}
            if out.get("FunctionError"):
                try:
                    error = json.loads(payload)
                except ValueError:
                    error = {}
                complete["ErrorCode"] = (error.get("errorType") if isinstance(error, dict)
                                         else None) or out["FunctionError"]
                complete["ErrorDetails"] = payload.decode("utf-8", "replace")
            if out.get("LogResult"):
                complete["LogResult"] = out["LogResult"]
            yield {"InvokeComplete": complete}

        return {"StatusCode": out["StatusCode"], "ExecutedVersion": out.get("ExecutedVersion"),
                "ResponseStreamContentType": "application/octet-stream",
                "EventStream": events() if kind == "RequestResponse" else None}

    def invoke_async(self, ctx: RequestContext, params: dict) -> dict:
        """The deprecated InvokeAsync: an Event invoke answering 202 {"Status": 202}."""
        body = params.get("InvokeArgs") or b""
        if not isinstance(body, bytes):
            body = body.read() if hasattr(body, "read") else str(body).encode()
        self.invoke_now(ctx, {"FunctionName": params["FunctionName"],
                              "InvocationType": "Event", "Payload": body})
        return {"Status": 202}

    def invoke_record(self, spec: FunctionSpec) -> dict:
        """What a synchronous invoke needs beside the spec: the version's state and the
        function's reserved concurrency (two reads, not function_record's five)."""
        version = self.lambdas.get("lambda_versions", spec.account, spec.region,
                                   spec.function_name, spec.version) or {}
        function = self.lambdas.function(spec.account, spec.region, spec.function_name) or {}
        pending = clock.timestamp() < version.get("_pending_until", 0)
        return {"State": "Pending" if pending else "Active",
                "ReservedConcurrentExecutions": function.get("Concurrency")}

    # -- running one invocation --------------------------------------------------------------
    def reserved_total(self, account: str, region: str) -> int:
        key = (account, region)
        now = time.monotonic()
        found = self._reserved.get(key)
        if found is None or now - found[0] > RESERVED_TTL:
            total = 0
            for row in self.store.db.query("SELECT doc FROM lambda_functions WHERE account=? "
                                           "AND region=?", key):
                total += json.loads(row["doc"]).get("Concurrency") or 0
            found = self._reserved[key] = (now, total)
        return found[1]

    def run(self, spec: FunctionSpec, record: dict, invocation: Invocation,
            qualifier: str | None = None, throttle_error: bool = True) -> Result:
        """Run one invocation within the concurrency limits, then write its logs and
        metrics. Raises TooManyRequestsException (or Throttled for async events)."""
        scope = (spec.account, spec.region)
        function = spec.function_arn.rsplit(":", 1)[0]
        reserved = record.get("ReservedConcurrentExecutions")
        try:
            running = self.concurrency.acquire(
                scope, function, reserved,
                self.concurrency_limit() - self.reserved_total(*scope))
        except _Throttle as throttle:
            self.metrics(spec, qualifier, [("Throttles", 1, "Count")])
            if not throttle_error:
                raise Throttled() from None
            raise errors.TooManyRequests(fields={"Reason": throttle.reason, "Type": "User"},
                                  headers={"Retry-After": "1"}) from None
        started = clock.timestamp()
        try:
            if self.engine is None:
                raise errors.InvalidParameterValue("No Lambda engine is available.")
            result = self.engine.invoke(spec, invocation)
        finally:
            self.concurrency.release(scope, function, reserved)
        if len(result.payload) > RESPONSE_LIMIT:
            result.payload = json.dumps({
                "errorMessage": "Response payload size exceeded maximum allowed payload size "
                                f"({RESPONSE_LIMIT + 100} bytes).",
                "errorType": "Function.ResponseSizeTooLarge"}).encode()
            result.error = "Unhandled"
        self.write_logs(spec, result, started)
        self.metrics(spec, qualifier, [
            ("Invocations", 1, "Count"), ("Errors", 1 if result.error else 0, "Count"),
            ("Duration", round(result.duration_ms, 2), "Milliseconds"),
            ("ConcurrentExecutions", running, "Count")])
        return result

    def run_async(self, row: dict, age: float) -> tuple[Result, str]:
        """One attempt of a queued event (called by the async queue's workers)."""
        spec = self.function_spec(row["account"], row["region"], row["function"],
                                  row["qualifier"])
        record = self.function_record(spec.account, spec.region, spec.function_name,
                                      spec.version)
        if row["attempts"] == 0:
            self.async_metrics(spec.account, spec.region, spec.function_name,
                               age_ms=age * 1000)
        # AWS keeps the request id across retries; the engine tells invocations apart by
        # it within one warm environment, so a retry runs under a fresh id (the destination
        # record still carries the original).
        request_id = row["id"] if row["attempts"] == 0 else str(uuid.uuid4())
        result = self.run(spec, record, Invocation(request_id=request_id,
                                                    payload=row["payload"]),
                          qualifier=row["qualifier"], throttle_error=False)
        return result, spec.version

    # -- logs and metrics ---------------------------------------------------------------------
    def write_logs(self, spec: FunctionSpec, result: Result, started: float) -> None:
        if not result.log_lines:
            return
        stream = result.log_stream or (
            f"{datetime.fromtimestamp(started, UTC):%Y/%m/%d}/[{spec.version}]"
            f"{secrets.token_hex(16)}")
        first = int(started * 1000)
        last = max(first, int(clock.timestamp() * 1000))
        events = [{"timestamp": first if i == 0 else last, "message": line.rstrip("\n")}
                  for i, line in enumerate(result.log_lines)]
        self.telemetry.log(spec.account, spec.region,
                           spec.log_group or f"/aws/lambda/{spec.function_name}", stream,
                           events)

    def metrics(self, spec: FunctionSpec, qualifier: str | None,
                values: list[tuple[str, float, str]]) -> None:
        dimension_sets = [[{"Name": "FunctionName", "Value": spec.function_name}]]
        if qualifier:
            dimension_sets.append([{"Name": "FunctionName", "Value": spec.function_name},
                                   {"Name": "Resource",
                                    "Value": f"{spec.function_name}:{qualifier}"}])
        for name, value, unit in values:
            for dims in dimension_sets:
                self.telemetry.metric(spec.account, spec.region, name, dims, value, unit)
            if name in ("ConcurrentExecutions", "Invocations", "Throttles"):
                self.telemetry.metric(spec.account, spec.region, name, [], value, unit)

    def async_metrics(self, account: str, region: str, name: str, age_ms: float | None = None,
                      dropped: int = 0) -> None:
        dims = [{"Name": "FunctionName", "Value": name}]
        if age_ms is not None:
            self.telemetry.metric(account, region, "AsyncEventAge", dims, round(age_ms, 2),
                                  "Milliseconds")
            self.telemetry.metric(account, region, "AsyncEventsReceived", dims, 1, "Count")
        if dropped:
            self.telemetry.metric(account, region, "AsyncEventsDropped", dims, dropped,
                                  "Count")
