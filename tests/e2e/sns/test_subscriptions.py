"""Subscriptions: idempotent Subscribe, attributes, listings in pages, authorization."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

import pytest
from harness import error_of, unique


def queue() -> str:
    return f"arn:aws:sqs:us-east-1:000000000000:{unique('q')}"


def test_subscribe_is_idempotent_and_attributes_have_aws_shape(sns):
    topic = sns.create_topic(Name=unique("subs"))["TopicArn"]
    endpoint = queue()
    arn = sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=endpoint)["SubscriptionArn"]
    assert sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=endpoint)["SubscriptionArn"] == arn
    assert error_of(sns.subscribe, TopicArn=topic, Protocol="sqs", Endpoint=endpoint,
                    Attributes={"RawMessageDelivery": "true"}) == (
        "InvalidParameter", 400,
        "Invalid parameter: Attributes Reason: Subscription already exists with different "
        "attributes")
    attributes = sns.get_subscription_attributes(SubscriptionArn=arn)["Attributes"]
    assert attributes["SubscriptionArn"] == arn and attributes["TopicArn"] == topic
    assert (attributes["Protocol"], attributes["Endpoint"]) == ("sqs", endpoint)
    assert attributes["Owner"] == "000000000000"
    assert attributes["PendingConfirmation"] == "false"
    assert attributes["RawMessageDelivery"] == "false"
    assert "FilterPolicy" not in attributes

    sns.set_subscription_attributes(SubscriptionArn=arn, AttributeName="FilterPolicy",
                                    AttributeValue='{"kind": ["a"]}')
    attributes = sns.get_subscription_attributes(SubscriptionArn=arn)["Attributes"]
    assert json.loads(attributes["FilterPolicy"]) == {"kind": ["a"]}
    assert attributes["FilterPolicyScope"] == "MessageAttributes"
    sns.set_subscription_attributes(SubscriptionArn=arn, AttributeName="FilterPolicyScope",
                                    AttributeValue="MessageBody")
    assert sns.get_subscription_attributes(
        SubscriptionArn=arn)["Attributes"]["FilterPolicyScope"] == "MessageBody"
    sns.set_subscription_attributes(SubscriptionArn=arn, AttributeName="RedrivePolicy",
                                    AttributeValue=json.dumps({"deadLetterTargetArn": queue()}))
    assert "RedrivePolicy" in sns.get_subscription_attributes(SubscriptionArn=arn)["Attributes"]

    sns.unsubscribe(SubscriptionArn=arn)
    assert error_of(sns.get_subscription_attributes, SubscriptionArn=arn) == (
        "NotFound", 404, "Subscription does not exist")
    sns.unsubscribe(SubscriptionArn=arn)  # again: succeeds, as on AWS
    assert sns.get_topic_attributes(TopicArn=topic)["Attributes"]["SubscriptionsDeleted"] == "1"


def test_return_subscription_arn_for_a_pending_subscription(sns):
    topic = sns.create_topic(Name=unique("pending"))["TopicArn"]
    arn = sns.subscribe(TopicArn=topic, Protocol="email", Endpoint=f"{unique('a')}@example.com",
                        ReturnSubscriptionArn=True)["SubscriptionArn"]
    assert arn.startswith(topic + ":")
    attributes = sns.get_subscription_attributes(SubscriptionArn=arn)["Attributes"]
    assert attributes["PendingConfirmation"] == "true"
    assert attributes["ConfirmationWasAuthenticated"] == "false"


def test_list_subscriptions_in_pages_of_100(sns):
    topic = sns.create_topic(Name=unique("many"))["TopicArn"]
    created = {sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue())["SubscriptionArn"]
               for _ in range(102)}
    page = sns.list_subscriptions_by_topic(TopicArn=topic)
    assert len(page["Subscriptions"]) == 100 and page["NextToken"]
    rest = sns.list_subscriptions_by_topic(TopicArn=topic, NextToken=page["NextToken"])
    assert len(rest["Subscriptions"]) == 2 and "NextToken" not in rest
    assert {s["SubscriptionArn"] for s in page["Subscriptions"] + rest["Subscriptions"]} == created
    everything = {s["SubscriptionArn"] for p in sns.get_paginator("list_subscriptions").paginate()
                  for s in p["Subscriptions"]}
    assert created <= everything


def test_authenticate_on_unsubscribe_refuses_the_anonymous_link(sns, endpoint):
    hook = endpoint(auto_confirm=False)
    topic = sns.create_topic(Name=unique("auth"))["TopicArn"]
    sns.subscribe(TopicArn=topic, Protocol="http", Endpoint=hook.url)
    token = json.loads(hook.next("SubscriptionConfirmation")[1])["Token"]
    arn = sns.confirm_subscription(TopicArn=topic, Token=token,
                                   AuthenticateOnUnsubscribe="true")["SubscriptionArn"]
    attributes = sns.get_subscription_attributes(SubscriptionArn=arn)["Attributes"]
    assert attributes["ConfirmationWasAuthenticated"] == "true"
    sns.publish(TopicArn=topic, Message="m")
    unsubscribe_url = json.loads(hook.next("Notification")[1])["UnsubscribeURL"]
    with pytest.raises(urllib.error.HTTPError) as e:
        urllib.request.urlopen(unsubscribe_url, timeout=5)
    assert e.value.code == 403 and b"AuthorizationError" in e.value.read()
    sns.unsubscribe(SubscriptionArn=arn)  # signed: allowed
    assert sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"] == []


def test_other_operations_are_not_anonymous(cloudlet):
    with pytest.raises(urllib.error.HTTPError) as e:
        urllib.request.urlopen(f"{cloudlet.endpoint}/?Action=ListTopics&Version=2010-03-31",
                               timeout=5)
    assert e.value.code == 403


def test_iam_user_policies_apply_to_sns(cloudlet, sns):
    iam = cloudlet.client("iam")
    allowed = sns.create_topic(Name=unique("allowed"))["TopicArn"]
    denied = sns.create_topic(Name=unique("denied"))["TopicArn"]
    user = unique("publisher")
    iam.create_user(UserName=user)
    iam.put_user_policy(UserName=user, PolicyName="publish", PolicyDocument=json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "sns:Publish", "Resource": allowed}]}))
    key = iam.create_access_key(UserName=user)["AccessKey"]
    as_user = cloudlet.client("sns", aws_access_key_id=key["AccessKeyId"],
                              aws_secret_access_key=key["SecretAccessKey"])
    assert as_user.publish(TopicArn=allowed, Message="ok")["MessageId"]
    code, status, _ = error_of(as_user.publish, TopicArn=denied, Message="no")
    assert (code, status) == ("AuthorizationError", 403)


def test_other_accounts_need_the_topic_policy(cloudlet, sns):
    topic = sns.create_topic(Name=unique("shared"))["TopicArn"]
    other = cloudlet.client("sns", aws_access_key_id="111122223333",
                            aws_secret_access_key="test")
    code, status, message = error_of(other.publish, TopicArn=topic, Message="m")
    assert (code, status) == ("AuthorizationError", 403)
    assert message == (f"User: arn:aws:iam::111122223333:root is not authorized to perform: "
                       f"SNS:Publish on resource: {topic} because no resource-based policy "
                       "allows the SNS:Publish action")
    assert error_of(other.get_topic_attributes, TopicArn=topic)[:2] == ("AuthorizationError", 403)
    sns.add_permission(TopicArn=topic, Label="partner", AWSAccountId=["111122223333"],
                       ActionName=["Publish"])
    assert other.publish(TopicArn=topic, Message="now allowed")["MessageId"]
    assert error_of(other.subscribe, TopicArn=topic, Protocol="sqs",
                    Endpoint="arn:aws:sqs:us-east-1:111122223333:q")[:2] == (
        "AuthorizationError", 403)
    sns.add_permission(TopicArn=topic, Label="partner-subscribe", AWSAccountId=["111122223333"],
                       ActionName=["Subscribe"])
    queue_arn = f"arn:aws:sqs:us-east-1:111122223333:{unique('q')}"
    theirs = other.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn)
    listed = [s["SubscriptionArn"] for p in other.get_paginator("list_subscriptions").paginate()
              for s in p["Subscriptions"]]
    assert listed == [theirs["SubscriptionArn"]]  # ListSubscriptions: the requester's own
    assert theirs["SubscriptionArn"] not in [
        s["SubscriptionArn"] for p in sns.get_paginator("list_subscriptions").paginate()
        for s in p["Subscriptions"]]
    assert error_of(sns.set_topic_attributes, TopicArn=topic, AttributeName="Policy",
                    AttributeValue='{"Statement": "nope"}')[:2] == ("InvalidParameter", 400)


def test_concurrent_identical_subscribes_make_one_subscription(sns):
    from concurrent.futures import ThreadPoolExecutor

    topic = sns.create_topic(Name=unique("race"))["TopicArn"]
    endpoint = queue()
    with ThreadPoolExecutor(8) as pool:
        arns = set(pool.map(lambda _: sns.subscribe(
            TopicArn=topic, Protocol="sqs", Endpoint=endpoint)["SubscriptionArn"], range(16)))
    assert len(arns) == 1
    assert len(sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"]) == 1
