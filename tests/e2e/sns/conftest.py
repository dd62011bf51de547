"""SNS tests: the sns client, and local HTTP endpoints that SNS delivers to."""

from __future__ import annotations

import json
import queue
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest


class Endpoint:
    """A local HTTP endpoint recording every POST SNS makes. With `auto_confirm` it
    confirms a subscription as a real endpoint does: a plain GET of the SubscribeURL.
    `statuses` are answered first, in order (a failing endpoint), then 200."""

    def __init__(self, auto_confirm: bool = True, statuses: list[int] | None = None):
        self.auto_confirm = auto_confirm
        self.statuses = list(statuses or [])
        self.received: queue.Queue = queue.Queue()
        self.attempts = 0
        endpoint = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("content-length") or 0))
                endpoint.attempts += 1
                status = endpoint.statuses.pop(0) if endpoint.statuses else 200
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()
                if status == 200:
                    endpoint.received.put((self.path, dict(self.headers), body.decode()))
                    if endpoint.auto_confirm and self.headers.get(
                            "x-amz-sns-message-type") == "SubscriptionConfirmation":
                        url = json.loads(body)["SubscribeURL"]
                        threading.Thread(target=lambda: urllib.request.urlopen(url).read()).start()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_port}/sns"

    def next(self, kind: str | None = None, timeout: float = 15) -> tuple[dict, str]:
        """The next POST (of message type `kind`): (headers, body)."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                _, headers, body = self.received.get(timeout=max(0.01, deadline - time.monotonic()))
            except queue.Empty:
                raise AssertionError(f"no {kind or 'message'} arrived within {timeout} s") from None
            if kind is None or headers.get("x-amz-sns-message-type") == kind:
                return headers, body

    def nothing(self, wait: float = 1.0) -> bool:
        try:
            self.received.get(timeout=wait)
        except queue.Empty:
            return True
        return False

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def sns(cloudlet):
    return cloudlet.client("sns")


@pytest.fixture
def endpoint():
    started = []

    def start(**kwargs) -> Endpoint:
        started.append(Endpoint(**kwargs))
        return started[-1]

    yield start
    for e in started:
        e.close()


def _wait_for(predicate, timeout: float = 15, interval: float = 0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError("condition not met in time")


def _confirmed_http(sns, endpoint, topic_arn: str, **attributes) -> str:
    """A confirmed http subscription (the endpoint fetched its SubscribeURL)."""
    sns.subscribe(TopicArn=topic_arn, Protocol="http", Endpoint=endpoint.url,
                  Attributes=attributes)
    endpoint.next("SubscriptionConfirmation")
    subs = _wait_for(lambda: [s for s in sns.list_subscriptions_by_topic(
        TopicArn=topic_arn)["Subscriptions"] if s["Endpoint"] == endpoint.url
        and s["SubscriptionArn"] != "PendingConfirmation"])
    return subs[0]["SubscriptionArn"]


@pytest.fixture
def wait_for():
    return _wait_for


@pytest.fixture
def subscribed(sns):
    """subscribed(endpoint, topic_arn, **attributes) -> a confirmed http subscription's ARN."""
    return lambda endpoint, topic_arn, **attributes: _confirmed_http(sns, endpoint, topic_arn,
                                                                       **attributes)


@pytest.fixture
def internal(cloudlet):
    """GET one of Cloudlet's own SNS routes (/_cloudlet/sns/...) as JSON, signed as a
    control call by the root of account 000000000000."""
    def get(path: str) -> dict:
        reply = cloudlet.control("GET", f"/_cloudlet/sns/{path}")
        assert reply.status_code == 200, reply.text
        return reply.json()
    return get
