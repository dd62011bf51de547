"""SNS publishes AWS/SNS metrics per topic through CloudWatch, as AWS does."""

from __future__ import annotations

import datetime as dt
import json

from harness import unique


def test_published_delivered_and_filtered_out_counts(cloudlet, sns, wait_for):
    cloudwatch = cloudlet.client("cloudwatch")
    name = unique("metered")
    topic = sns.create_topic(Name=name)["TopicArn"]
    sns.subscribe(TopicArn=topic, Protocol="sqs",
                  Endpoint=f"arn:aws:sqs:us-east-1:000000000000:{unique('all')}")
    sns.subscribe(TopicArn=topic, Protocol="sqs",
                  Endpoint=f"arn:aws:sqs:us-east-1:000000000000:{unique('none')}",
                  Attributes={"FilterPolicy": json.dumps({"never": ["matches"]})})
    for i in range(3):
        sns.publish(TopicArn=topic, Message="x" * (10 * (i + 1)))
    now = dt.datetime.now(dt.UTC)

    def total(metric: str, statistic: str = "Sum") -> float | None:
        points = cloudwatch.get_metric_statistics(
            Namespace="AWS/SNS", MetricName=metric,
            Dimensions=[{"Name": "TopicName", "Value": name}],
            StartTime=now - dt.timedelta(minutes=10), EndTime=now + dt.timedelta(minutes=10),
            Period=3600, Statistics=[statistic])["Datapoints"]
        return points[0][statistic] if points else None

    wait_for(lambda: total("NumberOfNotificationsFilteredOut") == 3, timeout=30)
    assert total("NumberOfMessagesPublished") == 3
    assert total("NumberOfNotificationsDelivered") == 3
    assert total("PublishSize", "Maximum") == 30
    assert total("PublishSize", "Sum") == 60
    metrics = cloudwatch.list_metrics(Namespace="AWS/SNS", Dimensions=[
        {"Name": "TopicName", "Value": name}])["Metrics"]
    assert {m["MetricName"] for m in metrics} >= {
        "NumberOfMessagesPublished", "NumberOfNotificationsDelivered",
        "NumberOfNotificationsFilteredOut", "PublishSize"}
