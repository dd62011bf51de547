"""Random input to every SNS operation Cloudlet implements: an SNS error, never a 5xx."""

from __future__ import annotations

from urllib.parse import urlencode

from harness import send_signed
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

HEADERS = {"Content-Type": "application/x-www-form-urlencoded"}
TOPIC = "arn:aws:sns:us-east-1:000000000000:fuzzed"
OPERATIONS = [
    "CreateTopic", "DeleteTopic", "ListTopics", "GetTopicAttributes", "SetTopicAttributes",
    "Subscribe", "ConfirmSubscription", "Unsubscribe", "ListSubscriptions",
    "ListSubscriptionsByTopic", "GetSubscriptionAttributes", "SetSubscriptionAttributes",
    "Publish", "PublishBatch", "TagResource", "UntagResource", "ListTagsForResource",
    "AddPermission", "RemovePermission"]
KEYS = ["Name", "TopicArn", "TargetArn", "Message", "Subject", "MessageStructure", "Protocol",
        "Endpoint", "Token", "SubscriptionArn", "AttributeName", "AttributeValue", "Label",
        "ResourceArn", "NextToken", "MessageGroupId", "MessageDeduplicationId", "PhoneNumber",
        "Attributes.entry.1.key", "Attributes.entry.1.value",
        "MessageAttributes.entry.1.Name", "MessageAttributes.entry.1.Value.DataType",
        "MessageAttributes.entry.1.Value.StringValue", "Tags.member.1.Key",
        "Tags.member.1.Value", "TagKeys.member.1", "AWSAccountId.member.1",
        "ActionName.member.1", "PublishBatchRequestEntries.member.1.Id",
        "PublishBatchRequestEntries.member.1.Message"]
VALUES = st.one_of(
    st.text(max_size=40), st.sampled_from([
        TOPIC, TOPIC + ".fifo", "http://127.0.0.1:9/x", "sqs", "http", "email", "a@b.c",
        "json", "{}", '{"default": "x"}', '{"a": [{"numeric": [">", 1e999]}]}', "Number",
        "String.Array", "[1, [2]]", "FilterPolicy", "DeliveryPolicy", "RawMessageDelivery",
        "Policy", "FifoTopic", "true", "-1", "1e400", "arn:aws:sqs:us-east-1:000000000000:q",
        "[" * 2000, "\x00", "é" * 20]))


@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(operation=st.sampled_from(OPERATIONS),
       params=st.dictionaries(st.sampled_from(KEYS), VALUES, max_size=8))
def test_no_5xx(cloudlet, operation, params):
    body = urlencode({"Action": operation, "Version": "2010-03-31", **params})
    reply = send_signed(cloudlet.endpoint, "sns", body, HEADERS)
    assert reply.status_code < 500, (operation, params, reply.text)
    assert reply.status_code == 200 or "<ErrorResponse" in reply.text
