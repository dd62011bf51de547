"""Another account's topics and subscriptions, named by ARN: reached only as the topic's
policy allows (AddPermission, the Policy attribute), else AuthorizationError, the same for
a topic that does not exist; a subscription only by its owner or the topic's; services
publishing for another account (alarm actions, functions' destinations) only as the topic
policy allows."""

from __future__ import annotations

import json

import pytest
from harness import error_of, unique, unique_account

OWNER = "000000000000"


@pytest.fixture
def account():
    return unique_account()


@pytest.fixture
def other(cloudlet, account):
    return cloudlet.client("sns", aws_access_key_id=account)


def refused(call, **kwargs) -> str:
    code, status, message = error_of(call, **kwargs)
    assert (code, status) == ("AuthorizationError", 403), message
    return message


def attempts(topic: str) -> dict:
    """Every operation on a topic, with the parameters it needs."""
    return {
        "get_topic_attributes": {"TopicArn": topic},
        "set_topic_attributes": {"TopicArn": topic, "AttributeName": "DisplayName",
                                 "AttributeValue": "hijacked"},
        "publish": {"TopicArn": topic, "Message": "from a stranger"},
        "publish_batch": {"TopicArn": topic, "PublishBatchRequestEntries": [
            {"Id": "1", "Message": "m"}]},
        "subscribe": {"TopicArn": topic, "Protocol": "email", "Endpoint": "x@example.com"},
        "list_subscriptions_by_topic": {"TopicArn": topic},
        "add_permission": {"TopicArn": topic, "Label": "mine", "AWSAccountId": [OWNER],
                           "ActionName": ["Publish"]},
        "remove_permission": {"TopicArn": topic, "Label": "x"},
        "list_tags_for_resource": {"ResourceArn": topic},
        "tag_resource": {"ResourceArn": topic, "Tags": [{"Key": "owner", "Value": "me"}]},
        "untag_resource": {"ResourceArn": topic, "TagKeys": ["team"]},
        "delete_topic": {"TopicArn": topic},
    }


@pytest.mark.parametrize("operation", list(attempts("t")))
def test_another_accounts_topic_is_refused(sns, other, operation):
    topic = sns.create_topic(Name=unique("xacct"), Tags=[{"Key": "team", "Value": "a"}])[
        "TopicArn"]
    refused(getattr(other, operation), **attempts(topic)[operation])
    missing = topic.rsplit(":", 1)[0] + ":" + unique("none")
    refused(getattr(other, operation), **attempts(missing)[operation])  # nothing leaks
    # nothing changed
    attributes = sns.get_topic_attributes(TopicArn=topic)["Attributes"]
    assert attributes.get("DisplayName", "") == "" and attributes["SubscriptionsPending"] == "0"
    assert sns.list_tags_for_resource(ResourceArn=topic)["Tags"] == [
        {"Key": "team", "Value": "a"}]


def test_the_topic_policy_grants_another_account(sns, other, account):
    topic = sns.create_topic(Name=unique("shared"))["TopicArn"]
    sns.add_permission(TopicArn=topic, Label="partner", AWSAccountId=[account],
                       ActionName=["Publish", "GetTopicAttributes"])
    assert other.publish(TopicArn=topic, Message="granted")["MessageId"]
    assert other.get_topic_attributes(TopicArn=topic)["Attributes"]["TopicArn"] == topic
    refused(other.list_tags_for_resource, ResourceArn=topic)
    policy = json.loads(sns.get_topic_attributes(TopicArn=topic)["Attributes"]["Policy"])
    policy["Statement"].append({"Sid": "tags", "Effect": "Allow",
                                "Principal": {"AWS": account},
                                "Action": "SNS:ListTagsForResource", "Resource": topic})
    sns.set_topic_attributes(TopicArn=topic, AttributeName="Policy",
                             AttributeValue=json.dumps(policy))
    assert other.list_tags_for_resource(ResourceArn=topic)["Tags"] == []
    refused(other.delete_topic, TopicArn=topic)


def test_a_subscription_is_its_owners_and_the_topics(sns, other, account):
    topic = sns.create_topic(Name=unique("subs"))["TopicArn"]
    endpoint = f"arn:aws:lambda:us-east-1:{OWNER}:function:{unique('fn')}"
    mine = sns.subscribe(TopicArn=topic, Protocol="lambda", Endpoint=endpoint)[
        "SubscriptionArn"]
    assert refused(other.get_subscription_attributes, SubscriptionArn=mine)
    refused(other.set_subscription_attributes, SubscriptionArn=mine,
            AttributeName="FilterPolicy", AttributeValue='{"x": ["y"]}')
    missing = mine.rsplit(":", 1)[0] + ":00000000-0000-0000-0000-000000000000"
    refused(other.get_subscription_attributes, SubscriptionArn=missing)
    assert sns.get_subscription_attributes(SubscriptionArn=mine)["Attributes"][
        "Endpoint"] == endpoint
    # a subscription the stranger made (the policy let it subscribe) is the stranger's
    sns.add_permission(TopicArn=topic, Label="subscribe", AWSAccountId=[account],
                       ActionName=["Subscribe"])
    theirs = other.subscribe(TopicArn=topic, Protocol="lambda",
                             Endpoint=f"arn:aws:lambda:us-east-1:{account}:function:f")[
        "SubscriptionArn"]
    assert other.get_subscription_attributes(SubscriptionArn=theirs)["Attributes"][
        "Owner"] == account
    assert sns.get_subscription_attributes(SubscriptionArn=theirs)["Attributes"][
        "Owner"] == account


def test_an_alarm_of_another_account_publishes_only_as_the_policy_allows(
        cloudlet, sns, endpoint, subscribed):
    """Before the fix, any account's alarm published to any topic it named."""
    hook = endpoint()
    topic = sns.create_topic(Name=unique("alarms"))["TopicArn"]
    subscribed(hook, topic)
    stranger = unique_account()
    cw = cloudlet.client("cloudwatch", aws_access_key_id=stranger)
    name = unique("alarm")
    cw.put_metric_alarm(AlarmName=name, Namespace="X", MetricName="m", Statistic="Sum",
                        Period=60, EvaluationPeriods=1, Threshold=1,
                        ComparisonOperator="GreaterThanThreshold", AlarmActions=[topic])
    cw.set_alarm_state(AlarmName=name, StateValue="ALARM", StateReason="test")
    assert hook.nothing(wait=3)
    policy = json.loads(sns.get_topic_attributes(TopicArn=topic)["Attributes"]["Policy"])
    policy["Statement"].append({
        "Sid": "alarms", "Effect": "Allow", "Principal": {"Service": "cloudwatch.amazonaws.com"},
        "Action": "SNS:Publish", "Resource": topic,
        "Condition": {"StringEquals": {"aws:SourceAccount": stranger}}})
    sns.set_topic_attributes(TopicArn=topic, AttributeName="Policy",
                             AttributeValue=json.dumps(policy))
    cw.set_alarm_state(AlarmName=name, StateValue="OK", StateReason="test")
    cw.set_alarm_state(AlarmName=name, StateValue="ALARM", StateReason="again")
    body = json.loads(hook.next("Notification")[1])
    assert json.loads(body["Message"])["AlarmName"] == name
