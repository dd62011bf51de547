"""Unit tests of IAM's pure pieces: TOTP against RFC 6238's test vectors, Marker/MaxItems
pagination, the managed-policy catalog."""

from __future__ import annotations

import json

import pytest

from cloudlet.services.iam import managed
from cloudlet.services.iam.errors import InvalidInput
from cloudlet.services.iam.identities import paginate, stable_id
from cloudlet.services.iam.mfa import totp

SEED = b"12345678901234567890"  # RFC 6238, appendix B (SHA-1)


@pytest.mark.parametrize("at,code", [
    (59, "287082"), (1111111109, "081804"), (1111111111, "050471"),
    (1234567890, "005924"), (2000000000, "279037"), (20000000000, "353130"),
])
def test_totp_matches_rfc_6238_vectors(at, code):
    # RFC 6238 lists 8-digit codes; a 6-digit code is the same value modulo 10^6.
    assert totp(SEED, at // 30) == code


def test_paginate_walks_every_item_once():
    items = list(range(7))
    seen, params = [], {"MaxItems": 3}
    while True:
        page = paginate(items, params, "Items")
        seen += page["Items"]
        if not page["IsTruncated"]:
            assert "Marker" not in page
            break
        params = {"MaxItems": 3, "Marker": page["Marker"]}
    assert seen == items


def test_paginate_rejects_a_marker_it_did_not_make():
    with pytest.raises(InvalidInput):
        paginate([1, 2], {"Marker": "not-a-marker!"}, "Items")


def test_catalog_holds_the_issue_s_policies_with_documents():
    names = ["AdministratorAccess", "PowerUserAccess", "ReadOnlyAccess", "IAMFullAccess",
             "AmazonS3FullAccess", "AmazonS3ReadOnlyAccess", "AWSLambda_FullAccess",
             "service-role/AWSLambdaBasicExecutionRole",
             "service-role/AWSLambdaVPCAccessExecutionRole", "AmazonEC2FullAccess",
             "AmazonEC2ReadOnlyAccess", "AmazonRDSFullAccess", "AmazonRDSReadOnlyAccess",
             "CloudWatchFullAccess", "CloudWatchReadOnlyAccess", "CloudWatchLogsFullAccess",
             "CloudWatchAgentServerPolicy", "AmazonSSMManagedInstanceCore"]
    for name in names:
        policy = managed.get(f"arn:aws:iam::aws:policy/{name}")
        assert policy is not None, name
        assert json.loads(policy.document)["Statement"]
    assert managed.get("arn:aws:iam::aws:policy/NoSuchThing") is None


def test_stable_ids_have_aws_shape_and_do_not_change():
    first = stable_id("ANPA", "arn:aws:iam::aws:policy/AdministratorAccess")
    assert first == stable_id("ANPA", "arn:aws:iam::aws:policy/AdministratorAccess")
    assert first.startswith("ANPA") and len(first) == 20 and first[4:].isalnum()
