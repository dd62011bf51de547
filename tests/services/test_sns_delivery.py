"""SNS delivery pieces without a server: signatures, retry schedules, loopback, the bus."""

from __future__ import annotations

import base64
import json
import threading

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding

from cloudlet.events import Bus
from cloudlet.services.base import RequestContext
from cloudlet.services.sns.http_post import is_loopback, retry_delays
from cloudlet.services.sns.provider import SnsProvider
from cloudlet.services.sns.signing import Signer, string_to_sign
from cloudlet.store import Store


def test_string_to_sign_follows_awss_key_order():
    message = {"Type": "Notification", "MessageId": "id", "TopicArn": "arn", "Subject": "s",
               "Message": "m", "Timestamp": "t", "SignatureVersion": "1"}
    assert string_to_sign(message) == ("Message\nm\nMessageId\nid\nSubject\ns\nTimestamp\nt\n"
                                       "TopicArn\narn\nType\nNotification\n")
    del message["Subject"]
    assert "Subject" not in string_to_sign(message)
    confirmation = {"Type": "SubscriptionConfirmation", "MessageId": "id", "Token": "tok",
                    "TopicArn": "arn", "Message": "m", "SubscribeURL": "u", "Timestamp": "t"}
    assert string_to_sign(confirmation) == (
        "Message\nm\nMessageId\nid\nSubscribeURL\nu\nTimestamp\nt\nToken\ntok\nTopicArn\narn\n"
        "Type\nSubscriptionConfirmation\n")


def test_signer_keeps_one_key_and_signs_both_versions(tmp_path):
    message = {"Type": "Notification", "MessageId": "1", "TopicArn": "a", "Message": "m",
               "Timestamp": "t"}
    signer = Signer(tmp_path)
    certificate = x509.load_pem_x509_certificate(signer.certificate())
    for version, digest in (("1", hashes.SHA1()), ("2", hashes.SHA256())):
        signature = base64.b64decode(signer.sign(message, version))
        certificate.public_key().verify(signature, string_to_sign(message).encode(),
                                        padding.PKCS1v15(), digest)
    assert Signer(tmp_path).certificate() == signer.certificate()  # generated once


def test_retry_delays_follow_the_four_phases():
    assert retry_delays({"numRetries": 3, "minDelayTarget": 20, "maxDelayTarget": 20}) == [20] * 3
    delays = retry_delays({"numRetries": 6, "numNoDelayRetries": 1, "numMinDelayRetries": 1,
                           "numMaxDelayRetries": 1, "minDelayTarget": 2, "maxDelayTarget": 10})
    assert delays[0] == 0 and delays[1] == 2 and delays[-1] == 10 and len(delays) == 6
    assert delays[2] < delays[3] < delays[4] <= 10
    assert len(retry_delays({"numRetries": 1000})) == 100


def test_only_loopback_hosts():
    for host in ("127.0.0.1", "127.8.9.10", "localhost", "::1", "[::1]", "LOCALHOST"):
        assert is_loopback(host), host
    for host in ("10.0.0.1", "example.com", "localhost.example.com", "0.0.0.0", "", None):
        assert not is_loopback(host), host


def _provider(tmp_path):
    bus = Bus()
    provider = SnsProvider(Store.open(tmp_path), bus)
    ctx = RequestContext(service="sns", operation="", region="us-east-1",
                         account_id="000000000000", request_id="r")
    return provider, bus, ctx


def test_bus_publish_and_lambda_invoke(tmp_path):
    provider, bus, ctx = _provider(tmp_path)
    topic = provider.create_topic(ctx, {"Name": "alarms"})["TopicArn"]
    function = "arn:aws:lambda:us-east-1:000000000000:function:on-alarm"
    sub = provider.subscribe(ctx, {"TopicArn": topic, "Protocol": "lambda", "Endpoint": function})
    invoked, done = [], threading.Event()

    def on_invoke(event):
        invoked.append(event)
        done.set()
    bus.subscribe("lambda:invoke", on_invoke)
    bus.publish("sns:publish", {"account": "000000000000", "region": "us-east-1",
                                "topic_arn": topic, "message": '{"AlarmName": "x"}',
                                "subject": "ALARM: x"})
    assert done.wait(10)
    [event] = invoked
    assert event["function_arn"] == function and event["source_arn"] == topic
    [record] = json.loads(event["payload"])["Records"]
    assert record["EventSource"] == "aws:sns"
    assert record["EventSubscriptionArn"] == sub["SubscriptionArn"]
    assert record["Sns"]["Message"] == '{"AlarmName": "x"}'
    assert record["Sns"]["Subject"] == "ALARM: x"
    assert provider.topic_exists(topic) and not provider.topic_exists(topic + "x")
    provider.stop()


def test_a_message_is_kept_until_every_delivery_finished(tmp_path):
    import time

    provider, bus, ctx = _provider(tmp_path)
    topic = provider.create_topic(ctx, {"Name": "kept"})["TopicArn"]
    provider.subscribe(ctx, {"TopicArn": topic, "Protocol": "sqs",
                             "Endpoint": "arn:aws:sqs:us-east-1:000000000000:q"})
    provider.publish(ctx, {"TopicArn": topic, "Message": "m", "MessageAttributes": {
        "b": {"DataType": "Binary", "BinaryValue": b"\x00\x01"}}})
    deadline = time.monotonic() + 10
    while provider.sns.kept_messages() and time.monotonic() < deadline:
        time.sleep(0.02)
    assert provider.sns.kept_messages() == []
    assert len(provider.sns.deliveries("000000000000", "arn:aws:sqs:us-east-1:000000000000:q")) == 1

    # A kept message (a crash before delivery) is delivered by resume(), then forgotten.
    from cloudlet.services.sns.message import Message
    message = Message(message_id="m-1", topic_arn=topic, message="again", timestamp="t",
                      attributes={"b": {"DataType": "Binary", "BinaryValue": b"\x02"}})
    provider.sns.keep_message("m-1", topic, message.to_json())
    assert Message.from_json(provider.sns.kept_messages()[0]) == message
    provider.deliveries.resume()
    deadline = time.monotonic() + 10
    while provider.sns.kept_messages() and time.monotonic() < deadline:
        time.sleep(0.02)
    assert provider.sns.kept_messages() == []
    assert len(provider.sns.deliveries("000000000000", "arn:aws:sqs:us-east-1:000000000000:q")) == 2
    provider.stop()


def test_topic_delivery_policy_can_disable_subscription_overrides(tmp_path):
    provider, _, _ = _provider(tmp_path)
    own = {"healthyRetryPolicy": {"numRetries": 7, "minDelayTarget": 1, "maxDelayTarget": 1}}
    topic_policy = {"http": {"defaultHealthyRetryPolicy": {"numRetries": 2},
                             "disableSubscriptionOverrides": False}}
    sub = {"topic_arn": "t", "attributes": {"DeliveryPolicy": json.dumps(own)}}
    topic = {"attributes": {"DeliveryPolicy": json.dumps(topic_policy)}}
    assert provider.deliveries._retry_policy(sub, topic)["numRetries"] == 7
    topic_policy["http"]["disableSubscriptionOverrides"] = True
    topic = {"attributes": {"DeliveryPolicy": json.dumps(topic_policy)}}
    assert provider.deliveries._retry_policy(sub, topic)["numRetries"] == 2
    assert provider.deliveries._retry_policy({"attributes": {}}, {"attributes": {}})[
        "numRetries"] == 3
    provider.stop()
