"""Topics: create (idempotent), attributes, FIFO names, listing pages, tags, delete."""

from __future__ import annotations

import json

from harness import error_of, unique


def test_create_is_idempotent_and_attributes_have_aws_defaults(sns):
    name = unique("topic")
    arn = sns.create_topic(Name=name, Attributes={"DisplayName": "Alerts"})["TopicArn"]
    assert arn == f"arn:aws:sns:us-east-1:000000000000:{name}"
    assert sns.create_topic(Name=name, Attributes={"DisplayName": "Alerts"})["TopicArn"] == arn
    assert sns.create_topic(Name=name)["TopicArn"] == arn
    assert error_of(sns.create_topic, Name=name, Attributes={"DisplayName": "Other"}) == (
        "InvalidParameter", 400,
        "Invalid parameter: Attributes Reason: Topic already exists with different attributes")

    attributes = sns.get_topic_attributes(TopicArn=arn)["Attributes"]
    assert attributes["TopicArn"] == arn and attributes["Owner"] == "000000000000"
    assert attributes["DisplayName"] == "Alerts"
    for count in ("SubscriptionsConfirmed", "SubscriptionsPending", "SubscriptionsDeleted"):
        assert attributes[count] == "0"
    policy = json.loads(attributes["Policy"])
    assert policy["Id"] == "__default_policy_ID"
    [statement] = policy["Statement"]
    assert statement["Resource"] == arn and "SNS:Publish" in statement["Action"]
    assert statement["Condition"] == {"StringEquals": {"AWS:SourceOwner": "000000000000"}}
    effective = json.loads(attributes["EffectiveDeliveryPolicy"])
    assert effective["http"]["defaultHealthyRetryPolicy"]["numRetries"] == 3
    assert "FifoTopic" not in attributes


def test_set_topic_attributes(sns):
    arn = sns.create_topic(Name=unique("attrs"))["TopicArn"]
    delivery = {"http": {"defaultHealthyRetryPolicy": {
        "minDelayTarget": 5, "maxDelayTarget": 30, "numRetries": 10, "backoffFunction": "exponential"}}}
    sns.set_topic_attributes(TopicArn=arn, AttributeName="DeliveryPolicy",
                             AttributeValue=json.dumps(delivery))
    sns.set_topic_attributes(TopicArn=arn, AttributeName="DisplayName", AttributeValue="Ops")
    policy = json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"Service": "cloudwatch.amazonaws.com"},
        "Action": "sns:Publish", "Resource": arn}]})
    sns.set_topic_attributes(TopicArn=arn, AttributeName="Policy", AttributeValue=policy)
    attributes = sns.get_topic_attributes(TopicArn=arn)["Attributes"]
    assert json.loads(attributes["DeliveryPolicy"]) == delivery
    effective = json.loads(attributes["EffectiveDeliveryPolicy"])
    assert effective["http"]["defaultHealthyRetryPolicy"]["numRetries"] == 10
    assert attributes["DisplayName"] == "Ops"
    assert json.loads(attributes["Policy"]) == json.loads(policy)
    assert error_of(sns.set_topic_attributes, TopicArn=arn, AttributeName="NoSuchThing",
                    AttributeValue="x") == ("InvalidParameter", 400,
                                            "Invalid parameter: AttributeName")


def test_fifo_topics(sns):
    name = unique("orders") + ".fifo"
    arn = sns.create_topic(Name=name, Attributes={"FifoTopic": "true"})["TopicArn"]
    attributes = sns.get_topic_attributes(TopicArn=arn)["Attributes"]
    assert attributes["FifoTopic"] == "true"
    assert attributes["ContentBasedDeduplication"] == "false"
    sns.set_topic_attributes(TopicArn=arn, AttributeName="ContentBasedDeduplication",
                             AttributeValue="true")
    assert sns.get_topic_attributes(
        TopicArn=arn)["Attributes"]["ContentBasedDeduplication"] == "true"

    code, status, message = error_of(sns.create_topic, Name=unique("nofifo"),
                                     Attributes={"FifoTopic": "true"})
    assert (code, status) == ("InvalidParameter", 400)
    assert message.startswith("Invalid parameter: Topic Name") and ".fifo" in message
    assert error_of(sns.create_topic, Name=unique("x") + ".fifo")[:2] == ("InvalidParameter", 400)
    standard = sns.create_topic(Name=unique("standard"))["TopicArn"]
    assert error_of(sns.set_topic_attributes, TopicArn=standard,
                    AttributeName="ContentBasedDeduplication", AttributeValue="true")[:2] == (
        "InvalidParameter", 400)


def test_list_topics_in_pages_of_100(sns):
    prefix = unique("page")
    created = {sns.create_topic(Name=f"{prefix}-{i:03d}")["TopicArn"] for i in range(105)}
    seen, pages, token = [], 0, None
    while True:
        page = sns.list_topics(**({"NextToken": token} if token else {}))
        pages += 1
        assert len(page["Topics"]) <= 100
        seen += [t["TopicArn"] for t in page["Topics"]]
        token = page.get("NextToken")
        if not token:
            break
    assert created <= set(seen) and len(seen) == len(set(seen)) and pages >= 2
    paged = [t["TopicArn"] for p in sns.get_paginator("list_topics").paginate() for t in p["Topics"]]
    assert paged == seen


def test_tags(sns):
    arn = sns.create_topic(Name=unique("tags"), Tags=[{"Key": "team", "Value": "ops"}])["TopicArn"]
    sns.tag_resource(ResourceArn=arn, Tags=[{"Key": "env", "Value": "dev"},
                                            {"Key": "team", "Value": "platform"}])
    tags = sns.list_tags_for_resource(ResourceArn=arn)["Tags"]
    assert sorted((t["Key"], t["Value"]) for t in tags) == [("env", "dev"), ("team", "platform")]
    sns.untag_resource(ResourceArn=arn, TagKeys=["team"])
    assert sns.list_tags_for_resource(ResourceArn=arn)["Tags"] == [{"Key": "env", "Value": "dev"}]
    missing = arn + "-gone"
    assert error_of(sns.list_tags_for_resource, ResourceArn=missing) == (
        "ResourceNotFound", 404, "Resource does not exist")
    too_many = [{"Key": f"k{i}", "Value": "v"} for i in range(51)]
    assert error_of(sns.tag_resource, ResourceArn=arn, Tags=too_many)[:2] == (
        "TagLimitExceeded", 400)


def test_delete_topic_removes_it_and_its_subscriptions(sns):
    arn = sns.create_topic(Name=unique("gone"))["TopicArn"]
    sub = sns.subscribe(TopicArn=arn, Protocol="sqs",
                        Endpoint="arn:aws:sqs:us-east-1:000000000000:q")["SubscriptionArn"]
    sns.delete_topic(TopicArn=arn)
    sns.delete_topic(TopicArn=arn)  # deleting again succeeds, as on AWS
    assert arn not in [t["TopicArn"] for p in sns.get_paginator("list_topics").paginate()
                       for t in p["Topics"]]
    assert error_of(sns.get_topic_attributes, TopicArn=arn) == (
        "NotFound", 404, "Topic does not exist")
    assert error_of(sns.get_subscription_attributes, SubscriptionArn=sub)[:2] == ("NotFound", 404)


def test_aws_cli(cloudlet):
    name = unique("cli")
    out = cloudlet.aws("sns", "create-topic", "--name", name, "--output", "json")
    arn = json.loads(out.stdout)["TopicArn"]
    cloudlet.aws("sns", "subscribe", "--topic-arn", arn, "--protocol", "email",
                 "--notification-endpoint", "ops@example.com")
    listed = json.loads(cloudlet.aws("sns", "list-subscriptions-by-topic", "--topic-arn", arn,
                                     "--output", "json").stdout)["Subscriptions"]
    assert [s["Endpoint"] for s in listed] == ["ops@example.com"]
    published = json.loads(cloudlet.aws("sns", "publish", "--topic-arn", arn, "--message", "hi",
                                        "--output", "json").stdout)
    assert published["MessageId"]
    failed = cloudlet.aws("sns", "get-topic-attributes", "--topic-arn", arn + "-nope",
                          check=False)
    assert failed.returncode != 0 and "NotFound" in failed.stderr


def test_add_and_remove_permission_edit_the_topic_policy(sns):
    arn = sns.create_topic(Name=unique("perm"))["TopicArn"]
    sns.add_permission(TopicArn=arn, Label="partner", AWSAccountId=["111122223333"],
                       ActionName=["Publish", "Subscribe"])
    statements = json.loads(sns.get_topic_attributes(TopicArn=arn)["Attributes"]["Policy"])[
        "Statement"]
    assert [s["Sid"] for s in statements] == ["__default_statement_ID", "partner"]
    assert statements[1]["Principal"] == {"AWS": "arn:aws:iam::111122223333:root"}
    assert statements[1]["Action"] == ["SNS:Publish", "SNS:Subscribe"]
    assert error_of(sns.add_permission, TopicArn=arn, Label="partner",
                    AWSAccountId=["111122223333"], ActionName=["Publish"]) == (
        "InvalidParameter", 400, "Invalid parameter: Statement already exists")
    sns.remove_permission(TopicArn=arn, Label="partner")
    statements = json.loads(sns.get_topic_attributes(TopicArn=arn)["Attributes"]["Policy"])[
        "Statement"]
    assert [s["Sid"] for s in statements] == ["__default_statement_ID"]
