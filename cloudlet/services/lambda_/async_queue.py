"""Asynchronous invocation: Lambda's event queue, durable in SQLite.

    queue.put(account, region, function, qualifier, payload, source) -> request id

A worker thread takes each event whose `due` time (service clock) has come and runs it on a
small thread pool. As on AWS:

- a function error is retried twice (MaximumRetryAttempts of PutFunctionEventInvokeConfig,
  0-2), one minute before the first retry and two before the second;
- throttled events (no concurrency left) wait and try again without using a retry, until
  the maximum event age (MaximumEventAgeInSeconds, default 6 hours);
- an event that succeeds goes to the OnSuccess destination, one that exhausted its retries
  or grew too old to the OnFailure destination, else to the function's DeadLetterConfig
  target, else it is dropped (AsyncEventsDropped). Destinations are SNS topics (bus
  `sns:publish`) and Lambda functions (this queue); records have AWS's shape.

Events survive a restart: they stay in the table until they are done.
"""

from __future__ import annotations

import json
import logging
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

from cloudlet import clock

log = logging.getLogger("cloudlet.lambda.async")

DEFAULT_RETRIES = 2
DEFAULT_MAX_AGE = 21600
RETRY_DELAYS = (60.0, 120.0)
THROTTLE_DELAY = 1.0
POLL_SECONDS = 0.05
WORKERS = 32


class Throttled(Exception):
    """No concurrency left for an asynchronous event: try it again later."""


def iso(moment: float) -> str:
    when = datetime.fromtimestamp(moment, UTC)
    return when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z"


class AsyncQueue:
    def __init__(self, provider, db):
        self.provider = provider
        self.db = db
        self._wake = threading.Event()
        self._closed = threading.Event()
        self._thread: threading.Thread | None = None
        self._pool: ThreadPoolExecutor | None = None
        self._running: set[str] = set()
        self._lock = threading.Lock()

    # -- putting events ----------------------------------------------------------------------
    def put(self, account: str, region: str, function: str, qualifier: str | None,
            payload: bytes, source: dict | None = None, request_id: str | None = None) -> str:
        request_id = request_id or str(uuid.uuid4())
        now = clock.timestamp()
        with self.db.transaction() as conn:
            conn.execute("INSERT INTO lambda_async_events (id, account, region, function, "
                         "qualifier, payload, enqueued, due, attempts, source) "
                         "VALUES (?,?,?,?,?,?,?,?,0,?)",
                         (request_id, account, region, function, qualifier or None, payload,
                          now, now, json.dumps(source or {})))
        self._wake.set()
        return request_id

    def pending(self) -> int:
        return self.db.query("SELECT count(*) AS n FROM lambda_async_events")[0]["n"]

    # -- the worker --------------------------------------------------------------------------
    def start(self) -> None:
        if self._thread is None:
            self._pool = ThreadPoolExecutor(WORKERS, thread_name_prefix="lambda-async")
            self._thread = threading.Thread(target=self._run, name="lambda-async-queue",
                                            daemon=True)
            self._thread.start()

    def stop(self) -> None:
        self._closed.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)

    def _run(self) -> None:
        while not self._closed.is_set():
            self._wake.wait(POLL_SECONDS)
            self._wake.clear()
            try:
                rows = self.db.query("SELECT * FROM lambda_async_events WHERE due <= ? "
                                     "ORDER BY due LIMIT 200", (clock.timestamp(),))
            except Exception:  # the database is closing
                log.exception("async queue poll failed")
                continue
            for row in rows:
                with self._lock:
                    if row["id"] in self._running or len(self._running) >= WORKERS * 4:
                        continue
                    self._running.add(row["id"])
                try:
                    self._pool.submit(self._attempt, dict(row))
                except RuntimeError:  # the pool is shut down
                    return

    def _attempt(self, row: dict) -> None:
        try:
            self._process(row)
        except Exception:
            log.exception("async invocation %s failed: event dropped", row["id"])
            self._delete(row["id"])
        finally:
            with self._lock:
                self._running.discard(row["id"])
            self._wake.set()

    def _process(self, row: dict) -> None:
        provider = self.provider
        account, region = row["account"], row["region"]
        try:
            record = provider.function_record(account, region, row["function"],
                                              row["qualifier"])
        except Exception:  # the function is gone: nothing can run or receive it
            log.info("async event %s dropped: function %s no longer exists", row["id"],
                     row["function"])
            self._delete(row["id"])
            return
        settings = record.get("EventInvokeConfig") or {}
        max_age = settings.get("MaximumEventAgeInSeconds") or DEFAULT_MAX_AGE
        retries = settings.get("MaximumRetryAttempts")
        retries = DEFAULT_RETRIES if retries is None else retries
        now = clock.timestamp()
        age = now - row["enqueued"]
        name = record["FunctionName"]
        if age > max_age:
            provider.async_metrics(account, region, name, dropped=1)
            self._finish(row, record, None, "EventAgeExceeded", settings)
            return
        try:
            result, version = provider.run_async(row, age)
        except Throttled:
            with self.db.transaction() as conn:
                conn.execute("UPDATE lambda_async_events SET due=? WHERE id=?",
                             (clock.timestamp() + THROTTLE_DELAY, row["id"]))
            return
        attempts = row["attempts"] + 1
        if result.error is None:
            self._finish(row, record, (result, version, attempts), "Success", settings)
            return
        if attempts <= retries:
            delay = RETRY_DELAYS[min(attempts - 1, len(RETRY_DELAYS) - 1)]
            with self.db.transaction() as conn:
                conn.execute("UPDATE lambda_async_events SET due=?, attempts=? WHERE id=?",
                             (clock.timestamp() + delay, attempts, row["id"]))
            return
        self._finish(row, record, (result, version, attempts), "RetriesExhausted", settings)

    def _delete(self, request_id: str) -> None:
        with self.db.transaction() as conn:
            conn.execute("DELETE FROM lambda_async_events WHERE id=?", (request_id,))

    def _finish(self, row: dict, record: dict, outcome, condition: str, settings: dict) -> None:
        self._delete(row["id"])
        destinations = settings.get("DestinationConfig") or {}
        success = condition == "Success"
        target = ((destinations.get("OnSuccess") if success
                   else destinations.get("OnFailure")) or {}).get("Destination")
        if target:
            self.send(row, record, target, destination_record(row, record, outcome, condition))
            return
        if success:
            return
        dlq = (record.get("DeadLetterConfig") or {}).get("TargetArn")
        if dlq:
            self.dead_letter(row, record, dlq, outcome)
            return
        if condition == "RetriesExhausted":
            self.provider.async_metrics(row["account"], row["region"], record["FunctionName"],
                                        dropped=1)

    def send(self, row: dict, record: dict, target: str, body: dict) -> None:
        """A destination record to an SNS topic or another function."""
        service = target.split(":")[2] if target.count(":") >= 5 else ""
        if service == "sns":
            self.provider.bus.publish("sns:publish", {
                "account": row["account"], "region": target.split(":")[3], "topic_arn": target,
                "message": json.dumps(body), "role_arn": record.get("Role"),
                "source_arn": record["FunctionArn"]})
        elif service == "lambda":
            region = target.split(":")[3]
            found = self.provider.destination_may_invoke(record, region, target)
            if found is not None:
                self.put(found[0], region, found[1], found[2], json.dumps(body).encode(),
                         {"destination_of": record["FunctionArn"]})
        else:
            log.warning("destination %s of %s is not served by Cloudlet: record dropped",
                        target, record["FunctionName"])

    def dead_letter(self, row: dict, record: dict, target: str, outcome) -> None:
        """The original event, with AWS's RequestID/ErrorCode/ErrorMessage attributes."""
        error_message = ""
        if outcome is not None:
            try:
                error_message = json.loads(outcome[0].payload).get("errorMessage", "")
            except (ValueError, AttributeError):
                error_message = outcome[0].payload.decode("utf-8", "replace")
        if target.split(":")[2:3] == ["sns"]:
            self.provider.bus.publish("sns:publish", {
                "account": row["account"], "region": target.split(":")[3], "topic_arn": target,
                "role_arn": record.get("Role"), "source_arn": record["FunctionArn"],
                "message": row["payload"].decode("utf-8", "replace"),
                "message_attributes": {
                    "RequestID": {"DataType": "String", "StringValue": row["id"]},
                    "ErrorCode": {"DataType": "Number", "StringValue": "200"},
                    "ErrorMessage": {"DataType": "String",
                                     "StringValue": error_message[:1000] or "Unhandled"}}})
        else:
            log.warning("dead-letter target %s of %s is not served by Cloudlet: event dropped",
                        target, record["FunctionName"])


def destination_record(row: dict, record: dict, outcome, condition: str) -> dict:
    """AWS's invocation record for destinations."""
    try:
        request_payload = json.loads(row["payload"])
    except ValueError:
        request_payload = row["payload"].decode("utf-8", "replace")
    qualified = record["FunctionArn"]
    if record.get("Version") == "$LATEST" and not qualified.endswith(":$LATEST"):
        qualified += ":$LATEST"
    body = {"version": "1.0", "timestamp": iso(clock.timestamp()),
            "requestContext": {"requestId": row["id"], "functionArn": qualified,
                               "condition": condition,
                               "approximateInvokeCount": outcome[2] if outcome else 0},
            "requestPayload": request_payload}
    if outcome is not None:
        result, version, _ = outcome
        context = {"statusCode": 200, "executedVersion": version}
        if result.error:
            context["functionError"] = result.error
        body["responseContext"] = context
        try:
            body["responsePayload"] = json.loads(result.payload) if result.payload else None
        except ValueError:
            body["responsePayload"] = result.payload.decode("utf-8", "replace")
    return body
