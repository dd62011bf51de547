"""The global condition keys built for each request."""

from __future__ import annotations

import datetime as dt

from cloudlet.authz import context
from cloudlet.principals import Credential


def test_request_tags_in_every_shape():
    assert context.request_tags({"Tags": [{"Key": "team", "Value": "dev"}]}) == {"team": "dev"}
    assert context.request_tags({"Tags": {"team": "dev"}}) == {"team": "dev"}  # Lambda
    assert context.request_tags({"tags": {"env": "prod"}}) == {"env": "prod"}  # Logs
    assert context.request_tags({"TagSpecifications": [
        {"ResourceType": "instance", "Tags": [{"Key": "a", "Value": "1"}]}]}) == {"a": "1"}
    assert context.request_tags({"Tagging": "a=1&b=two%20words"}) == {"a": "1", "b": "two words"}
    assert context.request_tags({"Tagging": {"TagSet": [{"Key": "k", "Value": "v"}]}}) == {"k": "v"}
    assert context.request_tags({}) == {}


def test_tag_keys():
    keys = context.tag_keys({"Tags": [{"Key": "Team", "Value": "dev"}, {"Key": "env", "Value": "x"}]})
    assert keys == {"aws:requesttag/team": "dev", "aws:requesttag/env": "x",
                    "aws:tagkeys": ["Team", "env"]}
    assert context.tag_keys({"TagKeys": ["a", "b"]}) == {"aws:tagkeys": ["a", "b"]}  # untag
    assert context.tag_keys({}) == {}


def test_request_keys():
    keys = context.request_keys("eu-west-1", True, "10.1.2.3", "sigv2-query", "s3")
    assert keys["aws:securetransport"] == "true"
    assert keys["aws:sourceip"] == "10.1.2.3"
    assert keys["aws:requestedregion"] == "eu-west-1"
    assert keys["s3:signatureversion"] == "AWS"
    assert keys["s3:authtype"] == "REST-QUERY-STRING"
    moment = dt.datetime.strptime(keys["aws:currenttime"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.UTC)
    assert int(moment.timestamp()) == int(keys["aws:epochtime"])
    v4 = context.request_keys("us-east-1", False, "127.0.0.1", "sigv4-header", "s3")
    assert (v4["s3:signatureversion"], v4["s3:authtype"]) == ("AWS4-HMAC-SHA256", "REST-HEADER")
    assert "s3:signatureversion" not in context.request_keys("us-east-1", False, "::1",
                                                             "sigv4-header", "iam")


def test_principal_keys_for_a_role_session():
    session = Credential("ASIAX", "s", "111122223333",
                         "arn:aws:sts::111122223333:assumed-role/app/ci", kind="assumed-role",
                         session={"role_arn": "arn:aws:iam::111122223333:role/app",
                                  "session_name": "ci", "source_identity": "alice"})
    assert context.principal_arn(session) == "arn:aws:iam::111122223333:role/app"
    assert context.principal_keys(session) == {
        "aws:multifactorauthpresent": "false", "aws:sourceidentity": "alice",
        "sts:rolesessionname": "ci"}
