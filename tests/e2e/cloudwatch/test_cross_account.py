"""Another account's alarms and metrics: CloudWatch has no resource policy, and Cloudlet no
monitoring account, so an alarm ARN of another account answers as a missing alarm, a
composite alarm cannot watch one, and a metric query for another account's metrics finds
no datapoints. (An alarm's action on another account's SNS topic is the topic policy's to
allow: tests/e2e/sns/test_cross_account.py.)"""

from __future__ import annotations

import datetime as dt

import pytest
from harness import error_of, unique, unique_account


@pytest.fixture(scope="module")
def pair(cloudlet):
    a, b = unique_account(), unique_account()
    owner = cloudlet.client("cloudwatch", aws_access_key_id=a)
    other = cloudlet.client("cloudwatch", aws_access_key_id=b)
    name = unique("alarm")
    for client in (owner, other):  # the stranger has an alarm of the same name
        client.put_metric_alarm(AlarmName=name, Namespace="X", MetricName="m",
                                Statistic="Sum", Period=60, EvaluationPeriods=1, Threshold=1,
                                ComparisonOperator="GreaterThanThreshold",
                                Tags=[{"Key": "team", "Value": "mine"}])
    arn = owner.describe_alarms(AlarmNames=[name])["MetricAlarms"][0]["AlarmArn"]
    return owner, other, a, name, arn


def test_another_accounts_alarm_arn_answers_as_a_missing_alarm(pair):
    owner, other, _, _, arn = pair
    for call, kwargs in ((other.list_tags_for_resource, {}),
                         (other.tag_resource, {"Tags": [{"Key": "k", "Value": "v"}]}),
                         (other.untag_resource, {"TagKeys": ["team"]})):
        code, status, _ = error_of(call, ResourceARN=arn, **kwargs)
        assert (code, status) == ("ResourceNotFoundException", 404)
    assert owner.list_tags_for_resource(ResourceARN=arn)["Tags"] == [
        {"Key": "team", "Value": "mine"}]


def test_a_composite_alarm_cannot_watch_another_accounts_alarm(pair):
    _, other, _, _, arn = pair
    code, _, message = error_of(other.put_composite_alarm, AlarmName=unique("composite"),
                                AlarmRule=f'ALARM("{arn}")')
    assert code == "ValidationError" and arn in message


def test_metric_queries_never_read_another_accounts_metrics(pair):
    owner, other, a, _, _ = pair
    namespace, now = unique("ns"), dt.datetime.now(dt.UTC)
    for client, value in ((owner, 7.0), (other, 5.0)):
        client.put_metric_data(Namespace=namespace, MetricData=[
            {"MetricName": "m", "Value": value, "Timestamp": now}])
    query = {"Id": "q", "AccountId": a, "MetricStat": {
        "Metric": {"Namespace": namespace, "MetricName": "m"}, "Period": 60, "Stat": "Sum"}}
    window = {"StartTime": now - dt.timedelta(minutes=5), "EndTime": now + dt.timedelta(minutes=5)}
    own = owner.get_metric_data(MetricDataQueries=[query], **window)["MetricDataResults"]
    assert own[0]["Values"] == [7.0]
    theirs = other.get_metric_data(MetricDataQueries=[query], **window)["MetricDataResults"]
    assert theirs[0]["Values"] == []  # neither A's 7 nor B's own 5 under A's name
    listed = other.list_metrics(Namespace=namespace, OwningAccount=a)["Metrics"]
    assert listed == []  # B's own metric is not A's either
    assert len(owner.list_metrics(Namespace=namespace, OwningAccount=a)["Metrics"]) == 1
