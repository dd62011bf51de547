"""SNS state survives a restart; unconfirmed subscriptions expire after 3 days."""

from __future__ import annotations

import json
import urllib.request

from harness import error_of


def advance(server, seconds: float) -> None:
    server.advance_clock(seconds)


def certificate(server) -> bytes:
    url = f"{server.endpoint}/_cloudlet/sns/SimpleNotificationService.pem"
    with urllib.request.urlopen(url, timeout=5) as reply:
        return reply.read()


def test_unconfirmed_subscriptions_expire_after_three_days(fresh_cloudlet, wait_for):
    server = fresh_cloudlet()
    sns = server.client("sns")
    topic = sns.create_topic(Name="expiring")["TopicArn"]
    sns.subscribe(TopicArn=topic, Protocol="email", Endpoint="late@example.com")

    def mailbox():
        return server.control("GET", "/_cloudlet/sns/mail").json()["messages"]
    [mail] = wait_for(mailbox)
    token = mail["body"].split("Token=")[1].split()[0]
    assert sns.get_topic_attributes(TopicArn=topic)["Attributes"]["SubscriptionsPending"] == "1"
    advance(server, 2 * 24 * 3600)
    assert sns.get_topic_attributes(TopicArn=topic)["Attributes"]["SubscriptionsPending"] == "1"
    advance(server, 1 * 24 * 3600 + 120)
    assert sns.get_topic_attributes(TopicArn=topic)["Attributes"]["SubscriptionsPending"] == "0"
    assert sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"] == []
    assert error_of(sns.confirm_subscription, TopicArn=topic, Token=token) == (
        "InvalidParameter", 400, "Invalid parameter: Token")


def test_kill_9_keeps_topics_subscriptions_the_signing_key_and_undelivered_messages(
        fresh_cloudlet, endpoint, wait_for):
    server = fresh_cloudlet()
    sns = server.client("sns")
    durable = sns.create_topic(Name="durable", Attributes={"DisplayName": "D"},
                               Tags=[{"Key": "k", "Value": "v"}])["TopicArn"]
    sub = sns.subscribe(TopicArn=durable, Protocol="sqs",
                        Endpoint="arn:aws:sqs:us-east-1:000000000000:durable",
                        Attributes={"FilterPolicy": '{"a": ["b"]}'})["SubscriptionArn"]
    pem = certificate(server)
    assert pem.startswith(b"-----BEGIN CERTIFICATE-----")

    hook = endpoint()
    topic = sns.create_topic(Name="interrupted")["TopicArn"]
    sns.subscribe(TopicArn=topic, Protocol="http", Endpoint=hook.url, Attributes={
        "DeliveryPolicy": json.dumps({"healthyRetryPolicy": {
            "numRetries": 100, "minDelayTarget": 1, "maxDelayTarget": 1}})})
    hook.next("SubscriptionConfirmation")
    wait_for(lambda: sns.get_topic_attributes(
        TopicArn=topic)["Attributes"]["SubscriptionsConfirmed"] == "1")
    hook.statuses = [500] * 1000  # the endpoint is down: the message waits for a retry
    sns.publish(TopicArn=topic, Message="survives kill -9")
    wait_for(lambda: hook.attempts >= 2)
    server.kill9()

    hook.statuses = []  # the endpoint is back
    server = fresh_cloudlet(port=server.port)
    headers, body = hook.next("Notification", timeout=30)
    assert json.loads(body)["Message"] == "survives kill -9"
    sns = server.client("sns")
    assert sns.get_topic_attributes(TopicArn=durable)["Attributes"]["DisplayName"] == "D"
    assert sns.list_tags_for_resource(ResourceArn=durable)["Tags"] == [
        {"Key": "k", "Value": "v"}]
    attributes = sns.get_subscription_attributes(SubscriptionArn=sub)["Attributes"]
    assert json.loads(attributes["FilterPolicy"]) == {"a": ["b"]}
    assert certificate(server) == pem
