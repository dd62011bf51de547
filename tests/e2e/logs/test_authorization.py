"""An IAM user's PutLogEvents and GetLogEvents are judged on the log group's ARN (the
PutLogEvents fast path keeps the names the authorizer needs)."""

import json
import time

from harness import error_of, unique


def test_iam_user_limited_to_one_log_group(cloudlet, logs):
    allowed, other = unique("/authz/allowed"), unique("/authz/other")
    for group in (allowed, other):
        logs.create_log_group(logGroupName=group)
        logs.create_log_stream(logGroupName=group, logStreamName="s")
    iam = cloudlet.client("iam")
    user = unique("logwriter")
    iam.create_user(UserName=user)
    iam.put_user_policy(UserName=user, PolicyName="logs", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Action": ["logs:PutLogEvents", "logs:GetLogEvents"],
            "Resource": f"arn:aws:logs:us-east-1:000000000000:log-group:{allowed}:*"}]}))
    key = iam.create_access_key(UserName=user)["AccessKey"]
    writer = cloudlet.client("logs", aws_access_key_id=key["AccessKeyId"],
                             aws_secret_access_key=key["SecretAccessKey"])
    events = [{"timestamp": int(time.time() * 1000) + i, "message": f"m{i}"} for i in range(500)]
    writer.put_log_events(logGroupName=allowed, logStreamName="s", logEvents=events)
    got = writer.get_log_events(logGroupName=allowed, logStreamName="s", startFromHead=True)
    assert len(got["events"]) == 500
    code, status, message = error_of(writer.put_log_events, logGroupName=other,
                                     logStreamName="s", logEvents=events)
    assert code == "AccessDeniedException" and status in (400, 403)
    assert "logs:PutLogEvents" in message and other in message
    assert logs.get_log_events(logGroupName=other, logStreamName="s")["events"] == []
