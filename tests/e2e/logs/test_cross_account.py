"""Another account's log groups, named by ARN: CloudWatch Logs has no resource policy that
grants other accounts (its resource policies admit AWS services only), so every operation
that takes a log group ARN refuses another account's as it refuses a missing group."""

import threading
import time

import pytest
from botocore.config import Config
from harness import error_of, unique, unique_account


@pytest.fixture(scope="module")
def accounts(cloudlet):
    """Account A with a group holding one event; account B, a stranger, with a group of the
    same name (which A's ARN must not reach either)."""
    a, b = unique_account(), unique_account()
    config = Config(inject_host_prefix=False, retries={"max_attempts": 1})
    owner = cloudlet.client("logs", aws_access_key_id=a, config=config)
    other = cloudlet.client("logs", aws_access_key_id=b, config=config)
    group = unique("/xacct/app")
    for client, text in ((owner, "secret of A"), (other, "B's own line")):
        client.create_log_group(logGroupName=group)
        client.create_log_stream(logGroupName=group, logStreamName="s")
        client.put_log_events(logGroupName=group, logStreamName="s", logEvents=[
            {"timestamp": int(time.time() * 1000), "message": text}])
    arn = f"arn:aws:logs:us-east-1:{a}:log-group:{group}"
    return owner, other, arn


def refused(call, **kwargs):
    code, status, message = error_of(call, **kwargs)
    assert (code, status) == ("ResourceNotFoundException", 400), message
    return message


@pytest.mark.parametrize("identifier", ["{arn}", "{arn}:*"])
def test_events_and_streams_by_another_accounts_arn_are_refused(accounts, identifier):
    owner, other, arn = accounts
    identifier = identifier.format(arn=arn)
    # the owner reads its own group by ARN
    events = owner.get_log_events(logGroupIdentifier=identifier, logStreamName="s")["events"]
    assert [e["message"] for e in events] == ["secret of A"]
    # the stranger gets what a missing group gets, and never its own group of that name
    refused(other.get_log_events, logGroupIdentifier=identifier, logStreamName="s")
    refused(other.filter_log_events, logGroupIdentifier=identifier)
    refused(other.describe_log_streams, logGroupIdentifier=identifier)
    refused(other.put_log_group_deletion_protection, logGroupIdentifier=identifier,
            deletionProtectionEnabled=True)


def test_a_missing_group_of_another_account_looks_the_same(accounts):
    _, other, arn = accounts
    missing = arn.rsplit(":", 1)[0] + ":" + unique("/xacct/none")
    assert refused(other.get_log_events, logGroupIdentifier=missing, logStreamName="s") == \
        refused(other.get_log_events, logGroupIdentifier=arn, logStreamName="s")


def test_describe_log_groups_lists_only_the_callers_own(accounts):
    owner, other, arn = accounts
    assert [g["logGroupArn"] for g in owner.describe_log_groups(
        logGroupIdentifiers=[arn])["logGroups"]] == [arn]
    assert other.describe_log_groups(logGroupIdentifiers=[arn])["logGroups"] == []


def test_insights_and_live_tail_refuse_another_accounts_group(accounts):
    owner, other, arn = accounts
    now = int(time.time())
    owner.start_query(logGroupIdentifiers=[arn], startTime=now - 600, endTime=now + 60,
                      queryString="fields @message")
    refused(other.start_query, logGroupIdentifiers=[arn], startTime=now - 600,
            endTime=now + 60, queryString="fields @message")
    refused(other.start_live_tail, logGroupIdentifiers=[arn])


def test_live_tail_by_arn_never_streams_another_accounts_events(accounts, cloudlet):
    """Before the fix, B's live tail on A's ARN streamed A's new events."""
    owner, other, arn = accounts
    try:
        tail = other.start_live_tail(logGroupIdentifiers=[arn])
    except Exception as error:  # the refusal: nothing to stream
        assert "ResourceNotFoundException" in str(error)
        return
    received = []

    def read():
        for event in tail["responseStream"]:
            received.extend(event.get("sessionUpdate", {}).get("sessionResults", []))

    threading.Thread(target=read, daemon=True).start()
    owner.put_log_events(logGroupName=arn.split(":log-group:")[1], logStreamName="s",
                         logEvents=[{"timestamp": int(time.time() * 1000), "message": "new"}])
    time.sleep(2)
    tail["responseStream"].close()
    assert received == []


def test_tags_and_policies_by_another_accounts_arn_are_refused(accounts):
    owner, other, arn = accounts
    owner.tag_resource(resourceArn=arn, tags={"team": "a"})
    refused(other.list_tags_for_resource, resourceArn=arn)
    refused(other.tag_resource, resourceArn=arn, tags={"team": "b"})
    refused(other.untag_resource, resourceArn=arn, tagKeys=["team"])
    assert owner.list_tags_for_resource(resourceArn=arn)["tags"] == {"team": "a"}
    refused(other.put_resource_policy, resourceArn=arn, policyDocument='{"Statement": []}')
    assert other.describe_resource_policies(resourceArn=arn)["resourcePolicies"] == []
