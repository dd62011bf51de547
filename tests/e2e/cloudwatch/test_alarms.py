"""CloudWatch alarms through boto3: creating, validating, describing, history, deleting,
actions switches and tags. Evaluation over time is in test_alarms_evaluation.py."""

from __future__ import annotations

import json

import pytest
from harness import error_of, send_signed, unique

TOPIC = "arn:aws:sns:us-east-1:000000000000:alarm-topic"


@pytest.fixture(scope="module")
def cw(cloudlet):
    return cloudlet.client("cloudwatch")


def metric_alarm(cw, name: str, **extra):
    params = dict(AlarmName=name, MetricName="Latency", Namespace="App/Alarms",
                  Statistic="Average", Period=60, EvaluationPeriods=3, Threshold=500.0,
                  ComparisonOperator="GreaterThanThreshold",
                  Dimensions=[{"Name": "Service", "Value": "api"}])
    params.update(extra)
    params = {k: v for k, v in params.items() if v is not None}
    cw.put_metric_alarm(**params)
    return params


def described(cw, name: str, types=("MetricAlarm", "CompositeAlarm")) -> dict:
    reply = cw.describe_alarms(AlarmNames=[name], AlarmTypes=list(types))
    [alarm] = reply["MetricAlarms"] + reply["CompositeAlarms"]
    return alarm


def test_a_new_alarm_starts_in_insufficient_data_with_its_configuration(cw):
    name = unique("create")
    metric_alarm(cw, name, AlarmDescription="p99 too high", ExtendedStatistic="p99",
                 Statistic=None, DatapointsToAlarm=2, TreatMissingData="ignore",
                 AlarmActions=[TOPIC], Unit="Milliseconds")
    alarm = described(cw, name)
    assert alarm["AlarmArn"] == f"arn:aws:cloudwatch:us-east-1:000000000000:alarm:{name}"
    assert alarm["StateValue"] == "INSUFFICIENT_DATA"
    assert alarm["StateReason"] == "Unchecked: Initial alarm creation"
    assert alarm["ExtendedStatistic"] == "p99" and "Statistic" not in alarm
    assert (alarm["Period"], alarm["EvaluationPeriods"], alarm["DatapointsToAlarm"]) == (60, 3, 2)
    assert alarm["Threshold"] == 500.0 and alarm["Unit"] == "Milliseconds"
    assert alarm["TreatMissingData"] == "ignore" and alarm["ActionsEnabled"] is True
    assert alarm["AlarmActions"] == [TOPIC] and alarm["OKActions"] == []
    assert alarm["Dimensions"] == [{"Name": "Service", "Value": "api"}]
    assert alarm["AlarmDescription"] == "p99 too high"
    assert "AlarmConfigurationUpdatedTimestamp" in alarm and "StateUpdatedTimestamp" in alarm


def test_an_update_keeps_the_state_and_replaces_the_configuration(cw):
    name = unique("update")
    metric_alarm(cw, name, AlarmDescription="first")
    cw.set_alarm_state(AlarmName=name, StateValue="ALARM", StateReason="testing")
    metric_alarm(cw, name, Threshold=10.0)
    alarm = described(cw, name)
    assert alarm["StateValue"] == "ALARM" and alarm["StateReason"] == "testing"
    assert alarm["Threshold"] == 10.0 and "AlarmDescription" not in alarm
    history = cw.describe_alarm_history(AlarmName=name, HistoryItemType="ConfigurationUpdate")
    summaries = [h["HistorySummary"] for h in history["AlarmHistoryItems"]]
    assert summaries == [f'Alarm "{name}" updated', f'Alarm "{name}" created']
    created = json.loads(history["AlarmHistoryItems"][1]["HistoryData"])
    assert created["type"] == "Create" and created["createdAlarm"]["AlarmName"] == name


BAD = [
    ("both statistics", dict(ExtendedStatistic="p99"), "InvalidParameterCombination"),
    ("period 45", dict(Period=45), "ValidationError"),
    ("M > N", dict(DatapointsToAlarm=4), "ValidationError"),
    ("over a day", dict(Period=3000, EvaluationPeriods=30), "ValidationError"),
    ("treat missing", dict(TreatMissingData="sometimes"), "ValidationError"),
    ("low sample without percentile", dict(EvaluateLowSampleCountPercentile="ignore"),
     "ValidationError"),
    ("band operator", dict(ComparisonOperator="LessThanLowerOrGreaterThanUpperThreshold"),
     "ValidationError"),
    ("bad action", dict(AlarmActions=["not-an-arn"]), "ValidationError"),
    ("other region action", dict(OKActions=["arn:aws:sns:eu-west-1:000000000000:t"]),
     "ValidationError"),
    ("bad percentile", dict(Statistic=None, ExtendedStatistic="p101"), "InvalidParameterValue"),
    ("no threshold", dict(Threshold=None), "MissingParameter"),
    ("metrics and metric name", dict(Metrics=[{"Id": "m1", "Expression": "1"}]),
     "InvalidParameterCombination"),
]


@pytest.mark.parametrize("what,change,code", BAD, ids=[b[0] for b in BAD])
def test_put_metric_alarm_validation(cw, what, change, code):
    params = dict(AlarmName=unique("bad"), MetricName="Latency", Namespace="App/Alarms",
                  Statistic="Average", Period=60, EvaluationPeriods=3, Threshold=5.0,
                  ComparisonOperator="GreaterThanThreshold")
    params.update(change)
    params = {k: v for k, v in params.items() if v is not None}
    got, status, message = error_of(cw.put_metric_alarm, **params)
    assert (got, status) == (code, 400), message
    assert message
    assert cw.describe_alarms(AlarmNames=[params["AlarmName"]])["MetricAlarms"] == []


def test_math_alarm_validation(cw):
    base = dict(AlarmName=unique("math"), EvaluationPeriods=1, Threshold=5.0,
                ComparisonOperator="GreaterThanThreshold")
    stat = {"Metric": {"Namespace": "App/Alarms", "MetricName": "Errors"}, "Period": 60,
            "Stat": "Sum"}
    two_returning = [{"Id": "m1", "MetricStat": stat}, {"Id": "e1", "Expression": "m1*2"}]
    code, _, message = error_of(cw.put_metric_alarm, Metrics=two_returning, **base)
    assert (code, message) == ("ValidationError", "Exactly one element of the metrics list "
                                                  "should return data.")
    code, _, message = error_of(cw.put_metric_alarm, Metrics=[
        {"Id": "s", "Expression": "SEARCH('{App/Alarms} Errors', 'Sum', 60)"}], **base)
    assert code == "ValidationError" and "SEARCH" in message
    ok = [{"Id": "m1", "MetricStat": stat, "ReturnData": False},
          {"Id": "e1", "Expression": "m1*2", "Label": "doubled"}]
    cw.put_metric_alarm(Metrics=ok, **base)
    alarm = described(cw, base["AlarmName"])
    assert [q["Id"] for q in alarm["Metrics"]] == ["m1", "e1"] and "Period" not in alarm


def test_composite_alarm_rule_and_children(cw):
    cpu, deploy, parent = unique("cpu"), unique("deploy"), unique("parent")
    metric_alarm(cw, cpu)
    metric_alarm(cw, deploy)
    code, _, message = error_of(cw.put_composite_alarm, AlarmName=parent,
                                AlarmRule=f"ALARM({cpu}) AND ALARM(nope-{parent})")
    assert code == "ValidationError" and f"nope-{parent}" in message
    code, _, _ = error_of(cw.put_composite_alarm, AlarmName=parent,
                          AlarmRule=f"ALARM({cpu}) AND")
    assert code == "ValidationError"
    cw.put_composite_alarm(AlarmName=parent, AlarmRule=f'ALARM("{cpu}") AND NOT ALARM({deploy})',
                           AlarmActions=[TOPIC])
    alarm = described(cw, parent)
    assert alarm["AlarmRule"] == f'ALARM("{cpu}") AND NOT ALARM({deploy})'
    # Composite alarms leave INSUFFICIENT_DATA as soon as they are evaluated.
    assert alarm["StateValue"] == "OK"
    assert cw.describe_alarms(AlarmNames=[parent])["MetricAlarms"] == []  # default: metric only
    children = cw.describe_alarms(ChildrenOfAlarmName=parent, AlarmTypes=["MetricAlarm"])
    assert sorted(a["AlarmName"] for a in children["MetricAlarms"]) == sorted([cpu, deploy])
    parents = cw.describe_alarms(ParentsOfAlarmName=cpu, AlarmTypes=["CompositeAlarm"])
    assert [a["AlarmName"] for a in parents["CompositeAlarms"]] == [parent]
    code, _, _ = error_of(cw.describe_alarms, ParentsOfAlarmName=cpu, StateValue="OK")
    assert code == "InvalidParameterCombination"
    # A child still used by a composite alarm cannot be deleted alone.
    code, _, message = error_of(cw.delete_alarms, AlarmNames=[cpu])
    assert (code, message) == ("ValidationError", f"Cannot delete {cpu} as there are composite "
                                                  "alarm(s) depending on them.")
    cw.delete_alarms(AlarmNames=[parent, cpu, deploy])
    left = cw.describe_alarms(AlarmNames=[parent, cpu, deploy],
                              AlarmTypes=["MetricAlarm", "CompositeAlarm"])
    assert (left["MetricAlarms"], left["CompositeAlarms"]) == ([], [])


def test_describe_alarms_filters_and_pagination(cw):
    prefix = unique("page")
    names = [f"{prefix}-{i:02d}" for i in range(7)]
    for i, name in enumerate(names):
        metric_alarm(cw, name, AlarmActions=[TOPIC] if i % 2 else [])
    cw.set_alarm_state(AlarmName=names[3], StateValue="ALARM", StateReason="manual")
    pages = list(cw.get_paginator("describe_alarms").paginate(
        AlarmNamePrefix=prefix, PaginationConfig={"PageSize": 3}))
    assert [len(p["MetricAlarms"]) for p in pages] == [3, 3, 1]
    assert [a["AlarmName"] for p in pages for a in p["MetricAlarms"]] == names
    by_state = cw.describe_alarms(AlarmNamePrefix=prefix, StateValue="ALARM")
    assert [a["AlarmName"] for a in by_state["MetricAlarms"]] == [names[3]]
    by_action = cw.describe_alarms(AlarmNamePrefix=prefix, ActionPrefix=TOPIC[:30])
    assert [a["AlarmName"] for a in by_action["MetricAlarms"]] == names[1::2]
    assert error_of(cw.describe_alarms, NextToken="garbage")[0] == "InvalidNextToken"
    code, _, _ = error_of(cw.describe_alarms, AlarmNames=[names[0]], AlarmNamePrefix=prefix)
    assert code == "InvalidParameterCombination"


def test_describe_alarms_for_metric(cw):
    name, other = unique("formetric"), unique("formetric")
    metric_alarm(cw, name, Namespace="App/ForMetric", Dimensions=[{"Name": "Host", "Value": "a"}])
    metric_alarm(cw, other, Namespace="App/ForMetric", Dimensions=[{"Name": "Host", "Value": "b"}])
    found = cw.describe_alarms_for_metric(MetricName="Latency", Namespace="App/ForMetric",
                                          Dimensions=[{"Name": "Host", "Value": "a"}])
    assert [a["AlarmName"] for a in found["MetricAlarms"]] == [name]
    both = cw.describe_alarms_for_metric(MetricName="Latency", Namespace="App/ForMetric",
                                         Statistic="Average", Period=60)
    assert sorted(a["AlarmName"] for a in both["MetricAlarms"]) == sorted([name, other])
    assert cw.describe_alarms_for_metric(MetricName="Latency", Namespace="App/ForMetric",
                                         Period=300)["MetricAlarms"] == []


def test_set_alarm_state_history_and_errors(cw):
    name = unique("setstate")
    metric_alarm(cw, name, AlarmActions=["arn:aws:autoscaling:us-east-1:000000000000:"
                                         "scalingPolicy:1:autoScalingGroupName/g:policyName/p"])
    cw.set_alarm_state(AlarmName=name, StateValue="ALARM", StateReason="by hand",
                       StateReasonData='{"why": "test"}')
    alarm = described(cw, name)
    assert (alarm["StateValue"], alarm["StateReason"]) == ("ALARM", "by hand")
    assert json.loads(alarm["StateReasonData"]) == {"why": "test"}
    items = cw.describe_alarm_history(AlarmName=name)["AlarmHistoryItems"]
    assert [i["HistoryItemType"] for i in items] == ["Action", "StateUpdate",
                                                     "ConfigurationUpdate"]
    assert items[1]["HistorySummary"] == "Alarm updated from INSUFFICIENT_DATA to ALARM"
    update = json.loads(items[1]["HistoryData"])
    assert update["oldState"] == {"stateValue": "INSUFFICIENT_DATA",
                                  "stateReason": "Unchecked: Initial alarm creation"}
    assert update["newState"]["stateValue"] == "ALARM"
    # Auto Scaling actions are stored, and recorded as not executed.
    assert "not executed" in items[0]["HistorySummary"]
    ascending = cw.describe_alarm_history(AlarmName=name, ScanBy="TimestampAscending",
                                          MaxRecords=1)
    assert ascending["AlarmHistoryItems"][0]["HistoryItemType"] == "ConfigurationUpdate"
    assert "NextToken" in ascending
    code, _, _ = error_of(cw.set_alarm_state, AlarmName=name, StateValue="OK",
                          StateReason="x", StateReasonData="{not json")
    assert code == "InvalidFormat"
    code, status, _ = error_of(cw.set_alarm_state, AlarmName=unique("ghost"), StateValue="OK",
                               StateReason="x")
    assert (code, status) == ("ResourceNotFound", 404)


def test_actions_enabled_switches(cw):
    name = unique("switch")
    metric_alarm(cw, name, AlarmActions=[TOPIC])
    cw.disable_alarm_actions(AlarmNames=[name])
    assert described(cw, name)["ActionsEnabled"] is False
    cw.set_alarm_state(AlarmName=name, StateValue="ALARM", StateReason="quiet")
    items = cw.describe_alarm_history(AlarmName=name, HistoryItemType="Action")
    assert items["AlarmHistoryItems"] == []  # disabled actions do not run
    cw.enable_alarm_actions(AlarmNames=[name])
    assert described(cw, name)["ActionsEnabled"] is True
    cw.set_alarm_state(AlarmName=name, StateValue="OK", StateReason="loud")
    cw.set_alarm_state(AlarmName=name, StateValue="ALARM", StateReason="loud")
    items = cw.describe_alarm_history(AlarmName=name, HistoryItemType="Action")
    [action] = items["AlarmHistoryItems"]  # only ALARM has an action
    assert action["HistorySummary"] == f"Successfully executed action {TOPIC}"
    published = json.loads(json.loads(action["HistoryData"])["publishedMessage"])
    assert published["NewStateValue"] == "ALARM" and published["OldStateValue"] == "OK"


def test_delete_alarms_ignores_names_that_do_not_exist(cw):
    name = unique("delete")
    metric_alarm(cw, name)
    cw.delete_alarms(AlarmNames=[name, unique("ghost")])
    assert cw.describe_alarms(AlarmNames=[name])["MetricAlarms"] == []
    cw.delete_alarms(AlarmNames=[name])


def test_alarm_tags(cw):
    name = unique("tags")
    metric_alarm(cw, name, Tags=[{"Key": "team", "Value": "core"}])
    arn = described(cw, name)["AlarmArn"]
    assert cw.list_tags_for_resource(ResourceARN=arn)["Tags"] == [{"Key": "team",
                                                                   "Value": "core"}]
    cw.tag_resource(ResourceARN=arn, Tags=[{"Key": "env", "Value": "prod"},
                                           {"Key": "team", "Value": "web"}])
    tags = {t["Key"]: t["Value"] for t in cw.list_tags_for_resource(ResourceARN=arn)["Tags"]}
    assert tags == {"team": "web", "env": "prod"}
    cw.untag_resource(ResourceARN=arn, TagKeys=["team"])
    assert cw.list_tags_for_resource(ResourceARN=arn)["Tags"] == [{"Key": "env",
                                                                   "Value": "prod"}]
    code, _, _ = error_of(cw.tag_resource, ResourceARN=arn,
                          Tags=[{"Key": "aws:reserved", "Value": "x"}])
    assert code == "InvalidParameterValue"
    ghost = arn + "-ghost"
    code, status, _ = error_of(cw.list_tags_for_resource, ResourceARN=ghost)
    assert (code, status) == ("ResourceNotFoundException", 404)


def test_aws_cli_describes_alarms(cloudlet, cw):
    name = unique("cli")
    metric_alarm(cw, name)
    out = cloudlet.aws("cloudwatch", "describe-alarms", "--alarm-names", name)
    [alarm] = json.loads(out.stdout)["MetricAlarms"]
    assert alarm["AlarmName"] == name and alarm["StateValue"] == "INSUFFICIENT_DATA"


def test_a_math_alarm_with_a_broken_expression_is_refused(cw):
    stat = {"Metric": {"Namespace": "App/Alarms", "MetricName": "Errors"}, "Period": 60,
            "Stat": "Sum"}
    name = unique("broken")
    code, status, message = error_of(
        cw.put_metric_alarm, AlarmName=name, EvaluationPeriods=1, Threshold=1.0,
        ComparisonOperator="GreaterThanThreshold",
        Metrics=[{"Id": "m1", "MetricStat": stat, "ReturnData": False},
                 {"Id": "e1", "Expression": "m1 +* 2"}])
    assert (code, status) == ("ValidationError", 400) and message
    assert cw.describe_alarms(AlarmNames=[name])["MetricAlarms"] == []


def test_the_query_protocol(cloudlet, cw):
    name = unique("query")
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    body = (f"Action=PutMetricAlarm&Version=2010-08-01&AlarmName={name}&MetricName=M"
            "&Namespace=App%2FAlarms&Statistic=Sum&Period=60&EvaluationPeriods=1&Threshold=1"
            "&ComparisonOperator=GreaterThanThreshold&Dimensions.member.1.Name=Host"
            "&Dimensions.member.1.Value=a")
    assert send_signed(cloudlet.endpoint, "monitoring", body, form).status_code == 200
    reply = send_signed(cloudlet.endpoint, "monitoring", "Action=DescribeAlarms&Version="
                        f"2010-08-01&AlarmNames.member.1={name}", form)
    assert reply.status_code == 200
    assert f"<AlarmName>{name}</AlarmName>" in reply.text
    assert "<Dimensions><member><Name>Host</Name><Value>a</Value></member></Dimensions>" in \
        reply.text
    missing = send_signed(cloudlet.endpoint, "monitoring", "Action=SetAlarmState&Version="
                          f"2010-08-01&AlarmName={name}-ghost&StateValue=OK&StateReason=x", form)
    assert missing.status_code == 404 and "<Code>ResourceNotFound</Code>" in missing.text


def test_an_iam_user_is_held_to_its_policy_on_alarms(cloudlet):
    iam, user, prefix = cloudlet.client("iam"), unique("alarm-user"), unique("mine")
    iam.create_user(UserName=user)
    iam.put_user_policy(UserName=user, PolicyName="alarms", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Action": "cloudwatch:PutMetricAlarm",
            "Resource": f"arn:aws:cloudwatch:us-east-1:000000000000:alarm:{prefix}-*"}]}))
    key = iam.create_access_key(UserName=user)["AccessKey"]
    cw = cloudlet.client("cloudwatch", aws_access_key_id=key["AccessKeyId"],
                         aws_secret_access_key=key["SecretAccessKey"])
    metric_alarm(cw, f"{prefix}-allowed")
    code, status, message = error_of(cw.put_metric_alarm, AlarmName=unique("other"),
                                     MetricName="M", Namespace="N", Statistic="Sum", Period=60,
                                     EvaluationPeriods=1, Threshold=1.0,
                                     ComparisonOperator="GreaterThanThreshold")
    assert (code, status) == ("AccessDeniedException", 403)
    assert "cloudwatch:PutMetricAlarm" in message


def test_alarm_history_pages_and_dates(cw):
    name = unique("history")
    metric_alarm(cw, name)
    for state in ("ALARM", "OK", "ALARM"):
        cw.set_alarm_state(AlarmName=name, StateValue=state, StateReason=f"to {state}")
    pages = list(cw.get_paginator("describe_alarm_history").paginate(
        AlarmName=name, PaginationConfig={"PageSize": 2}))
    items = [i for p in pages for i in p["AlarmHistoryItems"]]
    assert [len(p["AlarmHistoryItems"]) for p in pages] == [2, 2]
    assert [i["HistorySummary"] for i in items] == [
        "Alarm updated from OK to ALARM", "Alarm updated from ALARM to OK",
        "Alarm updated from INSUFFICIENT_DATA to ALARM", f'Alarm "{name}" created']
    stamps = [i["Timestamp"] for i in items]
    assert stamps == sorted(stamps, reverse=True)
    assert [i["HistoryItemType"] for i in items].count("StateUpdate") == 3
    first, last = stamps[-1], stamps[0]
    before = cw.describe_alarm_history(AlarmName=name, EndDate=first)["AlarmHistoryItems"]
    assert [i["HistoryItemType"] for i in before] == ["ConfigurationUpdate"]
    after = cw.describe_alarm_history(AlarmName=name, StartDate=last)["AlarmHistoryItems"]
    assert after and all(i["Timestamp"] >= last for i in after)
    assert cw.describe_alarm_history(AlarmName=name, AlarmTypes=["CompositeAlarm"])[
        "AlarmHistoryItems"] == []
