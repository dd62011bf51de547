"""Default credentials, pluggable resolvers, and the cheap scope read the gateway routes by."""

from __future__ import annotations

from cloudlet.auth import scope_of
from cloudlet.auth.credentials import Credential, CredentialStore
from cloudlet.protocols.base import Headers, HttpRequest


def test_default_test_key_is_the_root_of_the_default_account():
    credential = CredentialStore().lookup("test")
    assert (credential.secret_access_key, credential.account_id, credential.arn, credential.kind) == (
        "test", "000000000000", "arn:aws:iam::000000000000:root", "root")


def test_a_twelve_digit_key_is_the_root_of_that_account():
    credential = CredentialStore().lookup("123456789012")
    assert (credential.account_id, credential.arn) == ("123456789012",
                                                       "arn:aws:iam::123456789012:root")
    assert CredentialStore().lookup("12345678901") is None
    assert CredentialStore().lookup("AKIAEXAMPLE") is None


def test_resolvers_come_before_the_defaults():
    store = CredentialStore()
    user = Credential("AKIAUSER", "s", "111111111111", "arn:aws:iam::111111111111:user/u",
                      kind="user")
    store.add_resolver(lambda key: user if key in ("AKIAUSER", "test") else None)
    assert store.lookup("AKIAUSER") is user
    assert store.lookup("test") is user
    assert store.lookup("999999999999").account_id == "999999999999"
    assert CredentialStore(defaults=False).lookup("test") is None


def request(headers=(), query=""):
    return HttpRequest("GET", "/", query, Headers(list(headers)))


def test_scope_of_reads_the_header_and_the_query():
    header = ("Authorization", "AWS4-HMAC-SHA256 Credential=AKID/20150830/eu-west-1/monitoring/"
                               "aws4_request, SignedHeaders=host, Signature=abc")
    assert scope_of(request([header])) == ("AKID", "20150830", "eu-west-1", "monitoring")
    query = "X-Amz-Credential=AKID%2F20150830%2Fus-east-2%2Fs3%2Faws4_request&X-Amz-Signature=x"
    assert scope_of(request(query=query)) == ("AKID", "20150830", "us-east-2", "s3")
    assert scope_of(request([("Authorization", "AWS AKID:c2lnbmF0dXJl")])) == (
        "AKID", None, None, "s3")
    assert scope_of(request()) is None
    assert scope_of(request([("Authorization", "AWS4-HMAC-SHA256 garbage")])) is None
