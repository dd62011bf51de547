"""Publish and PublishBatch: filter policies, message attributes, FIFO, SQS records."""

from __future__ import annotations

import json
import time
import urllib.parse

import pytest
from harness import error_of, unique
from sns_attributes import attrs


def queue_arn() -> str:
    return f"arn:aws:sqs:us-east-1:000000000000:{unique('q')}"


@pytest.fixture
def stored(internal):
    """stored(queue_arn) -> the message bodies SNS recorded for an SQS endpoint."""
    def get(endpoint: str, count: int | None = None, timeout: float = 10) -> list[dict]:
        deadline = time.monotonic() + timeout
        while True:
            found = internal("deliveries?endpoint=" + urllib.parse.quote(endpoint))["deliveries"]
            if count is None or len(found) >= count or time.monotonic() > deadline:
                return found
            time.sleep(0.05)
    return get


CASES = [  # (filter policy, message attributes, delivered?)
    ({"store": ["example_corp"]}, attrs(store="example_corp"), True),
    ({"store": ["example_corp"]}, attrs(store="other"), False),
    ({"store": ["example_corp"]}, attrs(), False),
    ({"price": [100]}, attrs(price=100.0), True),
    ({"price": [100]}, attrs(price="100"), False),
    ({"event": [{"anything-but": ["order_cancelled", "order_failed"]}]}, attrs(event="placed"), True),
    ({"event": [{"anything-but": ["order_cancelled"]}]}, attrs(event="order_cancelled"), False),
    ({"event": [{"anything-but": {"prefix": "order-"}}]}, attrs(event="order-x"), False),
    ({"event": [{"prefix": "order-"}]}, attrs(event="order-placed"), True),
    ({"file": [{"suffix": ".png"}]}, attrs(file="cat.png"), True),
    ({"file": [{"suffix": ".png"}]}, attrs(file="cat.jpg"), False),
    ({"price": [{"numeric": [">", 0, "<=", 150]}]}, attrs(price=150), True),
    ({"price": [{"numeric": [">", 0, "<=", 150]}]}, attrs(price=150.5), False),
    ({"price": [{"numeric": ["=", 3]}]}, attrs(price=3.0), True),
    ({"customer": [{"exists": True}]}, attrs(customer="x"), True),
    ({"customer": [{"exists": False}]}, attrs(customer="x"), False),
    ({"customer": [{"exists": False}]}, attrs(other="x"), True),
    ({"state": [{"equals-ignore-case": "ACTIVE"}]}, attrs(state="active"), True),
    ({"colors": ["red"]}, attrs(colors=["blue", "red"]), True),
    ({"colors": ["red"]}, attrs(colors=["blue"]), False),
    ({"source_ip": [{"cidr": "10.0.0.0/24"}]}, attrs(source_ip="10.0.0.7"), True),
    ({"store": ["a"], "$or": [{"kind": ["x"]}, {"price": [{"numeric": [">", 10]}]}]},
     attrs(store="a", price=11), True),
    ({"store": ["a"], "$or": [{"kind": ["x"]}, {"price": [{"numeric": [">", 10]}]}]},
     attrs(store="a", price=5), False),
    ({"store": ["a"], "kind": ["x"]}, attrs(store="a"), False),
]


def test_filter_policies_on_message_attributes(sns, stored):
    topic = sns.create_topic(Name=unique("filters"))["TopicArn"]
    queues = []
    for policy, _, _ in CASES:
        queues.append(queue_arn())
        sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queues[-1],
                      Attributes={"FilterPolicy": json.dumps(policy)})
    for i, (_, attributes, _) in enumerate(CASES):
        sns.publish(TopicArn=topic, Message=f"case {i}", **(
            {"MessageAttributes": attributes} if attributes else {}))
    sentinel = queue_arn()  # published last, no filter: once it has every message, all are done
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=sentinel)
    sns.publish(TopicArn=topic, Message="last")
    stored(sentinel, 1)
    time.sleep(0.3)
    for i, ((policy, attributes, expected), queue) in enumerate(zip(CASES, queues, strict=True)):
        got = [json.loads(d["body"])["Message"] for d in stored(queue)]
        assert (f"case {i}" in got) is expected, (policy, attributes, got)


def test_filter_policy_on_the_message_body(sns, stored):
    topic = sns.create_topic(Name=unique("body"))["TopicArn"]
    queue = queue_arn()
    policy = {"order": {"region": ["eu-west-1", {"prefix": "us-"}]},
              "amount": [{"numeric": [">=", 100]}], "$or": [{"vip": [True]}, {"items": ["gift"]}]}
    sub = sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue, ReturnSubscriptionArn=True,
                        Attributes={"FilterPolicyScope": "MessageBody",
                                    "FilterPolicy": json.dumps(policy)})["SubscriptionArn"]
    attributes = sns.get_subscription_attributes(SubscriptionArn=sub)["Attributes"]
    assert attributes["FilterPolicyScope"] == "MessageBody"
    messages = [
        {"order": {"region": "us-east-2"}, "amount": 120, "vip": True},   # yes
        {"order": {"region": "eu-west-1"}, "amount": 100, "items": ["book", "gift"]},  # yes
        {"order": {"region": "ap-south-1"}, "amount": 500, "vip": True},  # region
        {"order": {"region": "us-east-2"}, "amount": 99, "vip": True},    # amount
        {"order": {"region": "us-east-2"}, "amount": 120},                # $or
    ]
    for m in messages:
        sns.publish(TopicArn=topic, Message=json.dumps(m))
    sns.publish(TopicArn=topic, Message="not json")
    sns.set_subscription_attributes(SubscriptionArn=sub, AttributeName="FilterPolicy",
                                    AttributeValue="")
    sns.publish(TopicArn=topic, Message="unfiltered now")
    found = [json.loads(d["body"])["Message"] for d in stored(queue, 3)]
    assert found == [json.dumps(messages[0]), json.dumps(messages[1]), "unfiltered now"]


def test_sqs_records_envelope_or_raw_body(sns, stored):
    topic = sns.create_topic(Name=unique("sqs"))["TopicArn"]
    envelope_queue, raw_queue = queue_arn(), queue_arn()
    sub = sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=envelope_queue)["SubscriptionArn"]
    assert sub.startswith(topic + ":")  # SQS subscriptions need no confirmation
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=raw_queue,
                  Attributes={"RawMessageDelivery": "true"})
    message_id = sns.publish(TopicArn=topic, Message="payload", Subject="S",
                             MessageAttributes=attrs(kind="test"))["MessageId"]
    [record] = stored(envelope_queue, 1)
    assert record["status"] == "stored" and record["message_id"] == message_id
    body = json.loads(record["body"])
    assert (body["Type"], body["Message"], body["Subject"]) == ("Notification", "payload", "S")
    assert body["MessageAttributes"] == {"kind": {"Type": "String", "Value": "test"}}
    [raw] = stored(raw_queue, 1)
    assert raw["body"] == "payload"
    assert json.loads(raw["attributes"]) == {"kind": {"Type": "String", "Value": "test"}}

    # Raw delivery to SQS carries at most 10 attributes; more is a client-side failure.
    many = sns.publish(TopicArn=topic, Message="crowded",
                       MessageAttributes=attrs(**{f"a{i}": "v" for i in range(11)}))["MessageId"]
    records = {d["message_id"]: d for d in stored(raw_queue, 2)}
    assert records[many]["status"] == "failed"
    assert "more than 10 message attributes" in records[many]["error"]
    # MessageStructure=json: attributes are not sent.
    sns.publish(TopicArn=topic, Message=json.dumps({"default": "d"}), MessageStructure="json",
                MessageAttributes=attrs(kind="hidden"))
    last = json.loads(stored(envelope_queue, 3)[-1]["body"])
    assert last["Message"] == "d" and "MessageAttributes" not in last


def test_publish_batch(sns, stored):
    topic = sns.create_topic(Name=unique("batch"))["TopicArn"]
    queue = queue_arn()
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue)
    entries = [{"Id": f"m{i}", "Message": f"message {i}"} for i in range(9)]
    entries.append({"Id": "bad", "Message": "x", "MessageAttributes": {
        "n": {"DataType": "Number", "StringValue": "not a number"}}})
    reply = sns.publish_batch(TopicArn=topic, PublishBatchRequestEntries=entries)
    assert sorted(s["Id"] for s in reply["Successful"]) == sorted(f"m{i}" for i in range(9))
    assert all(s["MessageId"] for s in reply["Successful"])
    [failed] = reply["Failed"]
    assert failed["Id"] == "bad" and failed["Code"] == "ParameterValueInvalid"
    assert failed["SenderFault"] is True
    assert failed["Message"] == "Could not cast message attribute 'n' value to number."
    got = {json.loads(d["body"])["Message"] for d in stored(queue, 9)}
    assert got == {f"message {i}" for i in range(9)}


def test_fifo_publish_needs_group_and_deduplicates(sns, stored):
    topic = sns.create_topic(Name=unique("fifo") + ".fifo",
                             Attributes={"FifoTopic": "true"})["TopicArn"]
    queue = queue_arn() + ".fifo"
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue)
    assert error_of(sns.publish, TopicArn=topic, Message="m", MessageDeduplicationId="d")[2] == (
        "Invalid parameter: The MessageGroupId parameter is required for FIFO topics")
    assert error_of(sns.publish, TopicArn=topic, Message="m", MessageGroupId="g")[2] == (
        "Invalid parameter: The topic should either have ContentBasedDeduplication enabled or "
        "MessageDeduplicationId provided explicitly")
    first = sns.publish(TopicArn=topic, Message="m1", MessageGroupId="g",
                        MessageDeduplicationId="same")
    again = sns.publish(TopicArn=topic, Message="m1 again", MessageGroupId="g",
                        MessageDeduplicationId="same")
    other = sns.publish(TopicArn=topic, Message="m2", MessageGroupId="g",
                        MessageDeduplicationId="other")
    assert again["MessageId"] == first["MessageId"]
    assert len(first["SequenceNumber"]) == 20
    assert int(other["SequenceNumber"]) > int(first["SequenceNumber"])
    bodies = [json.loads(d["body"]) for d in stored(queue, 2)]
    time.sleep(0.2)
    bodies = [json.loads(d["body"]) for d in stored(queue)]
    assert [b["Message"] for b in bodies] == ["m1", "m2"]
    assert bodies[0]["SequenceNumber"] == first["SequenceNumber"]
    # Standard topics refuse a deduplication id.
    standard = sns.create_topic(Name=unique("std"))["TopicArn"]
    assert error_of(sns.publish, TopicArn=standard, Message="m",
                    MessageDeduplicationId="d")[:2] == ("InvalidParameter", 400)
