"""Terraform's aws_cloudwatch_metric_alarm and aws_cloudwatch_composite_alarm against
Cloudlet: create and read back. One apply only: each Terraform command loads the AWS
provider twice, tens of seconds on a busy machine."""

from __future__ import annotations

from harness import unique
from terraform import Terraform, provider_block


def config(endpoint: str, name: str, threshold: int = 500) -> str:
    return provider_block(endpoint, ["cloudwatch", "sns", "sts", "iam"]) + f'''
resource "aws_sns_topic" "alarms" {{
  name = "{name}-topic"
}}

resource "aws_cloudwatch_metric_alarm" "latency" {{
  alarm_name          = "{name}-latency"
  alarm_description   = "p99 latency"
  namespace           = "App/Terraform"
  metric_name         = "Latency"
  extended_statistic  = "p99"
  period              = 60
  evaluation_periods  = 5
  datapoints_to_alarm = 3
  threshold           = {threshold}
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  dimensions = {{
    Service = "checkout"
  }}
  alarm_actions = [aws_sns_topic.alarms.arn]
  tags = {{
    team = "core"
  }}
}}

resource "aws_cloudwatch_metric_alarm" "errors" {{
  alarm_name          = "{name}-error-rate"
  evaluation_periods  = 1
  threshold           = 5
  comparison_operator = "GreaterThanThreshold"
  metric_query {{
    id          = "rate"
    expression  = "100 * e / r"
    label       = "error rate"
    return_data = true
  }}
  metric_query {{
    id = "e"
    metric {{
      namespace   = "App/Terraform"
      metric_name = "Errors"
      period      = 60
      stat        = "Sum"
    }}
  }}
  metric_query {{
    id = "r"
    metric {{
      namespace   = "App/Terraform"
      metric_name = "Requests"
      period      = 60
      stat        = "Sum"
    }}
  }}
}}

resource "aws_cloudwatch_composite_alarm" "both" {{
  alarm_name    = "{name}-both"
  alarm_rule    = "ALARM(${{aws_cloudwatch_metric_alarm.latency.alarm_name}}) OR ALARM(${{aws_cloudwatch_metric_alarm.errors.alarm_name}})"
  alarm_actions = [aws_sns_topic.alarms.arn]
}}

output "latency_arn" {{
  value = aws_cloudwatch_metric_alarm.latency.arn
}}
'''


def test_terraform_manages_metric_math_and_composite_alarms(cloudlet, tmp_path):
    tf = Terraform(tmp_path)
    name = unique("tf")
    (tmp_path / "main.tf").write_text(config(cloudlet.endpoint, name, 500))
    tf.init()
    tf.apply()
    cw = cloudlet.client("cloudwatch")
    both = cw.describe_alarms(AlarmNamePrefix=name, AlarmTypes=["MetricAlarm", "CompositeAlarm"])
    assert sorted(a["AlarmName"] for a in both["MetricAlarms"]) == [f"{name}-error-rate",
                                                                   f"{name}-latency"]
    [composite] = both["CompositeAlarms"]
    assert composite["AlarmName"] == f"{name}-both" and composite["StateValue"] == "OK"
    latency = next(a for a in both["MetricAlarms"] if a["AlarmName"].endswith("-latency"))
    assert latency["AlarmArn"] == tf.output("latency_arn")
    assert (latency["ExtendedStatistic"], latency["DatapointsToAlarm"]) == ("p99", 3)
    tags = cw.list_tags_for_resource(ResourceARN=latency["AlarmArn"])["Tags"]
    assert tags == [{"Key": "team", "Value": "core"}]
