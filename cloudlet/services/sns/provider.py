"""The SNS provider: one class composed of its operation families.

    topics.py         TopicOperations: CreateTopic, DeleteTopic, ListTopics, topic
                      attributes, AddPermission, RemovePermission, tags
    subscriptions.py  SubscriptionOperations: Subscribe, ConfirmSubscription, Unsubscribe,
                      listings, subscription attributes
    publish.py        PublishOperations: Publish, PublishBatch (message checks, FIFO
                      deduplication)

What they share:

    filter_policy.py  subscription filter policies
    delivery.py       fan-out and delivery per protocol, off the request thread
    message.py        a published message and its envelope parts
    http_post.py      one HTTP/S POST, retry schedules, the loopback-only rule
    access.py         the topic policy for cross-account callers
    metrics.py        AWS/SNS metrics, published through CloudWatch
    signing.py        AWS's message signatures and the certificate Cloudlet serves
    outbox.py         the local mailbox for email, email-json and sms
    store.py          the sns_ tables;  errors.py  SNS's errors

Other services reach SNS through the bus (`sns:publish`, `s3:notification` with Service
"sns") and ask `topic_exists(arn)`. Its routes under `/_cloudlet/sns/` (GET) serve the
signing certificate (public), and, to an account's root, that account's mailbox and
recorded deliveries (messages stored for SQS, failed deliveries).
"""

from __future__ import annotations

import json
import logging
import threading
from urllib.parse import parse_qs

from cloudlet.events import Bus
from cloudlet.services.base import Provider, Route, RouteAuth
from cloudlet.services.sns import access, filter_policy
from cloudlet.services.sns.delivery import Deliveries
from cloudlet.services.sns.message import Message
from cloudlet.services.sns.metrics import SnsMetrics
from cloudlet.services.sns.outbox import Outbox
from cloudlet.services.sns.publish import PublishOperations
from cloudlet.services.sns.signing import CERT_PATH, Signer
from cloudlet.services.sns.store import SnsStore
from cloudlet.services.sns.subscriptions import SubscriptionOperations
from cloudlet.services.sns.topics import TopicOperations
from cloudlet.store import Store

log = logging.getLogger("cloudlet.sns")

FALLBACK_BASE = "http://127.0.0.1:4566"
MAIL_PATH = "/_cloudlet/sns/mail"
DELIVERIES_PATH = "/_cloudlet/sns/deliveries"


class SnsProvider(PublishOperations, SubscriptionOperations, TopicOperations, Provider):
    service = "sns"

    def __init__(self, store: Store, bus: Bus | None = None):
        super().__init__(store, bus)
        self.sns = SnsStore(store)
        self.signer = Signer(store.root / "sns" / "signing")
        self.outbox = Outbox(store.root / "sns")
        self.metrics = SnsMetrics(self.bus)
        self.deliveries = Deliveries(self.sns, self.signer, self.outbox, self.bus, self._matches,
                                     self.metrics)
        self._last_base = FALLBACK_BASE
        self._init_publish()
        self.bus.subscribe("sns:publish", self._on_publish)
        self.bus.subscribe("s3:notification", self._on_s3_notification)

    def start(self) -> None:
        # Off the request path: the signing key (generated once per data directory) and
        # the deliveries a restart interrupted.
        threading.Thread(target=self._start, name="sns-start", daemon=True).start()

    def _start(self) -> None:
        self.signer.certificate()
        self.deliveries.resume()

    def stop(self) -> None:
        self.deliveries.stop()
        self.metrics.stop()

    def base_url(self, ctx) -> str:
        """The URL clients reach this server at, for SubscribeURL, UnsubscribeURL and
        SigningCertURL: the Host of the request, else the last one seen."""
        host = ctx.extra.get("host") if ctx is not None else None
        if host:
            self._last_base = f"{'https' if ctx.secure_transport else 'http'}://{host}"
        return self._last_base

    @staticmethod
    def _matches(sub: dict, message: Message) -> bool:
        text = sub["attributes"].get("FilterPolicy")
        if not text:
            return True
        scope = sub["attributes"].get("FilterPolicyScope", "MessageAttributes")
        try:
            policy = json.loads(text)
        except ValueError:
            return False
        return filter_policy.matches(policy, scope, message.attributes,
                                     message.text_for(sub["protocol"]))

    # -- the bus --------------------------------------------------------------------------
    def _on_publish(self, event: dict) -> None:
        attributes = {}
        for name, value in (event.get("message_attributes") or {}).items():
            attributes[name] = value if isinstance(value, dict) else {
                "DataType": "String", "StringValue": str(value)}
        topic = self.sns.topic(event["topic_arn"])
        if topic is not None and not access.service_may_publish(
                topic, self.topic_attributes(topic)["Policy"], event):
            log.warning("sns:publish to %s for account %s: the topic policy does not allow "
                        "it", event["topic_arn"], event.get("account"))
            return
        if self.publish_message(event["topic_arn"], event["message"], event.get("subject"),
                                attributes) is None:
            log.warning("sns:publish to %s: the topic does not exist", event["topic_arn"])

    def _on_s3_notification(self, event: dict) -> None:
        destination = event.get("Destination") or {}
        if destination.get("Service") != "sns":
            return
        topic = self.sns.topic(destination["Arn"])
        records = (event.get("Event") or {}).get("Records") or [{}]
        bucket = ((records[0].get("s3") or {}).get("bucket") or {}).get("name")
        if topic is not None and not access.service_may_publish(
                topic, self.topic_attributes(topic)["Policy"],
                {"account": event.get("account"), "principal": "s3.amazonaws.com",
                 "source_arn": f"arn:aws:s3:::{bucket}"}):
            log.warning("S3 notification to %s: the topic policy does not allow bucket %s",
                        destination["Arn"], bucket)
            return
        if self.publish_message(destination["Arn"], json.dumps(event["Event"]),
                                "Amazon S3 Notification") is None:
            log.warning("S3 notification to %s: the topic does not exist", destination["Arn"])

    # -- Cloudlet's own routes ------------------------------------------------------------
    def routes(self) -> list[Route]:
        """The signing certificate, public as AWS's SigningCertURL is; the mailbox and the
        recorded deliveries, control endpoints (an account's root, its own messages)."""
        get = frozenset({"GET", "HEAD"})
        return [Route(prefix=CERT_PATH, methods=get, handler=self.certificate_route),
                Route(prefix=MAIL_PATH, methods=get, auth=RouteAuth.ROOT,
                      handler=self.mail_route),
                Route(prefix=DELIVERIES_PATH, methods=get, auth=RouteAuth.ROOT,
                      handler=self.deliveries_route)]

    def certificate_route(self, request) -> tuple[int, dict[str, str], bytes]:
        if request.path != CERT_PATH:
            return _NOT_FOUND
        return 200, {"Content-Type": "application/x-pem-file"}, self.signer.certificate()

    def mail_route(self, request, verify) -> tuple[int, dict[str, str], bytes]:
        """GET /_cloudlet/sns/mail[?to=ADDRESS]: the caller's account's messages."""
        if request.path != MAIL_PATH:
            return _NOT_FOUND
        to = parse_qs(request.query).get("to", [None])[0]
        return _json(200, {"messages": self.outbox.messages(verify(request).account_id, to)})

    def deliveries_route(self, request, verify) -> tuple[int, dict[str, str], bytes]:
        """GET /_cloudlet/sns/deliveries[?endpoint=URL]: the caller's account's records."""
        if request.path != DELIVERIES_PATH:
            return _NOT_FOUND
        endpoint = parse_qs(request.query).get("endpoint", [None])[0]
        account = verify(request).account_id
        return _json(200, {"deliveries": self.sns.deliveries(account, endpoint)})


def _json(status: int, body: dict) -> tuple[int, dict[str, str], bytes]:
    return status, {"Content-Type": "application/json"}, json.dumps(body).encode()


_NOT_FOUND = _json(404, {"code": "NotFound", "message": "no such Cloudlet endpoint"})
