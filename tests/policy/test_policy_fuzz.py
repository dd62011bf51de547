"""Hypothesis: random documents never make validation raise anything but ServiceError, and
evaluation of whatever parses never crashes."""

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cloudlet.errors import ServiceError
from cloudlet.policy.conditions import BASE_OPERATORS
from cloudlet.policy.document import (
    parse,
    validate_identity_policy,
    validate_resource_policy,
    validate_session_policy,
    validate_trust_policy,
)
from cloudlet.policy.evaluate import AuthzRequest, Policy, Principal, evaluate

text = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=12)
pattern = st.sampled_from(["*", "s3:*", "s3:Get*", "arn:aws:s3:::b/*", "${aws:username}",
                           "arn:aws:s3:::b/${aws:PrincipalTag/t, 'x'}/*", "${*}", "${", "?"]) | text
values = st.one_of(pattern, st.lists(pattern, max_size=3), st.integers(), st.booleans(), st.none(),
                   st.floats(allow_nan=True))
operators = st.sampled_from(sorted(BASE_OPERATORS)).flatmap(
    lambda op: st.sampled_from([op, op + "IfExists", "ForAllValues:" + op, "ForAnyValue:" + op])) | text
condition = st.dictionaries(operators, st.dictionaries(
    st.sampled_from(["aws:username", "s3:prefix", "aws:SourceIp", "aws:TagKeys", "aws:CurrentTime"]) | text,
    values, max_size=2), max_size=2)
principal = st.one_of(st.just("*"), st.dictionaries(
    st.sampled_from(["AWS", "Service", "Federated", "CanonicalUser"]) | text, values, max_size=2), values)
statement = st.fixed_dictionaries(
    {},
    optional={
        "Sid": values, "Effect": st.sampled_from(["Allow", "Deny", "allow"]) | values,
        "Action": values, "NotAction": values, "Resource": values, "NotResource": values,
        "Principal": principal, "NotPrincipal": principal, "Condition": condition | values,
        "Extra": values,
    },
)
document = st.fixed_dictionaries(
    {"Statement": st.one_of(statement, st.lists(statement, max_size=3), values)},
    optional={"Version": st.sampled_from(["2012-10-17", "2008-10-17"]) | values, "Id": values},
)
documents = document.map(json.dumps) | text

VALIDATORS = [validate_identity_policy, validate_resource_policy, validate_trust_policy,
              validate_session_policy]
PRINCIPALS = [
    Principal("arn:aws:iam::000000000000:user/alice", "000000000000", "User", username="alice"),
    Principal("arn:aws:sts::000000000000:assumed-role/r/s", "000000000000", "AssumedRole"),
    Principal("arn:aws:iam::000000000000:root", "000000000000", "Account", is_root=True),
    Principal("lambda.amazonaws.com", "", "Service"),
]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(documents)
def test_validation_raises_only_service_errors(text_):
    for validate in VALIDATORS:
        try:
            validate(text_)
        except ServiceError as err:
            assert err.code in ("MalformedPolicyDocument", "LimitExceeded", "ValidationError")


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(documents, st.sampled_from(PRINCIPALS), pattern, pattern,
       st.dictionaries(st.sampled_from(["aws:username", "s3:prefix", "aws:SourceIp", "aws:TagKeys",
                                        "aws:CurrentTime"]) | text, values, max_size=3))
def test_evaluation_never_crashes(text_, who, action, resource, context):
    try:
        parse(text_)
    except ServiceError:
        return
    for kind in ("identity", "resource", "boundary", "session"):
        policy = Policy("p", text_, kind)
        decision = evaluate(
            AuthzRequest(who, action, resource, context),
            [policy] if kind == "identity" else [],
            resource=policy if kind == "resource" else None,
            boundary=policy if kind == "boundary" else None,
            session=[policy] if kind == "session" else None,
        )
        assert decision.decision in ("allowed", "explicitDeny", "implicitDeny")


def _offset(text: str, position: tuple[int, int]) -> int:
    line, column = position
    starts = [0] + [i + 1 for i, c in enumerate(text) if c == "\n"]
    return starts[line - 1] + column - 2  # the column is just after the brace


plain_statement = st.fixed_dictionaries({
    "Effect": st.sampled_from(["Allow", "Deny"]),
    "Action": st.lists(st.sampled_from(["s3:GetObject", "ec2:*", "{", "}", "[\\\"]"]), max_size=3),
    "Resource": pattern,
})


@settings(max_examples=200, deadline=None)
@given(st.lists(plain_statement, min_size=1, max_size=4), st.sampled_from([None, 0, 1, 2, 4, "\t"]),
       st.sampled_from([(",", ":"), (", ", ": "), (" ,\n", " :  ")]), st.booleans())
def test_positions_point_at_each_statement(statements, indent, separators, single):
    body = statements[0] if single else statements
    text = json.dumps({"Version": "2012-10-17", "Id": "x{[", "Statement": body}, indent=indent,
                      separators=separators)
    doc = parse(text)
    assert len(doc.statements) == (1 if single else len(statements))
    for parsed, original in zip(doc.statements, statements, strict=False):
        start, end = _offset(text, parsed.start), _offset(text, parsed.end)
        assert text[start] == "{" and text[end] == "}"
        assert json.loads(text[start:end + 1]) == original
