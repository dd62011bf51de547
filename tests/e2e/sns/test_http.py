"""HTTP endpoints: the confirmation handshake, AWS's headers and signatures, raw delivery,
retries, unsubscribing, and the loopback-only rule."""

from __future__ import annotations

import base64
import json
import urllib.parse
import urllib.request

import pytest
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from harness import unique

NOTIFICATION_KEYS = ["Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"]
CONFIRMATION_KEYS = ["Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn",
                     "Type"]


def verify(message: dict) -> None:
    """A subscriber's verification, written from AWS's documentation ("Verifying the
    signatures of Amazon SNS messages"): fetch SigningCertURL, rebuild the string to sign,
    check the RSA signature with SHA1 (version 1) or SHA256 (version 2)."""
    with urllib.request.urlopen(message["SigningCertURL"], timeout=5) as reply:
        certificate = x509.load_pem_x509_certificate(reply.read())
    keys = NOTIFICATION_KEYS if message["Type"] == "Notification" else CONFIRMATION_KEYS
    text = "".join(f"{k}\n{message[k]}\n" for k in keys if k in message)
    digest = {"1": hashes.SHA1(), "2": hashes.SHA256()}[message["SignatureVersion"]]
    certificate.public_key().verify(base64.b64decode(message["Signature"]), text.encode(),
                                    padding.PKCS1v15(), digest)


def test_handshake_by_plain_get_of_subscribe_url_then_signed_notification(sns, endpoint):
    hook = endpoint(auto_confirm=False)
    topic = sns.create_topic(Name=unique("http"))["TopicArn"]
    reply = sns.subscribe(TopicArn=topic, Protocol="http", Endpoint=hook.url)
    assert reply["SubscriptionArn"] == "pending confirmation"
    headers, body = hook.next("SubscriptionConfirmation")
    confirmation = json.loads(body)
    assert headers["x-amz-sns-topic-arn"] == topic
    assert headers["x-amz-sns-message-id"] == confirmation["MessageId"]
    assert "x-amz-sns-subscription-arn" not in headers
    assert confirmation["Type"] == "SubscriptionConfirmation" and confirmation["TopicArn"] == topic
    verify(confirmation)

    # Still pending: no delivery, listed as PendingConfirmation, counted as pending.
    [listed] = sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"]
    assert listed["SubscriptionArn"] == "PendingConfirmation"
    attributes = sns.get_topic_attributes(TopicArn=topic)["Attributes"]
    assert (attributes["SubscriptionsPending"], attributes["SubscriptionsConfirmed"]) == ("1", "0")
    sns.publish(TopicArn=topic, Message="before confirmation")
    assert hook.nothing(0.5)

    # A plain, unsigned GET of SubscribeURL confirms, as on AWS.
    with urllib.request.urlopen(confirmation["SubscribeURL"], timeout=5) as reply:
        assert reply.status == 200
        answer = reply.read().decode()
    assert "<ConfirmSubscriptionResponse" in answer
    [listed] = sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"]
    assert listed["SubscriptionArn"].startswith(topic + ":")
    assert listed["SubscriptionArn"] in answer
    attributes = sns.get_topic_attributes(TopicArn=topic)["Attributes"]
    assert (attributes["SubscriptionsPending"], attributes["SubscriptionsConfirmed"]) == ("0", "1")

    message_id = sns.publish(TopicArn=topic, Message="hello", Subject="Greeting",
                             MessageAttributes={"level": {"DataType": "String",
                                                          "StringValue": "info"}})["MessageId"]
    headers, body = hook.next("Notification")
    notification = json.loads(body)
    assert headers["x-amz-sns-message-id"] == message_id == notification["MessageId"]
    assert headers["x-amz-sns-topic-arn"] == topic
    assert headers["x-amz-sns-subscription-arn"] == listed["SubscriptionArn"]
    assert headers["Content-Type"] == "text/plain; charset=UTF-8"
    assert notification["Message"] == "hello" and notification["Subject"] == "Greeting"
    assert notification["SignatureVersion"] == "1"
    assert notification["MessageAttributes"] == {"level": {"Type": "String", "Value": "info"}}
    assert notification["Timestamp"].endswith("Z")
    verify(notification)


def test_signature_version_2_and_a_tampered_message_fails(sns, endpoint, subscribed):
    hook = endpoint()
    topic = sns.create_topic(Name=unique("v2"), Attributes={"SignatureVersion": "2"})["TopicArn"]
    subscribed(hook, topic)
    sns.publish(TopicArn=topic, Message="signed with SHA256")
    notification = json.loads(hook.next("Notification")[1])
    assert notification["SignatureVersion"] == "2"
    assert "Subject" not in notification
    verify(notification)
    with pytest.raises(InvalidSignature):
        verify({**notification, "Message": "forged"})
    with pytest.raises(InvalidSignature):
        verify({**notification, "SignatureVersion": "1"})


def test_raw_message_delivery(sns, endpoint, subscribed):
    hook = endpoint()
    topic = sns.create_topic(Name=unique("raw"))["TopicArn"]
    arn = subscribed(hook, topic)
    sns.set_subscription_attributes(SubscriptionArn=arn, AttributeName="RawMessageDelivery",
                                    AttributeValue="true")
    assert sns.get_subscription_attributes(
        SubscriptionArn=arn)["Attributes"]["RawMessageDelivery"] == "true"
    sns.publish(TopicArn=topic, Message='{"just": "the body"}')
    headers, body = hook.next("Notification")
    assert body == '{"just": "the body"}'
    assert headers["x-amz-sns-rawdelivery"] == "true"
    policy = {"requestPolicy": {"headerContentType": "application/json"}}
    sns.set_subscription_attributes(SubscriptionArn=arn, AttributeName="DeliveryPolicy",
                                    AttributeValue=json.dumps(policy))
    sns.publish(TopicArn=topic, Message='{"typed": true}')
    headers, body = hook.next("Notification")
    assert headers["Content-Type"] == "application/json" and body == '{"typed": true}'


def test_message_structure_json_picks_the_protocols_message(sns, endpoint, subscribed):
    hook = endpoint()
    topic = sns.create_topic(Name=unique("structure"))["TopicArn"]
    subscribed(hook, topic)
    sns.publish(TopicArn=topic, MessageStructure="json",
                Message=json.dumps({"default": "for everyone", "http": "for http"}))
    assert json.loads(hook.next("Notification")[1])["Message"] == "for http"


def test_failed_deliveries_are_retried_by_the_delivery_policy(sns, endpoint, subscribed, internal,
                                                              wait_for):
    hook = endpoint()
    policy = {"healthyRetryPolicy": {"minDelayTarget": 1, "maxDelayTarget": 1, "numRetries": 3,
                                     "numNoDelayRetries": 1}}
    topic = sns.create_topic(Name=unique("retry"))["TopicArn"]
    arn = subscribed(hook, topic, DeliveryPolicy=json.dumps(policy))
    effective = json.loads(sns.get_subscription_attributes(
        SubscriptionArn=arn)["Attributes"]["EffectiveDeliveryPolicy"])
    assert effective["healthyRetryPolicy"]["numRetries"] == 3
    before = hook.attempts
    hook.statuses = [500, 503]
    sns.publish(TopicArn=topic, Message="third time lucky")
    assert json.loads(hook.next("Notification")[1])["Message"] == "third time lucky"
    assert hook.attempts - before == 3

    # Every retry failing: bounded (1 + numRetries attempts), then recorded as failed and
    # kept for the subscription's dead-letter queue.
    dead_letters = f"arn:aws:sqs:us-east-1:000000000000:{unique('dlq')}"
    sns.set_subscription_attributes(SubscriptionArn=arn, AttributeName="RedrivePolicy",
                                    AttributeValue=json.dumps(
                                        {"deadLetterTargetArn": dead_letters}))
    before = hook.attempts
    hook.statuses = [500] * 10
    message_id = sns.publish(TopicArn=topic, Message="never")["MessageId"]

    def failed():
        return [d for d in internal("deliveries?endpoint=" + urllib.parse.quote(hook.url))[
            "deliveries"] if d["message_id"] == message_id]
    [record] = wait_for(failed, timeout=20)
    assert record["status"] == "failed" and record["attempts"] == 4
    assert hook.attempts - before == 4
    assert hook.statuses == [500] * 6
    [dead] = internal("deliveries?endpoint=" + urllib.parse.quote(dead_letters))["deliveries"]
    assert dead["status"] == "stored" and json.loads(dead["body"])["Message"] == "never"
    attributes = json.loads(dead["attributes"])
    assert attributes["ErrorCode"]["Value"] == "EndpointUnavailable"
    assert attributes["MessageId"]["Value"] == message_id


def test_unsubscribe_sends_unsubscribe_confirmation_and_stops_delivery(sns, endpoint, subscribed):
    hook = endpoint(auto_confirm=False)
    topic = sns.create_topic(Name=unique("unsub"))["TopicArn"]
    sns.subscribe(TopicArn=topic, Protocol="http", Endpoint=hook.url)
    confirmation = json.loads(hook.next("SubscriptionConfirmation")[1])
    arn = sns.confirm_subscription(TopicArn=topic, Token=confirmation["Token"])["SubscriptionArn"]
    sns.publish(TopicArn=topic, Message="one")
    notification = json.loads(hook.next("Notification")[1])

    # UnsubscribeURL, like SubscribeURL, is a plain link.
    with urllib.request.urlopen(notification["UnsubscribeURL"], timeout=5) as reply:
        assert reply.status == 200
    headers, body = hook.next("UnsubscribeConfirmation")
    assert headers["x-amz-sns-subscription-arn"] == arn
    verify(json.loads(body))
    assert sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"] == []
    assert sns.get_topic_attributes(TopicArn=topic)["Attributes"]["SubscriptionsDeleted"] == "1"
    sns.publish(TopicArn=topic, Message="two")
    assert hook.nothing(0.5)

    # The UnsubscribeConfirmation's SubscribeURL restores the subscription, as on AWS.
    with urllib.request.urlopen(json.loads(body)["SubscribeURL"], timeout=5) as reply:
        assert arn in reply.read().decode()
    [listed] = sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"]
    assert listed["SubscriptionArn"] == arn
    sns.publish(TopicArn=topic, Message="three")
    assert json.loads(hook.next("Notification")[1])["Message"] == "three"


def test_endpoints_off_loopback_are_never_contacted(sns, internal, wait_for):
    topic = sns.create_topic(Name=unique("offbox"))["TopicArn"]
    url = "http://192.0.2.10:8080/hook"  # TEST-NET-1: must not be contacted at all
    assert sns.subscribe(TopicArn=topic, Protocol="http",
                         Endpoint=url)["SubscriptionArn"] == "pending confirmation"
    [record] = wait_for(lambda: internal("deliveries?endpoint=" + urllib.parse.quote(url))[
        "deliveries"])
    assert record["status"] == "failed" and record["attempts"] == 0
    assert "not a loopback address" in record["error"]
    [listed] = sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"]
    assert listed["SubscriptionArn"] == "PendingConfirmation"


def test_confirm_subscription_with_a_wrong_token(sns, endpoint):
    hook = endpoint(auto_confirm=False)
    topic = sns.create_topic(Name=unique("token"))["TopicArn"]
    sns.subscribe(TopicArn=topic, Protocol="http", Endpoint=hook.url)
    hook.next("SubscriptionConfirmation")
    from botocore.exceptions import ClientError
    with pytest.raises(ClientError) as e:
        sns.confirm_subscription(TopicArn=topic, Token="0" * 64)
    assert e.value.response["Error"]["Code"] == "InvalidParameter"
    assert e.value.response["Error"]["Message"] == "Invalid parameter: Token"
