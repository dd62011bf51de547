"""Delivering messages to subscriptions, off the request thread.

    Deliveries.fan_out(message)      every confirmed subscription whose filter matches
    Deliveries.confirm(sub)          the SubscriptionConfirmation (http/https, email)
    Deliveries.unsubscribed(sub)     the UnsubscribeConfirmation (http/https)

http/https: a real POST with AWS's headers and a signed JSON body, retried on 5xx, 429 and
connection errors by the delivery policy (AWS's healthyRetryPolicy phases, bounded), then
recorded as failed. Cloudlet contacts only loopback hosts (127.0.0.0/8, ::1, localhost):
any other endpoint is never contacted and the delivery is recorded as failed.
email/email-json/sms: the local mailbox (outbox.py). sqs: recorded in sns_deliveries
(status 'stored') until SQS exists. lambda: `lambda:invoke` on the bus.
"""

from __future__ import annotations

import json
import logging
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import quote, urlsplit

from cloudlet.services.sns.http_post import (
    DEFAULT_RETRY,
    Scheduler,
    is_loopback,
    retry_delays,
    send,
)
from cloudlet.services.sns.message import Message, message_attributes, timestamp
from cloudlet.services.sns.signing import CERT_PATH

log = logging.getLogger("cloudlet.sns")


class Deliveries:
    def __init__(self, store, signer, outbox, bus, matches, metrics=None):
        self.store = store
        self.metrics = metrics  # SnsMetrics, or None
        self.signer = signer
        self.outbox = outbox
        self.bus = bus
        self.matches = matches  # (subscription, Message) -> bool
        self.executor = ThreadPoolExecutor(max_workers=8, thread_name_prefix="sns-delivery")
        # FIFO topics fan out on one thread, so deliveries keep the order of publication.
        self.fifo = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sns-fifo")
        self.scheduler = Scheduler(self._submit)
        # Deliveries not yet finished per kept message: the row goes when this reaches 0.
        self._open: dict[str, int] = {}
        self._open_lock = threading.Lock()

    def _submit(self, fn, *args, executor: ThreadPoolExecutor | None = None) -> None:
        try:
            (executor or self.executor).submit(self._guarded, fn, *args)
        except RuntimeError:  # shut down
            pass

    @staticmethod
    def _guarded(fn, *args) -> None:
        try:
            fn(*args)
        except Exception:
            log.exception("SNS delivery failed")

    def stop(self) -> None:
        self.scheduler.stop()
        self.executor.shutdown(wait=False, cancel_futures=True)
        self.fifo.shutdown(wait=False, cancel_futures=True)

    # -- entry points ---------------------------------------------------------------------
    def fan_out(self, message: Message, keep: bool = True) -> None:
        """Deliver to every matching subscription. With `keep` the message is first
        written to sns_messages, and forgotten once every delivery has finished."""
        if keep:
            self.store.keep_message(message.message_id, message.topic_arn, message.to_json())
        self._hold(message.message_id)
        fifo = message.sequence_number is not None
        self._submit(self._fan_out, message, executor=self.fifo if fifo else None)

    def resume(self) -> None:
        """After a restart: deliver again what was published but not fully delivered
        (at least once, as SNS promises)."""
        for data in self.store.kept_messages():
            self.fan_out(Message.from_json(data), keep=False)

    def _hold(self, message_id: str) -> None:
        with self._open_lock:
            self._open[message_id] = self._open.get(message_id, 0) + 1

    def _release(self, message_id: str) -> None:
        with self._open_lock:
            left = self._open.get(message_id)
            if left is None:
                return
            if left > 1:
                self._open[message_id] = left - 1
                return
            del self._open[message_id]
        self.store.forget_message(message_id)

    def confirm(self, sub: dict, topic: dict) -> None:
        self._submit(self._confirm, sub, topic)

    def unsubscribed(self, sub: dict, topic: dict | None) -> None:
        if sub["protocol"] in ("http", "https"):
            self._submit(self._unsubscribed, sub, topic)

    def _fan_out(self, message: Message) -> None:
        try:
            after = ""
            while True:
                subs = self.store.subscriptions(topic_arn=message.topic_arn, after=after,
                                                limit=500, confirmed_only=True)
                for sub in subs:
                    self._guarded(self._deliver_matching, sub, message)
                if len(subs) < 500:
                    return
                after = subs[-1]["arn"]
        finally:
            self._release(message.message_id)

    # -- one subscription -----------------------------------------------------------------
    def _deliver_matching(self, sub: dict, message: Message) -> None:
        if self.matches(sub, message):
            self.deliver(sub, message)
        else:
            self._count(message.topic_arn, "NumberOfNotificationsFilteredOut")

    def _count(self, topic_arn: str, metric: str) -> None:
        if self.metrics is not None:
            self.metrics.count(topic_arn, metric)

    def deliver(self, sub: dict, message: Message) -> None:
        protocol = sub["protocol"]
        raw = sub["attributes"].get("RawMessageDelivery") == "true"
        if protocol not in ("http", "https"):  # handed over here and now
            self._count(message.topic_arn, "NumberOfNotificationsDelivered")
        if protocol in ("http", "https"):
            if raw:
                body = message.text_for(protocol)
                headers = {"x-amz-sns-rawdelivery": "true"}
            else:
                body = json.dumps(self.envelope(sub, message))
                headers = {}
            headers["Content-Type"] = self._content_type(sub)
            headers.update({"x-amz-sns-message-type": "Notification",
                            "x-amz-sns-message-id": message.message_id,
                            "x-amz-sns-topic-arn": message.topic_arn,
                            "x-amz-sns-subscription-arn": sub["arn"]})
            # Its own task: a slow endpoint holds up no other subscription.
            self._hold(message.message_id)
            self._submit(self._post, sub, message.message_id, body, headers,
                         self._retry_policy(sub), 0)
        elif protocol == "email":
            self.outbox.write(sub["endpoint"], message.subject or "AWS Notification Message",
                              self._email_text(sub, message), protocol=protocol,
                              sender_name=message.display_name or "AWS Notifications",
                              accounts=_accounts(sub),
                              headers={"X-Amz-Sns-Topic-Arn": message.topic_arn})
        elif protocol == "email-json":
            self.outbox.write(sub["endpoint"], message.subject or "AWS Notification Message",
                              json.dumps(self.envelope(sub, message), indent=2), protocol=protocol,
                              sender_name=message.display_name or "AWS Notifications",
                              accounts=_accounts(sub),
                              headers={"X-Amz-Sns-Topic-Arn": message.topic_arn})
        elif protocol == "sms":
            self.outbox.write(sub["endpoint"], message.subject or "SMS",
                              message.text_for("sms"), protocol="sms",
                              accounts=_accounts(sub),
                              headers={"X-Amz-Sns-Topic-Arn": message.topic_arn})
        elif protocol == "sqs":
            if raw:
                body = message.text_for("sqs")
                attributes = {} if message.structured else message_attributes(message.attributes)
                if len(attributes) > 10:  # AWS discards these as client-side errors
                    self.store.record_delivery(
                        sub, message.message_id, "failed", body, attributes, error=(
                            "more than 10 message attributes for an SQS subscription with "
                            "raw message delivery"))
                    self._count(message.topic_arn, "NumberOfNotificationsFailed")
                    return
            else:
                body, attributes = json.dumps(self.envelope(sub, message)), {}
            self.store.record_delivery(sub, message.message_id, "stored", body, attributes)
        elif protocol == "lambda":
            self.bus.publish("lambda:invoke", {
                "account": sub["account"], "region": sub["region"],
                "function_arn": sub["endpoint"], "payload": json.dumps(self.lambda_event(sub, message)),
                "source_arn": message.topic_arn, "source_account": sub["account"],
                "principal": "sns.amazonaws.com"})

    def envelope(self, sub: dict, message: Message) -> dict:
        text = message.text_for(sub["protocol"])
        body = {"Type": "Notification", "MessageId": message.message_id}
        if message.sequence_number is not None:
            body["SequenceNumber"] = message.sequence_number
        body["TopicArn"] = message.topic_arn
        if message.subject is not None:
            body["Subject"] = message.subject
        body.update({"Message": text, "Timestamp": message.timestamp,
                     "SignatureVersion": message.signature_version})
        body["Signature"] = self.signer.sign(body, message.signature_version)
        body["SigningCertURL"] = sub["base_url"] + CERT_PATH
        body["UnsubscribeURL"] = self.unsubscribe_url(sub)
        if message.attributes and not message.structured:
            body["MessageAttributes"] = message_attributes(message.attributes)
        return body

    def lambda_event(self, sub: dict, message: Message) -> dict:
        envelope = self.envelope(sub, message)
        sns = {"Type": "Notification", "MessageId": message.message_id,
               "TopicArn": message.topic_arn, "Subject": message.subject,
               "Message": envelope["Message"], "Timestamp": message.timestamp,
               "SignatureVersion": message.signature_version,
               "Signature": envelope["Signature"], "SigningCertUrl": envelope["SigningCertURL"],
               "UnsubscribeUrl": envelope["UnsubscribeURL"],
               "MessageAttributes": envelope.get("MessageAttributes", {})}
        return {"Records": [{"EventSource": "aws:sns", "EventVersion": "1.0",
                             "EventSubscriptionArn": sub["arn"], "Sns": sns}]}

    @staticmethod
    def unsubscribe_url(sub: dict) -> str:
        return (f"{sub['base_url']}/?Action=Unsubscribe&Version=2010-03-31"
                f"&SubscriptionArn={quote(sub['arn'], safe='')}")

    @staticmethod
    def subscribe_url(sub: dict) -> str:
        return (f"{sub['base_url']}/?Action=ConfirmSubscription&Version=2010-03-31"
                f"&TopicArn={quote(sub['topic_arn'], safe='')}&Token={sub['token']}")

    def _email_text(self, sub: dict, message: Message) -> str:
        return (f"{message.text_for('email')}\n\n--\nIf you wish to stop receiving notifications "
                "from this topic, please click or visit the link below to unsubscribe:\n"
                f"{self.unsubscribe_url(sub)}\n\nPlease do not reply directly to this email. "
                "If you have any questions or comments regarding this email, please contact us "
                "at https://aws.amazon.com/support\n")

    def _confirmation(self, sub: dict, topic: dict | None, kind: str) -> dict:
        if kind == "SubscriptionConfirmation":
            text = (f"You have chosen to subscribe to the topic {sub['topic_arn']}.\n"
                    "To confirm the subscription, visit the SubscribeURL included in this message.")
        else:
            text = (f"You have chosen to deactivate subscription {sub['arn']}.\n"
                    "To cancel this operation and restore the subscription, visit the "
                    "SubscribeURL included in this message.")
        version = ((topic or {}).get("attributes") or {}).get("SignatureVersion", "1")
        body = {"Type": kind, "MessageId": str(uuid.uuid4()), "Token": sub["token"],
                "TopicArn": sub["topic_arn"], "Message": text,
                "SubscribeURL": self.subscribe_url(sub),
                "Timestamp": timestamp(), "SignatureVersion": version}
        body["Signature"] = self.signer.sign(body, version)
        body["SigningCertURL"] = sub["base_url"] + CERT_PATH
        return body

    def _confirm(self, sub: dict, topic: dict) -> None:
        if sub["protocol"] in ("http", "https"):
            body = self._confirmation(sub, topic, "SubscriptionConfirmation")
            headers = {"x-amz-sns-message-type": "SubscriptionConfirmation",
                       "x-amz-sns-message-id": body["MessageId"],
                       "x-amz-sns-topic-arn": sub["topic_arn"]}
            self._post(sub, body["MessageId"], json.dumps(body), headers,
                       self._retry_policy(sub, topic), 0)
        elif sub["protocol"] in ("email", "email-json"):
            display = topic["attributes"].get("DisplayName") or "AWS Notifications"
            if sub["protocol"] == "email-json":
                text = json.dumps(self._confirmation(sub, topic, "SubscriptionConfirmation"),
                                  indent=2)
            else:
                text = (f"You have chosen to subscribe to the topic: \n{sub['topic_arn']}\n\n"
                        "To confirm this subscription, click or visit the link below (If this "
                        "was in error no action is necessary): \nConfirm subscription\n"
                        f"{self.subscribe_url(sub)}\n\nPlease do not reply directly to this "
                        "email. If you wish to remove yourself from receiving all future SNS "
                        "subscription confirmation requests please send an email to sns-opt-out\n")
            self.outbox.write(sub["endpoint"], "AWS Notification - Subscription Confirmation",
                              text, protocol=sub["protocol"], sender_name=display,
                              accounts=_accounts(sub),
                              headers={"X-Amz-Sns-Topic-Arn": sub["topic_arn"]})

    def _unsubscribed(self, sub: dict, topic: dict | None) -> None:
        body = self._confirmation(sub, topic, "UnsubscribeConfirmation")
        headers = {"x-amz-sns-message-type": "UnsubscribeConfirmation",
                   "x-amz-sns-message-id": body["MessageId"],
                   "x-amz-sns-topic-arn": sub["topic_arn"],
                   "x-amz-sns-subscription-arn": sub["arn"]}
        self._post(sub, body["MessageId"], json.dumps(body), headers, {"numRetries": 0}, 0)

    # -- HTTP -----------------------------------------------------------------------------
    def _retry_policy(self, sub: dict, topic: dict | None = None) -> dict:
        """The subscription's healthyRetryPolicy, unless the topic's delivery policy sets
        disableSubscriptionOverrides; then the topic's; then AWS's default."""
        if topic is None:
            topic = self.store.topic(sub["topic_arn"])
        text = (topic or {}).get("attributes", {}).get("DeliveryPolicy")
        http = (json.loads(text).get("http") or {}) if text else {}
        own = sub["attributes"].get("DeliveryPolicy")
        if own and not http.get("disableSubscriptionOverrides"):
            found = json.loads(own).get("healthyRetryPolicy")
            if found:
                return found
        return http.get("defaultHealthyRetryPolicy") or DEFAULT_RETRY

    def _content_type(self, sub: dict) -> str:
        """The delivery policy's requestPolicy.headerContentType: the subscription's, else
        the topic's http.defaultRequestPolicy, else text/plain."""
        own = json.loads(sub["attributes"].get("DeliveryPolicy") or "{}")
        found = (own.get("requestPolicy") or {}).get("headerContentType")
        if not found:
            topic = self.store.topic(sub["topic_arn"]) or {"attributes": {}}
            text = topic["attributes"].get("DeliveryPolicy")
            found = (((json.loads(text) if text else {}).get("http") or {}).get(
                "defaultRequestPolicy") or {}).get("headerContentType")
        return found if isinstance(found, str) and found else "text/plain; charset=UTF-8"

    def _post(self, sub: dict, message_id: str, body: str, headers: dict, policy: dict,
              attempt: int) -> None:
        retrying = False
        try:
            retrying = self._attempt(sub, message_id, body, headers, policy, attempt)
        finally:
            if not retrying:
                self._release(message_id)

    def _failed(self, sub: dict, message_id: str, body: str, attempts: int, error: str,
                notification: bool) -> None:
        """A delivery given up on: recorded as failed and, for a notification of a
        subscription with a RedrivePolicy, kept for its dead-letter queue (stored until
        SQS exists), with AWS's ErrorCode/ErrorMessage attributes."""
        self.store.record_delivery(sub, message_id, "failed", body, attempts=attempts,
                                   error=error)
        if not notification:
            return
        self._count(sub["topic_arn"], "NumberOfNotificationsFailed")
        redrive = json.loads(sub["attributes"].get("RedrivePolicy") or "{}")
        queue = redrive.get("deadLetterTargetArn")
        if isinstance(queue, str) and queue:
            attributes = {"ErrorCode": {"Type": "String", "Value": "EndpointUnavailable"},
                          "ErrorMessage": {"Type": "String", "Value": error},
                          "TopicArn": {"Type": "String", "Value": sub["topic_arn"]},
                          "MessageId": {"Type": "String", "Value": message_id}}
            self.store.record_delivery({**sub, "protocol": "sqs", "endpoint": queue}, message_id,
                                       "stored", body, attributes, attempts=attempts)

    def _attempt(self, sub: dict, message_id: str, body: str, headers: dict, policy: dict,
                 attempt: int) -> bool:
        """One POST; True if a retry is scheduled."""
        url = urlsplit(sub["endpoint"])
        notification = headers.get("x-amz-sns-message-type") == "Notification"
        if not is_loopback(url.hostname):
            self._failed(sub, message_id, body, 0,
                         f"not delivered: {url.hostname!r} is not a loopback address (Cloudlet "
                         "contacts only 127.0.0.0/8, ::1 and localhost)", notification)
            return False
        ok, retryable, error = send(url, body, headers)
        if ok:
            if notification:
                self._count(sub["topic_arn"], "NumberOfNotificationsDelivered")
            return False
        delays = retry_delays(policy)
        if retryable and attempt < len(delays) and self.scheduler.later(
                delays[attempt], self._post, sub, message_id, body, headers, policy, attempt + 1):
            return True
        log.warning("SNS delivery to %s failed after %d attempt(s): %s", sub["endpoint"],
                    attempt + 1, error)
        self._failed(sub, message_id, body, attempt + 1, error, notification)
        return False


def _accounts(sub: dict) -> tuple[str, ...]:
    """Whose mailbox a message to this subscription's address is in: the topic's account
    and the subscriber's, when they differ (a cross-account subscription)."""
    return tuple(dict.fromkeys(a for a in (sub.get("account"), sub.get("owner")) if a))
