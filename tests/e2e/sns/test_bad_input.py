"""Bad input gets SNS's modeled errors, and the server stays healthy."""

from __future__ import annotations

import json

import pytest
from harness import error_of, unique

MISSING = "arn:aws:sns:us-east-1:000000000000:no-such-topic-anywhere"


@pytest.fixture
def topic(sns):
    return sns.create_topic(Name=unique("bad"))["TopicArn"]


@pytest.mark.parametrize("name", ["has space", "semi;colon", "x" * 257, "dots.in.name", ""])
def test_invalid_topic_names(sns, name):
    code, status, message = error_of(sns.create_topic, Name=name)
    assert (code, status) in {("InvalidParameter", 400), ("ValidationError", 400)}
    if name:
        assert message == "Invalid parameter: Topic Name"


def test_missing_topics_are_not_found(sns):
    for call, kwargs in [
        (sns.get_topic_attributes, {"TopicArn": MISSING}),
        (sns.set_topic_attributes, {"TopicArn": MISSING, "AttributeName": "DisplayName",
                                    "AttributeValue": "x"}),
        (sns.publish, {"TopicArn": MISSING, "Message": "m"}),
        (sns.subscribe, {"TopicArn": MISSING, "Protocol": "email", "Endpoint": "a@b.c"}),
        (sns.list_subscriptions_by_topic, {"TopicArn": MISSING}),
        (sns.publish_batch, {"TopicArn": MISSING,
                             "PublishBatchRequestEntries": [{"Id": "a", "Message": "m"}]}),
    ]:
        assert error_of(call, **kwargs) == ("NotFound", 404, "Topic does not exist"), call
    assert error_of(sns.get_subscription_attributes, SubscriptionArn=MISSING
                    + ":0b6f4d1c-1d1b-4b9e-9c55-2f0a1a3b9e11") == (
        "NotFound", 404, "Subscription does not exist")
    assert error_of(sns.get_topic_attributes, TopicArn="not-an-arn") == (
        "InvalidParameter", 400, "Invalid parameter: TopicArn")


def test_publish_batch_limits(sns, topic):
    eleven = [{"Id": f"m{i}", "Message": "m"} for i in range(11)]
    assert error_of(sns.publish_batch, TopicArn=topic, PublishBatchRequestEntries=eleven) == (
        "TooManyEntriesInBatchRequest", 400,
        "The batch request contains more entries than permissible.")
    assert error_of(sns.publish_batch, TopicArn=topic, PublishBatchRequestEntries=[]) [:2] == (
        "EmptyBatchRequest", 400)
    twice = [{"Id": "same", "Message": "a"}, {"Id": "same", "Message": "b"}]
    assert error_of(sns.publish_batch, TopicArn=topic, PublishBatchRequestEntries=twice)[:2] == (
        "BatchEntryIdsNotDistinct", 400)
    assert error_of(sns.publish_batch, TopicArn=topic,
                    PublishBatchRequestEntries=[{"Id": "no spaces", "Message": "a"}])[:2] == (
        "InvalidBatchEntryId", 400)
    big = [{"Id": f"m{i}", "Message": "x" * 60_000} for i in range(5)]
    assert error_of(sns.publish_batch, TopicArn=topic, PublishBatchRequestEntries=big)[:2] == (
        "BatchRequestTooLong", 400)


@pytest.mark.parametrize("policy, reason", [
    ("{not json", "FilterPolicy: failed to parse JSON"),
    ('["a"]', "FilterPolicy: Filter policy must be a JSON object"),
    ('{"a": "b"}', "FilterPolicy:"),
    ('{"a": []}', "FilterPolicy: Empty arrays are not allowed"),
    ('{"a": [{"bogus": 1}]}', "FilterPolicy: Unrecognized match type bogus"),
    ('{"a": [{"numeric": [">", "x"]}]}', "FilterPolicy: Value of numeric must be a number"),
    ('{"a": [{"numeric": ["<", 5, ">", 1]}]}', "FilterPolicy: Bad numeric range operator"),
    ('{"a": [{"exists": "yes"}]}', "FilterPolicy: exists match pattern must be either true or false."),
    ('{"a": {"b": ["c"]}}', "FilterPolicy:"),
    ('{"a":[1],"b":[1],"c":[1],"d":[1],"e":[1],"f":[1]}', "FilterPolicy: Filter policy can not have more than 5 keys"),
])
def test_invalid_filter_policies(sns, topic, policy, reason):
    code, status, message = error_of(
        sns.subscribe, TopicArn=topic, Protocol="sqs",
        Endpoint=f"arn:aws:sqs:us-east-1:000000000000:{unique('q')}",
        Attributes={"FilterPolicy": policy})
    assert (code, status) == ("InvalidParameter", 400)
    assert message.startswith(f"Invalid parameter: {reason}"), message


def test_too_complex_filter_policy(sns, topic):
    policy = {k: list(range(6)) for k in "abc"}  # 216 combinations > 150
    assert error_of(sns.subscribe, TopicArn=topic, Protocol="sqs",
                    Endpoint=f"arn:aws:sqs:us-east-1:000000000000:{unique('q')}",
                    Attributes={"FilterPolicy": json.dumps(policy)})[:2] == (
        "FilterPolicyLimitExceeded", 403)


def test_bad_publish_input(sns, topic):
    cases = [
        ({"Message": ""}, "InvalidParameter", "Invalid parameter: Empty message"),
        ({"Message": "x" * (256 * 1024 + 1)}, "InvalidParameter",
         "Invalid parameter: Message too long"),
        ({"Message": "m", "Subject": "line\nbreak"}, "InvalidParameter",
         "Invalid parameter: Subject"),
        ({"Message": "{}", "MessageStructure": "json"}, "InvalidParameter",
         "Invalid parameter: Message Structure - No default entry in JSON message body"),
        ({"Message": "nope", "MessageStructure": "json"}, "InvalidParameter",
         "Invalid parameter: Message Structure - JSON message body failed to parse"),
        ({"Message": "m", "MessageAttributes": {"n": {"DataType": "Number",
                                                      "StringValue": "abc"}}},
         "ParameterValueInvalid", "Could not cast message attribute 'n' value to number."),
        ({"Message": "m", "MessageAttributes": {"t": {"DataType": "Date", "StringValue": "x"}}},
         "ParameterValueInvalid", "The message attribute 't' has an invalid message attribute "
         "type, the set of supported type prefixes is Binary, Number, and String."),
        ({"Message": "m", "MessageAttributes": {"s": {"DataType": "String", "StringValue": ""}}},
         "ParameterValueInvalid", "The message attribute 's' must contain non-empty message "
         "attribute value for message attribute type 'String'."),
    ]
    for kwargs, code, message in cases:
        assert error_of(sns.publish, TopicArn=topic, **kwargs) == (code, 400, message), kwargs
    for name in ("aws.reserved", "Amazon.x", ".lead", "trail.", "two..dots", "sp ace"):
        code, status, _ = error_of(sns.publish, TopicArn=topic, Message="m", MessageAttributes={
            name: {"DataType": "String", "StringValue": "v"}})
        assert (code, status) == ("InvalidParameter", 400), name
    assert error_of(sns.publish, Message="m") == (
        "InvalidParameter", 400,
        "Invalid parameter: TopicArn or TargetArn Reason: no value for required parameter")


def test_bad_subscriptions(sns, topic):
    cases = [
        ({"Protocol": "carrier-pigeon", "Endpoint": "x"},
         "Invalid parameter: Amazon SNS does not support this protocol string: carrier-pigeon"),
        ({"Protocol": "http", "Endpoint": "https://127.0.0.1/x"},
         "Invalid parameter: Endpoint must match the specified protocol"),
        ({"Protocol": "email", "Endpoint": "not-an-address"}, "Invalid parameter: Email address"),
        ({"Protocol": "sqs", "Endpoint": "my-queue"}, "Invalid parameter: SQS endpoint ARN"),
        ({"Protocol": "lambda", "Endpoint": "fn"}, "Invalid parameter: Lambda endpoint ARN"),
        ({"Protocol": "email", "Endpoint": "a@b.c", "Attributes": {"RawMessageDelivery": "true"}},
         "Invalid parameter: Attributes Reason: Delivery protocol [email] does not support raw "
         "message delivery."),
        ({"Protocol": "sqs", "Endpoint": "arn:aws:sqs:us-east-1:000000000000:q",
          "Attributes": {"FilterPolicyScope": "Elsewhere"}},
         "Invalid parameter: Attributes Reason: FilterPolicyScope: Invalid value [Elsewhere]. "
         "Please use either MessageBody or MessageAttributes"),
    ]
    for kwargs, message in cases:
        assert error_of(sns.subscribe, TopicArn=topic, **kwargs) == (
            "InvalidParameter", 400, message), kwargs
    code, _, message = error_of(sns.subscribe, TopicArn=topic, Protocol="application",
                                Endpoint="arn:aws:sns:us-east-1:000000000000:endpoint/GCM/a/b")
    assert code == "InvalidParameter" and "platform" in message
    sub = sns.subscribe(TopicArn=topic, Protocol="sqs",
                        Endpoint=f"arn:aws:sqs:us-east-1:000000000000:{unique('q')}")
    assert error_of(sns.set_subscription_attributes, SubscriptionArn=sub["SubscriptionArn"],
                    AttributeName="Bogus", AttributeValue="1") == (
        "InvalidParameter", 400, "Invalid parameter: AttributeName")
    assert error_of(sns.set_subscription_attributes, SubscriptionArn=sub["SubscriptionArn"],
                    AttributeName="FilterPolicy", AttributeValue="{oops") [:2] == (
        "InvalidParameter", 400)
    assert error_of(sns.set_subscription_attributes, SubscriptionArn=sub["SubscriptionArn"],
                    AttributeName="RedrivePolicy",
                    AttributeValue='{"deadLetterTargetArn": "nope"}')[:2] == (
        "InvalidParameter", 400)
    assert error_of(sns.unsubscribe, SubscriptionArn="garbage") == (
        "InvalidParameter", 400, "Invalid parameter: SubscriptionArn")


def test_server_stays_healthy(cloudlet, sns, topic):
    for _ in range(3):
        error_of(sns.publish, TopicArn=topic, Message="")
        error_of(sns.create_topic, Name="bad name")
    assert cloudlet.health()["status"] == "running"
    assert sns.publish(TopicArn=topic, Message="still fine")["MessageId"]


def test_raw_requests_boto3_would_refuse(cloudlet):
    from harness import send_signed

    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    topic = f"arn:aws:sns:us-east-1:000000000000:{unique('raw')}"
    name = topic.rsplit(":", 1)[1]
    cases = [
        ("Action=Publish&Version=2010-03-31&TopicArn=" + topic, 400, "ValidationError"),
        ("Action=CreateTopic&Version=2010-03-31", 400, "ValidationError"),
        (f"Action=CreateTopic&Version=2010-03-31&Name={name}"
         "&Attributes.entry.1.key=DeliveryPolicy&Attributes.entry.1.value=%7B%22http%22%3A5%7D",
         400, "InvalidParameter"),
        (f"Action=CreateTopic&Version=2010-03-31&Name={name}"
         "&Attributes.entry.1.key=DisplayName", 200, "CreateTopicResponse"),
        (f"Action=Subscribe&Version=2010-03-31&TopicArn={topic}&Protocol=sqs"
         "&Endpoint=arn:aws:sqs:us-east-1:000000000000:q"
         "&Attributes.entry.1.key=FilterPolicy&Attributes.entry.1.value=" + "%5B" * 50_000,
         400, "InvalidParameter"),
        (f"Action=Publish&Version=2010-03-31&TopicArn={topic}&Message=m"
         "&MessageAttributes.entry.1.Name=n&MessageAttributes.entry.1.Value.DataType=Number"
         "&MessageAttributes.entry.1.Value.StringValue=" + "9" * 400,
         400, "ParameterValueInvalid"),
    ]
    for body, status, marker in cases:
        reply = send_signed(cloudlet.endpoint, "sns", body, headers)
        assert reply.status_code == status and marker in reply.text, (body[:120], reply.text)
