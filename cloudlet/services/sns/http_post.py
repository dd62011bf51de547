"""One HTTP/S delivery attempt, the retry schedule of a delivery policy, and the rule
that Cloudlet contacts loopback hosts only (127.0.0.0/8, ::1, localhost).

HTTPS endpoints' certificates are not verified: a local endpoint's is self-signed.
"""

from __future__ import annotations

import heapq
import http.client
import ipaddress
import ssl
import threading
import time

TIMEOUT = 15.0
MAX_PENDING_RETRIES = 10_000
USER_AGENT = "Amazon Simple Notification Service Agent"
DEFAULT_RETRY = {"minDelayTarget": 20, "maxDelayTarget": 20, "numRetries": 3,
                 "numNoDelayRetries": 0, "numMinDelayRetries": 0, "numMaxDelayRetries": 0,
                 "backoffFunction": "linear"}
_UNVERIFIED = ssl.create_default_context()
_UNVERIFIED.check_hostname = False
_UNVERIFIED.verify_mode = ssl.CERT_NONE


def is_loopback(host: str | None) -> bool:
    if not host:
        return False
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def retry_delays(policy: dict) -> list[float]:
    """The waits before each retry, by AWS's four phases: no delay, minimum delay,
    backoff from minimum to maximum, maximum delay."""
    policy = {**DEFAULT_RETRY, **policy}
    total = min(int(policy["numRetries"]), 100)
    low, high = float(policy["minDelayTarget"]), float(policy["maxDelayTarget"])
    delays = [0.0] * min(int(policy["numNoDelayRetries"]), total)
    delays += [low] * min(int(policy["numMinDelayRetries"]), total - len(delays))
    at_max = min(int(policy["numMaxDelayRetries"]), total - len(delays))
    backoff = total - len(delays) - at_max
    for i in range(1, backoff + 1):
        x = i / backoff
        shape = {"linear": x, "arithmetic": x, "geometric": x * x,
                 "exponential": (2 ** (5 * x) - 1) / 31}[policy["backoffFunction"]]
        delays.append(low + (high - low) * shape)
    return delays + [high] * at_max


def send(url, body: str, headers: dict) -> tuple[bool, bool, str]:
    """(delivered, worth retrying, error)."""
    headers = dict(headers)
    content_type = headers.pop("Content-Type", "text/plain; charset=UTF-8")
    cls = http.client.HTTPSConnection if url.scheme == "https" else http.client.HTTPConnection
    kwargs = {"context": _UNVERIFIED} if url.scheme == "https" else {}
    try:
        conn = cls(url.hostname, url.port, timeout=TIMEOUT, **kwargs)
        try:
            path = (url.path or "/") + (f"?{url.query}" if url.query else "")
            conn.request("POST", path, body.encode("utf-8"), {
                **headers, "Content-Type": content_type, "User-Agent": USER_AGENT})
            reply = conn.getresponse()
            reply.read()
        finally:
            conn.close()
    except (OSError, http.client.HTTPException) as e:
        return False, True, f"{type(e).__name__}: {e}"
    if 200 <= reply.status < 300:
        return True, False, ""
    retryable = reply.status >= 500 or reply.status == 429
    return False, retryable, f"HTTP {reply.status}"


class Scheduler:
    """Runs callables after a delay on one thread (retries), never blocking a worker."""

    def __init__(self, run):
        self._run = run
        self._heap: list = []
        self._cond = threading.Condition()
        self._thread: threading.Thread | None = None
        self._stopped = False

    def later(self, delay: float, fn, *args) -> bool:
        with self._cond:
            if len(self._heap) >= MAX_PENDING_RETRIES or self._stopped:
                return False
            heapq.heappush(self._heap, (time.monotonic() + delay, next(_ids), fn, args))
            if self._thread is None:
                self._thread = threading.Thread(target=self._loop, name="sns-retries", daemon=True)
                self._thread.start()
            self._cond.notify()
        return True

    def _loop(self) -> None:
        while True:
            with self._cond:
                while not self._stopped and (not self._heap or self._heap[0][0] > time.monotonic()):
                    self._cond.wait(self._heap[0][0] - time.monotonic() if self._heap else None)
                if self._stopped:
                    return
                _, _, fn, args = heapq.heappop(self._heap)
            self._run(fn, *args)

    def stop(self) -> None:
        with self._cond:
            self._stopped = True
            self._cond.notify()


_ids = iter(range(1, 1 << 62))
