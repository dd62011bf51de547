"""Other services publishing through SNS: S3 event notifications."""

from __future__ import annotations

import json

from harness import error_of, unique


def test_s3_event_notification_arrives_as_an_sns_message(cloudlet, sns, endpoint, subscribed):
    s3 = cloudlet.client("s3")
    hook = endpoint()
    topic = sns.create_topic(Name=unique("s3events"))["TopicArn"]
    subscribed(hook, topic)
    bucket = unique("notified")
    s3.create_bucket(Bucket=bucket)
    config = {"TopicConfigurations": [{"Id": "to-sns", "TopicArn": topic,
                                       "Events": ["s3:ObjectCreated:*"]}]}
    s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration=config)
    s3.put_object(Bucket=bucket, Key="reports/today.csv", Body=b"a,b\n")
    notification = json.loads(hook.next("Notification")[1])
    assert notification["Subject"] == "Amazon S3 Notification"
    assert notification["TopicArn"] == topic
    [record] = json.loads(notification["Message"])["Records"]
    assert record["eventSource"] == "aws:s3" and record["eventName"].startswith("ObjectCreated")
    assert record["s3"]["bucket"]["name"] == bucket
    assert record["s3"]["object"]["key"] == "reports/today.csv"
    assert record["s3"]["configurationId"] == "to-sns"


def test_s3_refuses_a_topic_that_does_not_exist(cloudlet):
    s3 = cloudlet.client("s3")
    bucket = unique("nowhere")
    s3.create_bucket(Bucket=bucket)
    missing = f"arn:aws:sns:us-east-1:000000000000:{unique('missing')}"
    config = {"TopicConfigurations": [{"TopicArn": missing, "Events": ["s3:ObjectCreated:*"]}]}
    code, status, _ = error_of(s3.put_bucket_notification_configuration, Bucket=bucket,
                               NotificationConfiguration=config)
    assert (code, status) == ("InvalidArgument", 400)
