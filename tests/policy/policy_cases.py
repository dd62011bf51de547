"""The engine's case table, written from AWS's IAM User Guide.

Each case: the policies, the caller, the request, the expected decision (and, where it
matters, which policy type the AccessDenied message names), and `why` — the section of
the documentation the expectation comes from. `CASES` is the flat list the runner uses.
"""

from __future__ import annotations

ACCOUNT = "111122223333"
OTHER = "444455556666"

DOC_OPERATORS = "IAM User Guide: IAM JSON policy elements: Condition operators"
DOC_STRING = DOC_OPERATORS + " > String condition operators"
DOC_NUMERIC = DOC_OPERATORS + " > Numeric condition operators"
DOC_DATE = DOC_OPERATORS + " > Date condition operators"
DOC_BOOL = DOC_OPERATORS + " > Boolean condition operators"
DOC_BINARY = DOC_OPERATORS + " > Binary condition operators"
DOC_IP = DOC_OPERATORS + " > IP address condition operators"
DOC_ARN = DOC_OPERATORS + " > Amazon Resource Name (ARN) condition operators"
DOC_IFEXISTS = DOC_OPERATORS + " > ...IfExists condition operators"
DOC_NULL = DOC_OPERATORS + " > Condition operator to check existence of condition keys"
DOC_MISSING = ("IAM User Guide: Condition element: a key absent from the request context "
               "makes the condition false, except negated operators (true), ...IfExists and Null")
DOC_MULTI = "IAM User Guide: Creating a condition with multiple context keys or values"
DOC_SETS = "IAM User Guide: Set operators for multivalued context keys"
DOC_KEYCASE = "IAM User Guide: Condition element: condition key names are not case-sensitive"
DOC_ACTION = "IAM User Guide: IAM JSON policy elements: Action"
DOC_NOTACTION = "IAM User Guide: IAM JSON policy elements: NotAction"
DOC_RESOURCE = "IAM User Guide: IAM JSON policy elements: Resource (wildcards in ARNs)"
DOC_NOTRESOURCE = "IAM User Guide: IAM JSON policy elements: NotResource"
DOC_VARIABLES = "IAM User Guide: IAM policy elements: Variables and tags"
DOC_VAR_SPECIAL = DOC_VARIABLES + " > Special characters"
DOC_VAR_DEFAULT = DOC_VARIABLES + " > Specifying default values"
DOC_VAR_MISSING = DOC_VARIABLES + " > Request information that you can use for policy variables"
DOC_VERSION = "IAM User Guide: IAM JSON policy elements: Version"
DOC_EVAL = "IAM User Guide: Policy evaluation logic > How AWS enforcement code evaluates requests"
DOC_SINGLE = "IAM User Guide: Policy evaluation for requests within a single account"
DOC_CROSS = "IAM User Guide: Cross-account policy evaluation logic"
DOC_BOUNDARY = "IAM User Guide: Permissions boundaries for IAM entities > Evaluating effective permissions"
DOC_SESSION = "IAM User Guide: Policies and permissions > Session policies"
DOC_PRINCIPAL = "IAM User Guide: IAM JSON policy elements: Principal"
DOC_NOTPRINCIPAL = "IAM User Guide: IAM JSON policy elements: NotPrincipal"
DOC_ROOT = "IAM User Guide: AWS account root user (full access to the account's resources)"

BUCKET = "arn:aws:s3:::examplebucket"
OBJECT = "arn:aws:s3:::examplebucket/home/alice/file.txt"


def allow(action="*", resource="*", condition=None, **extra):
    st = {"Effect": "Allow", "Action": action, "Resource": resource}
    if condition:
        st["Condition"] = condition
    st.update(extra)
    return st


def deny(action="*", resource="*", condition=None, **extra):
    st = allow(action, resource, condition, **extra)
    st["Effect"] = "Deny"
    return st


def case(name, why, expect, *, identity=(), resource=None, boundary=None, session=None,
         principal="alice", action="s3:GetObject", arn=OBJECT, context=None,
         resource_account=None, kind=None, version="2012-10-17"):
    return {
        "name": name, "why": why, "expect": expect, "identity": list(identity),
        "resource": resource, "boundary": boundary, "session": session,
        "principal": principal, "action": action, "arn": arn, "context": context or {},
        "resource_account": resource_account, "kind": kind, "version": version,
    }


# --- condition operators: (operator, key, policy values, request value, holds?) ---------
# A request value of None means the key is absent; a list is a multivalued key.

T, F = True, False
CONDITIONS = [
    # StringEquals / StringNotEquals (case-sensitive, exact)
    ("StringEquals", "aws:username", "alice", "alice", T, DOC_STRING),
    ("StringEquals", "aws:username", "alice", "Alice", F, DOC_STRING),
    ("StringEquals", "aws:username", ["bob", "alice"], "alice", T, DOC_MULTI),
    ("StringEquals", "aws:username", ["bob", "carol"], "alice", F, DOC_MULTI),
    ("StringEquals", "aws:username", "ali*", "alice", F, DOC_STRING),
    ("StringEquals", "s3:prefix", "home/", None, F, DOC_MISSING),
    ("StringEquals", "s3:prefix", "", "", T, DOC_STRING),
    ("StringNotEquals", "aws:username", "bob", "alice", T, DOC_STRING),
    ("StringNotEquals", "aws:username", "alice", "alice", F, DOC_STRING),
    ("StringNotEquals", "aws:username", ["bob", "alice"], "alice", F, DOC_MULTI),
    ("StringNotEquals", "aws:username", ["bob", "carol"], "alice", T, DOC_MULTI),
    ("StringNotEquals", "s3:prefix", "home/", None, T, DOC_MISSING),
    ("StringNotEquals", "aws:username", "Alice", "alice", T, DOC_STRING),
    # IgnoreCase
    ("StringEqualsIgnoreCase", "aws:username", "ALICE", "alice", T, DOC_STRING),
    ("StringEqualsIgnoreCase", "aws:username", "bob", "alice", F, DOC_STRING),
    ("StringEqualsIgnoreCase", "aws:username", ["BOB", "aLiCe"], "Alice", T, DOC_MULTI),
    ("StringEqualsIgnoreCase", "s3:prefix", "x", None, F, DOC_MISSING),
    ("StringNotEqualsIgnoreCase", "aws:username", "ALICE", "alice", F, DOC_STRING),
    ("StringNotEqualsIgnoreCase", "aws:username", "bob", "alice", T, DOC_STRING),
    ("StringNotEqualsIgnoreCase", "s3:prefix", "x", None, T, DOC_MISSING),
    # StringLike / StringNotLike (case-sensitive, * and ?)
    ("StringLike", "s3:prefix", "home/*", "home/alice/", T, DOC_STRING),
    ("StringLike", "s3:prefix", "home/*", "Home/alice/", F, DOC_STRING),
    ("StringLike", "s3:prefix", "home/?", "home/a", T, DOC_STRING),
    ("StringLike", "s3:prefix", "home/?", "home/ab", F, DOC_STRING),
    ("StringLike", "s3:prefix", "", "", T, DOC_STRING),
    ("StringLike", "s3:prefix", "*", "", T, DOC_STRING),
    ("StringLike", "s3:prefix", ["a*", "home/*"], "home/x", T, DOC_MULTI),
    ("StringLike", "s3:prefix", "home/*", None, F, DOC_MISSING),
    ("StringLike", "s3:prefix", "a*b*c", "a--b--c", T, DOC_STRING),
    ("StringLike", "s3:prefix", "a.c", "abc", F, DOC_STRING),
    ("StringLike", "s3:prefix", "a[bc]", "ab", F, DOC_STRING),
    ("StringNotLike", "s3:prefix", "home/*", "home/alice/", F, DOC_STRING),
    ("StringNotLike", "s3:prefix", "home/*", "public/", T, DOC_STRING),
    ("StringNotLike", "s3:prefix", ["home/*", "public*"], "public/", F, DOC_MULTI),
    ("StringNotLike", "s3:prefix", "home/*", None, T, DOC_MISSING),
    # Numeric
    ("NumericEquals", "s3:max-keys", "10", "10", T, DOC_NUMERIC),
    ("NumericEquals", "s3:max-keys", "10", "10.0", T, DOC_NUMERIC),
    ("NumericEquals", "s3:max-keys", "10", "11", F, DOC_NUMERIC),
    ("NumericEquals", "s3:max-keys", "10", "ten", F, DOC_NUMERIC),
    ("NumericEquals", "s3:max-keys", "10", None, F, DOC_MISSING),
    ("NumericNotEquals", "s3:max-keys", "10", "11", T, DOC_NUMERIC),
    ("NumericNotEquals", "s3:max-keys", "10", "10", F, DOC_NUMERIC),
    ("NumericNotEquals", "s3:max-keys", ["10", "11"], "11", F, DOC_MULTI),
    ("NumericNotEquals", "s3:max-keys", "10", None, T, DOC_MISSING),
    ("NumericLessThan", "s3:max-keys", "10", "9", T, DOC_NUMERIC),
    ("NumericLessThan", "s3:max-keys", "10", "10", F, DOC_NUMERIC),
    ("NumericLessThan", "s3:max-keys", "10", "-5", T, DOC_NUMERIC),
    ("NumericLessThanEquals", "s3:max-keys", "10", "10", T, DOC_NUMERIC),
    ("NumericLessThanEquals", "s3:max-keys", "10", "11", F, DOC_NUMERIC),
    ("NumericGreaterThan", "s3:max-keys", "10", "11", T, DOC_NUMERIC),
    ("NumericGreaterThan", "s3:max-keys", "10", "10", F, DOC_NUMERIC),
    ("NumericGreaterThan", "s3:max-keys", "1.5", "1.75", T, DOC_NUMERIC),
    ("NumericGreaterThanEquals", "s3:max-keys", "10", "10", T, DOC_NUMERIC),
    ("NumericGreaterThanEquals", "s3:max-keys", "10", "9", F, DOC_NUMERIC),
    ("NumericGreaterThanEquals", "s3:max-keys", "10", None, F, DOC_MISSING),
    ("NumericLessThan", "s3:max-keys", ["5", "100"], "50", T, DOC_MULTI),
    # Date
    ("DateEquals", "aws:CurrentTime", "2026-01-01T00:00:00Z", "2026-01-01T00:00:00Z", T, DOC_DATE),
    ("DateEquals", "aws:CurrentTime", "2026-01-01T00:00:00Z", "2026-01-01T00:00:01Z", F, DOC_DATE),
    ("DateEquals", "aws:CurrentTime", "2026-01-01T00:00:00Z", "2026-01-01T01:00:00+01:00", T, DOC_DATE),
    ("DateEquals", "aws:EpochTime", "1767225600", "2026-01-01T00:00:00Z", T, DOC_DATE),
    ("DateNotEquals", "aws:CurrentTime", "2026-01-01T00:00:00Z", "2026-01-02T00:00:00Z", T, DOC_DATE),
    ("DateNotEquals", "aws:CurrentTime", "2026-01-01T00:00:00Z", "2026-01-01T00:00:00Z", F, DOC_DATE),
    ("DateLessThan", "aws:CurrentTime", "2026-06-30T00:00:00Z", "2026-01-01T00:00:00Z", T, DOC_DATE),
    ("DateLessThan", "aws:CurrentTime", "2026-06-30T00:00:00Z", "2026-07-01T00:00:00Z", F, DOC_DATE),
    ("DateLessThan", "aws:CurrentTime", "2026-06-30", "2026-06-29T23:59:59Z", T, DOC_DATE),
    ("DateLessThanEquals", "aws:CurrentTime", "2026-06-30T00:00:00Z", "2026-06-30T00:00:00Z", T, DOC_DATE),
    ("DateGreaterThan", "aws:CurrentTime", "2026-01-01T00:00:00Z", "2026-01-02T00:00:00Z", T, DOC_DATE),
    ("DateGreaterThan", "aws:CurrentTime", "2026-01-01T00:00:00Z", "2025-12-31T23:59:59Z", F, DOC_DATE),
    ("DateGreaterThanEquals", "aws:CurrentTime", "2026-01-01T00:00:00Z", "2026-01-01T00:00:00Z", T, DOC_DATE),
    ("DateGreaterThan", "aws:EpochTime", "1767225600", "1767225601", T, DOC_DATE),
    ("DateGreaterThan", "aws:CurrentTime", "2026-01-01T00:00:00Z", "not-a-date", F, DOC_DATE),
    ("DateLessThan", "aws:CurrentTime", "2026-01-01T00:00:00Z", None, F, DOC_MISSING),
    ("DateNotEquals", "aws:CurrentTime", "2026-01-01T00:00:00Z", None, T, DOC_MISSING),
    # Bool
    ("Bool", "aws:SecureTransport", "true", "true", T, DOC_BOOL),
    ("Bool", "aws:SecureTransport", "true", "false", F, DOC_BOOL),
    ("Bool", "aws:SecureTransport", "false", "false", T, DOC_BOOL),
    ("Bool", "aws:SecureTransport", "True", "true", T, DOC_BOOL),
    ("Bool", "aws:MultiFactorAuthPresent", "true", None, F, DOC_MISSING),
    ("Bool", "aws:MultiFactorAuthPresent", "false", None, F, DOC_MISSING),
    ("Bool", "aws:SecureTransport", "true", "yes", F, DOC_BOOL),
    # Binary
    ("BinaryEquals", "key:binary", "QmluYXJ5VmFsdWVJbkJhc2U2NA==", "QmluYXJ5VmFsdWVJbkJhc2U2NA==", T, DOC_BINARY),
    ("BinaryEquals", "key:binary", "QmluYXJ5VmFsdWVJbkJhc2U2NA==", "b3RoZXI=", F, DOC_BINARY),
    ("BinaryEquals", "key:binary", "QmluYXJ5VmFsdWVJbkJhc2U2NA==", None, F, DOC_MISSING),
    # IpAddress / NotIpAddress
    ("IpAddress", "aws:SourceIp", "203.0.113.0/24", "203.0.113.7", T, DOC_IP),
    ("IpAddress", "aws:SourceIp", "203.0.113.0/24", "203.0.114.7", F, DOC_IP),
    ("IpAddress", "aws:SourceIp", "203.0.113.7", "203.0.113.7", T, DOC_IP),
    ("IpAddress", "aws:SourceIp", "203.0.113.7/32", "203.0.113.8", F, DOC_IP),
    ("IpAddress", "aws:SourceIp", ["10.0.0.0/8", "203.0.113.0/24"], "10.1.2.3", T, DOC_MULTI),
    ("IpAddress", "aws:SourceIp", "2001:DB8:1234:5678::/64", "2001:db8:1234:5678::1", T, DOC_IP),
    ("IpAddress", "aws:SourceIp", "2001:DB8:1234:5678::/64", "2001:db8:1234:5679::1", F, DOC_IP),
    ("IpAddress", "aws:SourceIp", "0.0.0.0/0", "::1", F, DOC_IP),
    ("IpAddress", "aws:SourceIp", "203.0.113.0/24", "not-an-ip", F, DOC_IP),
    ("IpAddress", "aws:SourceIp", "203.0.113.0/24", None, F, DOC_MISSING),
    ("NotIpAddress", "aws:SourceIp", "203.0.113.0/24", "198.51.100.1", T, DOC_IP),
    ("NotIpAddress", "aws:SourceIp", "203.0.113.0/24", "203.0.113.1", F, DOC_IP),
    ("NotIpAddress", "aws:SourceIp", ["10.0.0.0/8", "203.0.113.0/24"], "10.0.0.1", F, DOC_MULTI),
    ("NotIpAddress", "aws:SourceIp", "203.0.113.0/24", None, T, DOC_MISSING),
    # Arn*
    ("ArnEquals", "aws:SourceArn", "arn:aws:sns:us-east-1:111122223333:topic", "arn:aws:sns:us-east-1:111122223333:topic", T, DOC_ARN),
    ("ArnEquals", "aws:SourceArn", "arn:aws:sns:us-east-1:111122223333:topic", "arn:aws:sns:us-east-1:111122223333:Topic", F, DOC_ARN),
    ("ArnEquals", "aws:SourceArn", "arn:aws:sns:*:111122223333:topic", "arn:aws:sns:eu-west-1:111122223333:topic", T, DOC_ARN),
    ("ArnLike", "aws:SourceArn", "arn:aws:s3:::bucket-*", "arn:aws:s3:::bucket-1", T, DOC_ARN),
    ("ArnLike", "aws:SourceArn", "arn:aws:s3:::bucket-*", "arn:aws:s3:::other", F, DOC_ARN),
    ("ArnLike", "aws:SourceArn", "arn:aws:lambda:*:111122223333:function:*", "arn:aws:lambda:us-east-1:111122223333:function:f", T, DOC_ARN),
    ("ArnLike", "aws:SourceArn", "arn:aws:lambda:*:111122223333:function:*", "arn:aws:lambda:us-east-1:444455556666:function:f", F, DOC_ARN),
    ("ArnLike", "aws:SourceArn", "arn:aws:s3:::bucket-*", "not-an-arn", F, DOC_ARN),
    ("ArnLike", "aws:SourceArn", "arn:aws:s3:::bucket-*", None, F, DOC_MISSING),
    ("ArnNotEquals", "aws:SourceArn", "arn:aws:s3:::a", "arn:aws:s3:::b", T, DOC_ARN),
    ("ArnNotEquals", "aws:SourceArn", "arn:aws:s3:::a", "arn:aws:s3:::a", F, DOC_ARN),
    ("ArnNotLike", "aws:SourceArn", "arn:aws:s3:::a*", "arn:aws:s3:::abc", F, DOC_ARN),
    ("ArnNotLike", "aws:SourceArn", "arn:aws:s3:::a*", "arn:aws:s3:::bcd", T, DOC_ARN),
    ("ArnNotLike", "aws:SourceArn", "arn:aws:s3:::a*", None, T, DOC_MISSING),
    # Null
    ("Null", "aws:TokenIssueTime", "true", None, T, DOC_NULL),
    ("Null", "aws:TokenIssueTime", "true", "2026-01-01T00:00:00Z", F, DOC_NULL),
    ("Null", "aws:TokenIssueTime", "false", "2026-01-01T00:00:00Z", T, DOC_NULL),
    ("Null", "aws:TokenIssueTime", "false", None, F, DOC_NULL),
    ("Null", "aws:TagKeys", "false", ["a"], T, DOC_NULL),
    # ...IfExists
    ("StringEqualsIfExists", "ec2:InstanceType", "t2.micro", None, T, DOC_IFEXISTS),
    ("StringEqualsIfExists", "ec2:InstanceType", "t2.micro", "t2.micro", T, DOC_IFEXISTS),
    ("StringEqualsIfExists", "ec2:InstanceType", "t2.micro", "m5.large", F, DOC_IFEXISTS),
    ("StringLikeIfExists", "ec2:InstanceType", "t2.*", "t2.small", T, DOC_IFEXISTS),
    ("StringNotEqualsIfExists", "ec2:InstanceType", "t2.micro", "t2.micro", F, DOC_IFEXISTS),
    ("StringNotEqualsIfExists", "ec2:InstanceType", "t2.micro", None, T, DOC_IFEXISTS),
    ("NumericLessThanIfExists", "s3:max-keys", "10", None, T, DOC_IFEXISTS),
    ("NumericLessThanIfExists", "s3:max-keys", "10", "20", F, DOC_IFEXISTS),
    ("BoolIfExists", "aws:MultiFactorAuthPresent", "true", None, T, DOC_IFEXISTS),
    ("BoolIfExists", "aws:MultiFactorAuthPresent", "true", "false", F, DOC_IFEXISTS),
    ("IpAddressIfExists", "aws:SourceIp", "10.0.0.0/8", None, T, DOC_IFEXISTS),
    ("IpAddressIfExists", "aws:SourceIp", "10.0.0.0/8", "192.168.0.1", F, DOC_IFEXISTS),
    ("ArnLikeIfExists", "aws:SourceArn", "arn:aws:s3:::a*", None, T, DOC_IFEXISTS),
    ("DateGreaterThanIfExists", "aws:TokenIssueTime", "2026-01-01T00:00:00Z", None, T, DOC_IFEXISTS),
    ("DateGreaterThanIfExists", "aws:TokenIssueTime", "2026-01-01T00:00:00Z", "2025-01-01T00:00:00Z", F, DOC_IFEXISTS),
    # ForAllValues / ForAnyValue
    ("ForAllValues:StringEquals", "aws:TagKeys", ["env", "team"], ["env"], T, DOC_SETS),
    ("ForAllValues:StringEquals", "aws:TagKeys", ["env", "team"], ["env", "team"], T, DOC_SETS),
    ("ForAllValues:StringEquals", "aws:TagKeys", ["env", "team"], ["env", "cost"], F, DOC_SETS),
    ("ForAllValues:StringEquals", "aws:TagKeys", ["env", "team"], [], T, DOC_SETS),
    ("ForAllValues:StringEquals", "aws:TagKeys", ["env", "team"], None, T, DOC_SETS),
    ("ForAllValues:StringLike", "aws:TagKeys", ["env*"], ["env1", "env2"], T, DOC_SETS),
    ("ForAllValues:StringNotEquals", "aws:TagKeys", ["secret"], ["env", "team"], T, DOC_SETS),
    ("ForAllValues:StringNotEquals", "aws:TagKeys", ["secret"], ["env", "secret"], F, DOC_SETS),
    ("ForAnyValue:StringEquals", "aws:TagKeys", ["env", "team"], ["cost", "env"], T, DOC_SETS),
    ("ForAnyValue:StringEquals", "aws:TagKeys", ["env", "team"], ["cost"], F, DOC_SETS),
    ("ForAnyValue:StringEquals", "aws:TagKeys", ["env", "team"], [], F, DOC_SETS),
    ("ForAnyValue:StringEquals", "aws:TagKeys", ["env", "team"], None, F, DOC_SETS),
    ("ForAnyValue:StringNotEquals", "aws:TagKeys", ["env"], ["env", "cost"], T, DOC_SETS),
    ("ForAnyValue:StringNotEquals", "aws:TagKeys", ["env"], ["env"], F, DOC_SETS),
    ("ForAnyValue:StringLike", "aws:TagKeys", ["co*"], ["env", "cost"], T, DOC_SETS),
    ("ForAnyValue:StringEqualsIgnoreCase", "aws:TagKeys", ["ENV"], ["env"], T, DOC_SETS),
    ("ForAllValues:StringEqualsIfExists", "aws:TagKeys", ["env"], None, T, DOC_SETS),
    ("ForAnyValue:StringEqualsIfExists", "aws:TagKeys", ["env"], None, T, DOC_SETS),
    ("ForAnyValue:NumericGreaterThan", "s3:versions", ["5"], ["1", "7"], T, DOC_SETS),
    ("ForAllValues:NumericGreaterThan", "s3:versions", ["5"], ["1", "7"], F, DOC_SETS),
    ("ForAnyValue:IpAddress", "aws:SourceIp", ["10.0.0.0/8"], ["192.168.0.1", "10.0.0.5"], T, DOC_SETS),
    ("ForAllValues:ArnLike", "aws:SourceArn", ["arn:aws:s3:::a*"], ["arn:aws:s3:::a1", "arn:aws:s3:::b1"], F, DOC_SETS),
    # A multivalued key without a set operator: the guide says such keys "require a set
    # operator" and leaves the result open; Cloudlet reads a plain operator as ForAnyValue
    # (negated: no value may match).
    ("StringEquals", "aws:TagKeys", ["env"], ["cost", "env"], T, DOC_SETS + " (Cloudlet's reading: as ForAnyValue)"),
    ("StringNotEquals", "aws:TagKeys", ["env"], ["cost", "env"], F, DOC_SETS + " (Cloudlet's reading: no value may match)"),
    # Key names are case-insensitive
    ("StringEquals", "AWS:UserName", "alice", "alice", T, DOC_KEYCASE),
    ("StringEquals", "aws:PRINCIPALTAG/Team", "blue", "blue", T, DOC_KEYCASE),
]


def _condition_cases():
    out = []
    for i, (op, key, values, request, holds, why) in enumerate(CONDITIONS):
        principal, context = "alice", {}
        if key.lower() == "aws:username":  # the principal's own keys come from the principal
            principal = {"type": "User", "name": request}
        elif key.lower().startswith("aws:principaltag/"):
            principal = {"type": "User", "name": "alice", "tags": {"team": request}}
        elif request is not None:
            context = {key: request}
        out.append(case(
            f"condition-{i:03d}-{op}-{key}", why, "allowed" if holds else "implicitDeny",
            identity=[allow("s3:GetObject", "*", {op: {key: values}})],
            principal=principal, context=context,
        ))
    return out


# --- Action / NotAction --------------------------------------------------------------------

ACTIONS = [
    ("s3:GetObject", "s3:GetObject", T),
    ("s3:getobject", "s3:GetObject", T),
    ("S3:GETOBJECT", "s3:GetObject", T),
    ("s3:Get*", "s3:GetObject", T),
    ("s3:Get*", "s3:PutObject", F),
    ("s3:*Object", "s3:GetObject", T),
    ("s3:*Object", "s3:GetObjectAcl", F),
    ("s3:Get?bject", "s3:GetObject", T),
    ("s3:Get?bject", "s3:GetOObject", F),
    ("s3:*", "s3:GetObject", T),
    ("s3:*", "ec2:RunInstances", F),
    ("*", "ec2:RunInstances", T),
    ("ec2:*Instances", "ec2:RunInstances", T),
    ("iam:*User*", "iam:ListUserPolicies", T),
    ("iam:*User*", "iam:ListRoles", F),
    ("s3:GetObject", "s3:GetObjectVersion", F),
    ("s3*", "s3:GetObject", T),
    ("s?:GetObject", "s3:GetObject", T),
    (["ec2:*", "s3:GetObject"], "s3:GetObject", T),
    (["ec2:*", "s3:PutObject"], "s3:GetObject", F),
]


def _action_cases():
    out = []
    for i, (pattern, action, hit) in enumerate(ACTIONS):
        out.append(case(f"action-{i:02d}", DOC_ACTION + " (case-insensitive, * and ? wildcards)",
                        "allowed" if hit else "implicitDeny",
                        identity=[allow(pattern, "*")], action=action, arn="*"))
    return out


NOT_ACTIONS = [
    ("iam:*", "s3:GetObject", T),
    ("iam:*", "iam:CreateUser", F),
    ("IAM:*", "iam:CreateUser", F),
    (["iam:*", "s3:Get*"], "s3:GetObject", F),
    (["iam:*", "s3:Get*"], "s3:PutObject", T),
    ("s3:DeleteObject", "s3:DeleteObjectVersion", T),
]


def _not_action_cases():
    out = []
    for i, (pattern, action, hit) in enumerate(NOT_ACTIONS):
        st = {"Effect": "Allow", "NotAction": pattern, "Resource": "*"}
        out.append(case(f"notaction-allow-{i:02d}", DOC_NOTACTION, "allowed" if hit else "implicitDeny",
                        identity=[st], action=action, arn="*"))
        deny_st = {"Effect": "Deny", "NotAction": pattern, "Resource": "*"}
        out.append(case(f"notaction-deny-{i:02d}", DOC_NOTACTION + " (Deny with NotAction denies everything else)",
                        "explicitDeny" if hit else "allowed",
                        identity=[allow(), deny_st], action=action, arn="*"))
    return out


# --- Resource / NotResource ----------------------------------------------------------------

RESOURCES = [
    ("*", OBJECT, T),
    ("arn:aws:s3:::examplebucket/*", OBJECT, T),
    ("arn:aws:s3:::examplebucket/*", BUCKET, F),
    ("arn:aws:s3:::examplebucket", BUCKET, T),
    ("arn:aws:s3:::ExampleBucket/*", OBJECT, F),
    ("arn:aws:s3:::examplebucket/home/*/file.txt", OBJECT, T),
    ("arn:aws:s3:::examplebucket/home/?????/file.txt", OBJECT, T),
    ("arn:aws:s3:::examplebucket/home/????/file.txt", OBJECT, F),
    ("arn:aws:s3:::example*", OBJECT, T),
    ("arn:aws:s3:::*", OBJECT, T),
    ("arn:aws:s3:::*/home/alice/*", OBJECT, T),
    ("arn:aws:*:::examplebucket/*", OBJECT, T),
    ("arn:aws:ec2:*:*:instance/*", "arn:aws:ec2:us-east-1:111122223333:instance/i-0123456789abcdef0", T),
    ("arn:aws:ec2:us-west-2:*:instance/*", "arn:aws:ec2:us-east-1:111122223333:instance/i-0123456789abcdef0", F),
    ("arn:aws:ec2:*:444455556666:instance/*", "arn:aws:ec2:us-east-1:111122223333:instance/i-0123456789abcdef0", F),
    ("arn:aws:ec2:us-east-1:111122223333:instance/*", "arn:aws:ec2:us-east-1:111122223333:volume/vol-1", F),
    ("arn:aws:iam::111122223333:user/*", "arn:aws:iam::111122223333:user/division/alice", T),
    ("arn:aws:iam::111122223333:user/division/*", "arn:aws:iam::111122223333:user/alice", F),
    ("arn:aws:logs:*:*:log-group:/aws/lambda/*", "arn:aws:logs:us-east-1:111122223333:log-group:/aws/lambda/f:log-stream:x", T),
    ("arn:aws:logs:us-*:*:*", "arn:aws:logs:us-east-1:111122223333:log-group:g", T),
    ("arn:aws:logs:us-*:*:*", "arn:aws:logs:eu-west-1:111122223333:log-group:g", F),
    ("arn:aws:dynamodb:*:*:table/Books", "arn:aws:dynamodb:us-east-1:111122223333:table/books", F),
    ("arn:aws:s3:::examplebucket/home/alice/file.txt", OBJECT, T),
    ("arn:aws-cn:s3:::examplebucket/*", OBJECT, F),
    ("arn:*:s3:::examplebucket/*", OBJECT, T),
    ("arn:aws:sqs:us-east-1:111122223333:queue?", "arn:aws:sqs:us-east-1:111122223333:queue1", T),
    ("arn:aws:sqs:us-east-1:111122223333:queue?", "arn:aws:sqs:us-east-1:111122223333:queue12", F),
    ("arn:aws:s3:::examplebucket/*", "*", F),
]


def _resource_cases():
    out = []
    for i, (pattern, arn, hit) in enumerate(RESOURCES):
        out.append(case(f"resource-{i:02d}", DOC_RESOURCE + " (case-sensitive, per ARN component)",
                        "allowed" if hit else "implicitDeny",
                        identity=[allow("s3:GetObject", pattern)], arn=arn))
    return out


NOT_RESOURCES = [
    ("arn:aws:s3:::examplebucket/*", OBJECT, F),
    ("arn:aws:s3:::examplebucket/*", "arn:aws:s3:::otherbucket/k", T),
    (["arn:aws:s3:::a/*", "arn:aws:s3:::examplebucket/home/*"], OBJECT, F),
    ("arn:aws:s3:::ExampleBucket/*", OBJECT, T),
]


def _not_resource_cases():
    out = []
    for i, (pattern, arn, hit) in enumerate(NOT_RESOURCES):
        st = {"Effect": "Allow", "Action": "s3:GetObject", "NotResource": pattern}
        out.append(case(f"notresource-allow-{i:02d}", DOC_NOTRESOURCE, "allowed" if hit else "implicitDeny",
                        identity=[st], arn=arn))
        deny_st = {"Effect": "Deny", "Action": "s3:GetObject", "NotResource": pattern}
        out.append(case(f"notresource-deny-{i:02d}", DOC_NOTRESOURCE + " (Deny everything but the listed)",
                        "explicitDeny" if hit else "allowed",
                        identity=[allow(), deny_st], arn=arn))
    return out


# --- policy variables -----------------------------------------------------------------------

HOME = "arn:aws:s3:::examplebucket/home/${aws:username}/*"


def _variable_cases():
    alice = {"type": "User", "name": "alice", "tags": {"team": "blue"}}
    blue_obj = "arn:aws:s3:::examplebucket/team/blue/x"
    return [
        case("var-username-own-home", DOC_VARIABLES, "allowed", identity=[allow("s3:GetObject", HOME)]),
        case("var-username-other-home", DOC_VARIABLES, "implicitDeny",
             identity=[allow("s3:GetObject", HOME)], arn="arn:aws:s3:::examplebucket/home/bob/file.txt"),
        case("var-username-missing-for-role", DOC_VAR_MISSING + " (aws:username absent for role sessions)",
             "implicitDeny", identity=[allow("s3:GetObject", HOME)], principal="session"),
        case("var-version-2008-literal", DOC_VERSION + " (2008-10-17 does not substitute variables)",
             "implicitDeny", identity=[allow("s3:GetObject", HOME)], version="2008-10-17"),
        case("var-version-2008-literal-matches-literal", DOC_VERSION, "allowed",
             identity=[allow("s3:GetObject", HOME)], version="2008-10-17",
             arn="arn:aws:s3:::examplebucket/home/${aws:username}/x"),
        case("var-no-version-literal", DOC_VERSION + " (no Version means 2008-10-17)", "implicitDeny",
             identity=[allow("s3:GetObject", HOME)], version=None),
        case("var-principal-tag", DOC_VARIABLES, "allowed",
             identity=[allow("s3:GetObject", "arn:aws:s3:::examplebucket/team/${aws:PrincipalTag/team}/*")],
             principal=alice, arn=blue_obj),
        case("var-principal-tag-case-insensitive-key", DOC_VARIABLES + " (key names are case-insensitive)",
             "allowed",
             identity=[allow("s3:GetObject", "arn:aws:s3:::examplebucket/team/${AWS:PRINCIPALTAG/TEAM}/*")],
             principal=alice, arn=blue_obj),
        case("var-principal-tag-missing", DOC_VAR_MISSING, "implicitDeny",
             identity=[allow("s3:GetObject", "arn:aws:s3:::examplebucket/team/${aws:PrincipalTag/team}/*")],
             arn=blue_obj),
        case("var-default-used", DOC_VAR_DEFAULT, "allowed",
             identity=[allow("s3:GetObject", "arn:aws:s3:::examplebucket/team/${aws:PrincipalTag/team, 'none'}/*")],
             arn="arn:aws:s3:::examplebucket/team/none/x"),
        case("var-default-not-used-when-present", DOC_VAR_DEFAULT, "implicitDeny",
             identity=[allow("s3:GetObject", "arn:aws:s3:::examplebucket/team/${aws:PrincipalTag/team, 'none'}/*")],
             principal=alice, arn="arn:aws:s3:::examplebucket/team/none/x"),
        case("var-default-present-value", DOC_VAR_DEFAULT, "allowed",
             identity=[allow("s3:GetObject", "arn:aws:s3:::examplebucket/team/${aws:PrincipalTag/team, 'none'}/*")],
             principal=alice, arn=blue_obj),
        case("var-star-is-literal", DOC_VAR_SPECIAL, "allowed",
             identity=[allow("s3:GetObject", "arn:aws:s3:::examplebucket/${*}")],
             arn="arn:aws:s3:::examplebucket/*"),
        case("var-star-is-not-wildcard", DOC_VAR_SPECIAL, "implicitDeny",
             identity=[allow("s3:GetObject", "arn:aws:s3:::examplebucket/${*}")],
             arn="arn:aws:s3:::examplebucket/anything"),
        case("var-qmark-literal", DOC_VAR_SPECIAL, "allowed",
             identity=[allow("s3:GetObject", "arn:aws:s3:::examplebucket/what${?}")],
             arn="arn:aws:s3:::examplebucket/what?"),
        case("var-qmark-not-wildcard", DOC_VAR_SPECIAL, "implicitDeny",
             identity=[allow("s3:GetObject", "arn:aws:s3:::examplebucket/what${?}")],
             arn="arn:aws:s3:::examplebucket/whatX"),
        case("var-dollar-literal", DOC_VAR_SPECIAL, "allowed",
             identity=[allow("s3:GetObject", "arn:aws:s3:::examplebucket/${$}price")],
             arn="arn:aws:s3:::examplebucket/$price"),
        case("var-in-condition-stringlike", DOC_VARIABLES + " (variables in condition values)", "allowed",
             identity=[allow("s3:ListBucket", BUCKET, {"StringLike": {"s3:prefix": ["home/${aws:username}/*"]}})],
             action="s3:ListBucket", arn=BUCKET, context={"s3:prefix": "home/alice/docs/"}),
        case("var-in-condition-stringlike-other", DOC_VARIABLES, "implicitDeny",
             identity=[allow("s3:ListBucket", BUCKET, {"StringLike": {"s3:prefix": ["home/${aws:username}/*"]}})],
             action="s3:ListBucket", arn=BUCKET, context={"s3:prefix": "home/bob/"}),
        case("var-in-condition-resource-tag", DOC_VARIABLES + " (ABAC: ResourceTag equals PrincipalTag)",
             "allowed", principal=alice,
             identity=[allow("ec2:StartInstances", "*",
                             {"StringEquals": {"aws:ResourceTag/team": "${aws:PrincipalTag/team}"}})],
             action="ec2:StartInstances", arn="arn:aws:ec2:us-east-1:111122223333:instance/i-1",
             context={"aws:ResourceTag/team": "blue"}),
        case("var-in-condition-resource-tag-mismatch", DOC_VARIABLES, "implicitDeny", principal=alice,
             identity=[allow("ec2:StartInstances", "*",
                             {"StringEquals": {"aws:ResourceTag/team": "${aws:PrincipalTag/team}"}})],
             action="ec2:StartInstances", arn="arn:aws:ec2:us-east-1:111122223333:instance/i-1",
             context={"aws:ResourceTag/team": "red"}),
        case("var-unresolved-condition-value-no-match", DOC_VAR_MISSING, "implicitDeny",
             identity=[allow("ec2:StartInstances", "*",
                             {"StringEquals": {"aws:ResourceTag/team": "${aws:PrincipalTag/team}"}})],
             action="ec2:StartInstances", arn="*", context={"aws:ResourceTag/team": ""}),
        case("var-value-with-star-is-literal", DOC_VAR_SPECIAL + " (substituted values are literal)",
             "implicitDeny", principal={"type": "User", "name": "alice", "tags": {"team": "*"}},
             identity=[allow("s3:GetObject", "arn:aws:s3:::examplebucket/team/${aws:PrincipalTag/team}")],
             arn="arn:aws:s3:::examplebucket/team/blue"),
        case("var-userid-in-resource", DOC_VARIABLES, "allowed",
             identity=[allow("s3:GetObject", "arn:aws:s3:::examplebucket/${aws:userid}/*")],
             arn="arn:aws:s3:::examplebucket/AIDAEXAMPLEALICE/x"),
        case("var-sourceip-in-condition", DOC_VARIABLES, "allowed",
             identity=[allow("s3:GetObject", "*", {"StringEquals": {"s3:prefix": "${aws:SourceIp}"}})],
             context={"aws:SourceIp": "10.0.0.1", "s3:prefix": "10.0.0.1"}),
        case("var-not-in-action", DOC_VARIABLES + " (variables are not allowed in Action)", "implicitDeny",
             identity=[allow("s3:${aws:username}", "*")], action="s3:alice"),
        case("var-notresource-with-variable", DOC_VARIABLES, "explicitDeny",
             identity=[allow(), {"Effect": "Deny", "Action": "s3:GetObject",
                                 "NotResource": "arn:aws:s3:::examplebucket/home/${aws:username}/*"}],
             arn="arn:aws:s3:::examplebucket/home/bob/x"),
        case("var-notresource-own-home", DOC_VARIABLES, "allowed",
             identity=[allow(), {"Effect": "Deny", "Action": "s3:GetObject",
                                 "NotResource": "arn:aws:s3:::examplebucket/home/${aws:username}/*"}]),
    ]


# --- evaluation paths -----------------------------------------------------------------------

ANY = {"Version": "2012-10-17", "Statement": [allow()]}


def rp(*statements):
    return {"Version": "2012-10-17", "Statement": list(statements)}


def pallow(principal, action="s3:GetObject", resource="arn:aws:s3:::examplebucket/*", **extra):
    return {"Effect": "Allow", "Principal": principal, "Action": action, "Resource": resource, **extra}


def pdeny(principal, action="s3:GetObject", resource="arn:aws:s3:::examplebucket/*", **extra):
    return {**pallow(principal, action, resource, **extra), "Effect": "Deny"}


ALICE_ARN = f"arn:aws:iam::{ACCOUNT}:user/alice"
ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/app"
SESSION_ARN = f"arn:aws:sts::{ACCOUNT}:assumed-role/app/s1"
OTHER_ALICE = f"arn:aws:iam::{OTHER}:user/alice"


def _path_cases():
    c = []
    add = c.append
    add(case("path-default-implicit-deny", DOC_EVAL + " (by default all requests are implicitly denied)",
             "implicitDeny", kind="identity-based policy"))
    add(case("path-identity-allow", DOC_SINGLE, "allowed", identity=[allow("s3:GetObject")]))
    add(case("path-identity-other-action", DOC_SINGLE, "implicitDeny", identity=[allow("s3:PutObject")],
             kind="identity-based policy"))
    add(case("path-explicit-deny-wins", DOC_EVAL + " (an explicit deny overrides any allow)",
             "explicitDeny", identity=[allow(), deny("s3:GetObject")], kind="identity-based policy"))
    add(case("path-deny-in-other-policy", DOC_EVAL, "explicitDeny",
             identity=[allow(), deny("s3:*", "arn:aws:s3:::examplebucket/*")]))
    add(case("path-deny-condition-false", DOC_EVAL, "allowed",
             identity=[allow(), deny("*", "*", {"Bool": {"aws:SecureTransport": "false"}})],
             context={"aws:SecureTransport": "true"}))
    add(case("path-deny-condition-true", DOC_EVAL, "explicitDeny",
             identity=[allow(), deny("*", "*", {"Bool": {"aws:SecureTransport": "false"}})],
             context={"aws:SecureTransport": False}))
    add(case("path-deny-mfa-missing-boolifexists", DOC_IFEXISTS + " (deny unless MFA)", "explicitDeny",
             identity=[allow(), deny("*", "*", {"BoolIfExists": {"aws:MultiFactorAuthPresent": "false"}})]))
    add(case("path-deny-mfa-present", DOC_IFEXISTS, "allowed",
             identity=[allow(), deny("*", "*", {"BoolIfExists": {"aws:MultiFactorAuthPresent": "false"}})],
             context={"aws:MultiFactorAuthPresent": True}))
    add(case("path-deny-outside-region", DOC_STRING + " (aws:RequestedRegion)", "explicitDeny",
             identity=[allow(), deny("*", "*", {"StringNotEquals": {"aws:RequestedRegion": ["us-east-1", "eu-west-1"]}})],
             context={"aws:RequestedRegion": "ap-south-1"}))
    add(case("path-deny-inside-region", DOC_STRING, "allowed",
             identity=[allow(), deny("*", "*", {"StringNotEquals": {"aws:RequestedRegion": ["us-east-1", "eu-west-1"]}})],
             context={"aws:RequestedRegion": "eu-west-1"}))
    add(case("path-and-across-keys", DOC_MULTI + " (keys are ANDed)", "implicitDeny",
             identity=[allow("*", "*", {"StringEquals": {"aws:RequestedRegion": "us-east-1", "s3:prefix": "a"}})],
             context={"aws:RequestedRegion": "us-east-1", "s3:prefix": "b"}))
    add(case("path-and-across-keys-all-true", DOC_MULTI, "allowed",
             identity=[allow("*", "*", {"StringEquals": {"aws:RequestedRegion": "us-east-1", "s3:prefix": "a"}})],
             context={"aws:RequestedRegion": "us-east-1", "s3:prefix": "a"}))
    add(case("path-and-across-operators", DOC_MULTI + " (operators are ANDed)", "implicitDeny",
             identity=[allow("*", "*", {"StringEquals": {"s3:prefix": "a"},
                                        "IpAddress": {"aws:SourceIp": "10.0.0.0/8"}})],
             context={"s3:prefix": "a", "aws:SourceIp": "192.168.1.1"}))
    add(case("path-and-across-operators-true", DOC_MULTI, "allowed",
             identity=[allow("*", "*", {"StringEquals": {"s3:prefix": "a"},
                                        "IpAddress": {"aws:SourceIp": "10.0.0.0/8"}})],
             context={"s3:prefix": "a", "aws:SourceIp": "10.1.1.1"}))
    add(case("path-statement-as-object", DOC_SINGLE + " (Statement may be one object)", "allowed",
             identity=[{"Version": "2012-10-17", "Statement": allow("s3:GetObject")}]))
    # root
    add(case("path-root-no-policies", DOC_ROOT, "allowed", principal="root"))
    add(case("path-root-resource-deny", DOC_EVAL + " (explicit deny in a resource policy applies to root)",
             "explicitDeny", principal="root", resource=rp(pdeny("*")), kind="resource-based policy"))
    add(case("path-root-cross-account-needs-resource-policy", DOC_CROSS, "implicitDeny",
             principal="root", resource_account=OTHER, kind="resource-based policy"))
    add(case("path-root-cross-account-allowed", DOC_CROSS, "allowed", principal="root",
             resource_account=OTHER, resource=rp(pallow({"AWS": ACCOUNT}))))
    # same-account resource policies
    add(case("path-resource-names-user", DOC_SINGLE + " (resource policy naming the user suffices)",
             "allowed", resource=rp(pallow({"AWS": ALICE_ARN}))))
    add(case("path-resource-names-everyone", DOC_SINGLE, "allowed", resource=rp(pallow("*"))))
    add(case("path-resource-names-everyone-aws-star", DOC_PRINCIPAL, "allowed", resource=rp(pallow({"AWS": "*"}))))
    add(case("path-resource-names-other-user", DOC_PRINCIPAL, "implicitDeny",
             resource=rp(pallow({"AWS": f"arn:aws:iam::{ACCOUNT}:user/bob"})), kind="identity-based policy"))
    add(case("path-resource-names-account-delegates", DOC_PRINCIPAL + " (naming the account delegates to IAM)",
             "implicitDeny", resource=rp(pallow({"AWS": ACCOUNT})), kind="identity-based policy"))
    add(case("path-resource-names-account-root-arn", DOC_PRINCIPAL, "implicitDeny",
             resource=rp(pallow({"AWS": f"arn:aws:iam::{ACCOUNT}:root"}))))
    add(case("path-resource-names-account-identity-allows", DOC_SINGLE, "allowed",
             resource=rp(pallow({"AWS": ACCOUNT})), identity=[allow("s3:GetObject")]))
    add(case("path-resource-deny-wins-over-identity", DOC_EVAL, "explicitDeny",
             identity=[allow()], resource=rp(pdeny({"AWS": ALICE_ARN})), kind="resource-based policy"))
    add(case("path-resource-allow-wrong-action", DOC_SINGLE, "implicitDeny",
             resource=rp(pallow({"AWS": ALICE_ARN}, action="s3:PutObject"))))
    add(case("path-resource-allow-condition-false", DOC_SINGLE, "implicitDeny",
             resource=rp(pallow({"AWS": ALICE_ARN}, Condition={"Bool": {"aws:SecureTransport": "true"}})),
             context={"aws:SecureTransport": "false"}))
    add(case("path-resource-user-bypasses-boundary", DOC_BOUNDARY + " (resource policy naming the user)",
             "allowed", resource=rp(pallow({"AWS": ALICE_ARN})), boundary=rp(allow("ec2:*"))))
    add(case("path-resource-deny-in-boundary-still-wins", DOC_BOUNDARY, "explicitDeny",
             resource=rp(pallow({"AWS": ALICE_ARN})), boundary=rp(allow(), deny("s3:GetObject")),
             kind="permissions boundary"))
    # role sessions
    add(case("path-session-identity-allow", DOC_SINGLE, "allowed", principal="session",
             identity=[allow("s3:GetObject")]))
    add(case("path-resource-names-session", DOC_SESSION + " (resource policy naming the session ARN)",
             "allowed", principal="session", resource=rp(pallow({"AWS": SESSION_ARN}))))
    add(case("path-resource-names-session-bypasses-session-policy", DOC_SESSION, "allowed",
             principal="session", resource=rp(pallow({"AWS": SESSION_ARN})), session=[rp(allow("ec2:*"))]))
    add(case("path-resource-names-role", DOC_SINGLE + " (resource policy naming the role)", "allowed",
             principal="session", resource=rp(pallow({"AWS": ROLE_ARN}))))
    add(case("path-resource-names-role-session-policy-limits", DOC_SESSION + " (naming the role: session policy still limits)",
             "implicitDeny", principal="session", resource=rp(pallow({"AWS": ROLE_ARN})),
             session=[rp(allow("ec2:*"))], kind="session policy"))
    add(case("path-resource-names-role-boundary-limits", DOC_BOUNDARY + " (naming the role: boundary still limits)",
             "implicitDeny", principal="session", resource=rp(pallow({"AWS": ROLE_ARN})),
             boundary=rp(allow("ec2:*")), kind="permissions boundary"))
    add(case("path-resource-names-role-session-policy-allows", DOC_SESSION, "allowed",
             principal="session", resource=rp(pallow({"AWS": ROLE_ARN})), session=[rp(allow("s3:*"))]))
    add(case("path-resource-names-other-role", DOC_PRINCIPAL, "implicitDeny", principal="session",
             resource=rp(pallow({"AWS": f"arn:aws:iam::{ACCOUNT}:role/other"}))))
    add(case("path-session-policy-intersection-allowed", DOC_SESSION + " (intersection)", "allowed",
             principal="session", identity=[allow("s3:*")], session=[rp(allow("s3:GetObject"))]))
    add(case("path-session-policy-intersection-denied", DOC_SESSION, "implicitDeny", principal="session",
             identity=[allow("s3:*")], session=[rp(allow("s3:PutObject"))], action="s3:GetObject",
             kind="session policy"))
    add(case("path-session-policy-cannot-grant", DOC_SESSION + " (cannot grant more than the role)",
             "implicitDeny", principal="session", identity=[allow("s3:PutObject")],
             session=[rp(allow("s3:*"))], kind="identity-based policy"))
    add(case("path-session-policy-any-of-several", DOC_SESSION, "allowed", principal="session",
             identity=[allow()], session=[rp(allow("ec2:*")), rp(allow("s3:GetObject"))]))
    add(case("path-session-policy-deny", DOC_SESSION, "explicitDeny", principal="session",
             identity=[allow()], session=[rp(allow(), deny("s3:GetObject"))], kind="session policy"))
    add(case("path-session-empty-list-means-none", DOC_SESSION, "allowed", principal="session",
             identity=[allow()], session=[]))
    # boundaries
    add(case("path-boundary-caps-admin", DOC_BOUNDARY + " (intersection with identity policies)",
             "implicitDeny", identity=[allow()], boundary=rp(allow("ec2:*")), kind="permissions boundary"))
    add(case("path-boundary-allows", DOC_BOUNDARY, "allowed", identity=[allow()], boundary=rp(allow("s3:*"))))
    add(case("path-boundary-does-not-grant", DOC_BOUNDARY + " (a boundary grants nothing)", "implicitDeny",
             boundary=rp(allow()), kind="identity-based policy"))
    add(case("path-boundary-deny", DOC_BOUNDARY, "explicitDeny", identity=[allow()],
             boundary=rp(allow(), deny("s3:GetObject")), kind="permissions boundary"))
    add(case("path-boundary-condition", DOC_BOUNDARY, "implicitDeny", identity=[allow()],
             boundary=rp(allow("*", "*", {"StringEquals": {"aws:RequestedRegion": "us-east-1"}})),
             context={"aws:RequestedRegion": "eu-west-1"}))
    add(case("path-boundary-and-session", DOC_BOUNDARY, "allowed", principal="session", identity=[allow()],
             boundary=rp(allow("s3:*")), session=[rp(allow("s3:Get*"))]))
    # cross-account
    add(case("path-cross-identity-only", DOC_CROSS + " (both accounts must allow)", "implicitDeny",
             identity=[allow()], resource_account=OTHER, kind="resource-based policy"))
    add(case("path-cross-resource-only", DOC_CROSS, "implicitDeny",
             resource=rp(pallow({"AWS": ALICE_ARN})), resource_account=OTHER, kind="identity-based policy"))
    add(case("path-cross-both", DOC_CROSS, "allowed", identity=[allow("s3:GetObject")],
             resource=rp(pallow({"AWS": ALICE_ARN})), resource_account=OTHER))
    add(case("path-cross-account-principal", DOC_CROSS + " (resource policy may name the caller's account)",
             "allowed", identity=[allow("s3:GetObject")], resource=rp(pallow({"AWS": ACCOUNT})),
             resource_account=OTHER))
    add(case("path-cross-wrong-account", DOC_CROSS, "implicitDeny", identity=[allow("s3:GetObject")],
             resource=rp(pallow({"AWS": OTHER})), resource_account=OTHER))
    add(case("path-cross-boundary-applies", DOC_CROSS, "implicitDeny", identity=[allow()],
             boundary=rp(allow("ec2:*")), resource=rp(pallow("*")), resource_account=OTHER,
             kind="permissions boundary"))
    add(case("path-cross-session", DOC_CROSS, "allowed", principal="session", identity=[allow()],
             resource=rp(pallow({"AWS": ROLE_ARN})), resource_account=OTHER))
    add(case("path-cross-resource-deny", DOC_CROSS, "explicitDeny", identity=[allow()],
             resource=rp(pallow("*"), pdeny({"AWS": ACCOUNT})), resource_account=OTHER))
    # principals of other kinds
    add(case("path-service-principal", DOC_PRINCIPAL + " (service principals)", "allowed",
             principal={"type": "Service", "name": "lambda.amazonaws.com"}, action="sts:AssumeRole", arn=ROLE_ARN,
             resource=rp(pallow({"Service": "lambda.amazonaws.com"}, action="sts:AssumeRole", resource=ROLE_ARN))))
    add(case("path-service-principal-other", DOC_PRINCIPAL, "implicitDeny",
             principal={"type": "Service", "name": "ec2.amazonaws.com"}, action="sts:AssumeRole", arn=ROLE_ARN,
             resource=rp(pallow({"Service": "lambda.amazonaws.com"}, action="sts:AssumeRole", resource=ROLE_ARN)),
             kind="resource-based policy"))
    add(case("path-service-principal-list", DOC_PRINCIPAL, "allowed",
             principal={"type": "Service", "name": "ec2.amazonaws.com"}, action="sts:AssumeRole", arn=ROLE_ARN,
             resource=rp(pallow({"Service": ["lambda.amazonaws.com", "ec2.amazonaws.com"]},
                                action="sts:AssumeRole", resource=ROLE_ARN))))
    add(case("path-federated-principal", DOC_PRINCIPAL + " (web identity)", "allowed",
             principal={"type": "Federated", "name": f"arn:aws:iam::{ACCOUNT}:oidc-provider/token.example.com"},
             action="sts:AssumeRoleWithWebIdentity", arn=ROLE_ARN,
             resource=rp(pallow({"Federated": f"arn:aws:iam::{ACCOUNT}:oidc-provider/token.example.com"},
                                action="sts:AssumeRoleWithWebIdentity", resource=ROLE_ARN,
                                Condition={"StringEquals": {"token.example.com:sub": "repo:org/app:ref:refs/heads/main"}})),
             context={"token.example.com:sub": "repo:org/app:ref:refs/heads/main"}))
    add(case("path-federated-principal-wrong-sub", DOC_PRINCIPAL, "implicitDeny",
             principal={"type": "Federated", "name": f"arn:aws:iam::{ACCOUNT}:oidc-provider/token.example.com"},
             action="sts:AssumeRoleWithWebIdentity", arn=ROLE_ARN,
             resource=rp(pallow({"Federated": f"arn:aws:iam::{ACCOUNT}:oidc-provider/token.example.com"},
                                action="sts:AssumeRoleWithWebIdentity", resource=ROLE_ARN,
                                Condition={"StringEquals": {"token.example.com:sub": "repo:org/app:ref:refs/heads/main"}})),
             context={"token.example.com:sub": "repo:org/app:ref:refs/heads/dev"}))
    add(case("path-trust-external-id", DOC_CROSS + " (trust policy with sts:ExternalId)", "allowed",
             principal="other-alice", identity=[allow("sts:AssumeRole", ROLE_ARN)], action="sts:AssumeRole",
             arn=ROLE_ARN, resource_account=ACCOUNT,
             resource=rp({"Effect": "Allow", "Principal": {"AWS": OTHER}, "Action": "sts:AssumeRole",
                          "Condition": {"StringEquals": {"sts:ExternalId": "abc"}}}),
             context={"sts:ExternalId": "abc"}))
    add(case("path-trust-wrong-external-id", DOC_CROSS, "implicitDeny",
             principal="other-alice", identity=[allow("sts:AssumeRole", ROLE_ARN)], action="sts:AssumeRole",
             arn=ROLE_ARN, resource_account=ACCOUNT,
             resource=rp({"Effect": "Allow", "Principal": {"AWS": OTHER}, "Action": "sts:AssumeRole",
                          "Condition": {"StringEquals": {"sts:ExternalId": "abc"}}}),
             context={"sts:ExternalId": "xyz"}, kind="resource-based policy"))
    add(case("path-trust-same-account-names-user", DOC_SINGLE + " (trust naming the user suffices)",
             "allowed", action="sts:AssumeRole", arn=ROLE_ARN,
             resource=rp({"Effect": "Allow", "Principal": {"AWS": ALICE_ARN}, "Action": "sts:AssumeRole"})))
    add(case("path-trust-same-account-names-account", DOC_SINGLE + " (trust naming the account needs sts:AssumeRole)",
             "implicitDeny", action="sts:AssumeRole", arn=ROLE_ARN,
             resource=rp({"Effect": "Allow", "Principal": {"AWS": ACCOUNT}, "Action": "sts:AssumeRole"})))
    add(case("path-trust-same-account-names-account-with-permission", DOC_SINGLE, "allowed",
             action="sts:AssumeRole", arn=ROLE_ARN, identity=[allow("sts:AssumeRole", ROLE_ARN)],
             resource=rp({"Effect": "Allow", "Principal": {"AWS": ACCOUNT}, "Action": "sts:AssumeRole"})))
    add(case("path-anonymous-public-bucket", DOC_PRINCIPAL + " (anonymous access with Principal *)", "allowed",
             principal={"type": "Anonymous", "name": "anonymous"}, resource=rp(pallow("*"))))
    add(case("path-anonymous-no-policy", DOC_PRINCIPAL, "implicitDeny",
             principal={"type": "Anonymous", "name": "anonymous"}, resource=rp(pallow({"AWS": ALICE_ARN}))))
    # NotPrincipal
    add(case("path-notprincipal-deny-others", DOC_NOTPRINCIPAL, "explicitDeny", identity=[allow()],
             resource=rp({"Effect": "Deny", "NotPrincipal": {"AWS": f"arn:aws:iam::{ACCOUNT}:user/bob"},
                          "Action": "s3:*", "Resource": "*"})))
    add(case("path-notprincipal-deny-excludes-me", DOC_NOTPRINCIPAL, "allowed", identity=[allow()],
             resource=rp({"Effect": "Deny", "NotPrincipal": {"AWS": ALICE_ARN},
                          "Action": "s3:*", "Resource": "*"})))
    add(case("path-notprincipal-role-only-does-not-exclude-session",
             DOC_NOTPRINCIPAL + " (to exclude a role session, name the session ARN as well as the role)",
             "explicitDeny", principal="session", identity=[allow()],
             resource=rp({"Effect": "Deny", "NotPrincipal": {"AWS": ROLE_ARN}, "Action": "s3:*", "Resource": "*"})))
    add(case("path-notprincipal-session-arn-excludes", DOC_NOTPRINCIPAL, "allowed", principal="session",
             identity=[allow()],
             resource=rp({"Effect": "Deny", "NotPrincipal": {"AWS": [ROLE_ARN, SESSION_ARN]},
                          "Action": "s3:*", "Resource": "*"})))
    # federated users (GetFederationToken): the IAM user's policies and the session policy
    fed = "federated"
    add(case("path-federated-user-intersection", DOC_SESSION + " (GetFederationToken: intersection)",
             "allowed", principal=fed, identity=[allow("s3:*")], session=[rp(allow("s3:GetObject"))]))
    add(case("path-federated-user-session-limits", DOC_SESSION, "implicitDeny", principal=fed,
             identity=[allow("s3:*")], session=[rp(allow("s3:PutObject"))], kind="session policy"))
    add(case("path-federated-user-resource-names-session", DOC_SESSION + " (resource policy naming the federated user session)",
             "allowed", principal=fed, session=[rp(allow("ec2:*"))],
             resource=rp(pallow({"AWS": f"arn:aws:sts::{ACCOUNT}:federated-user/carol"}))))
    add(case("path-federated-user-resource-names-iam-user", DOC_SESSION + " (naming the IAM user: session policy still limits)",
             "implicitDeny", principal=fed, session=[rp(allow("ec2:*"))],
             resource=rp(pallow({"AWS": f"arn:aws:iam::{ACCOUNT}:user/bob"})), kind="session policy"))
    add(case("path-federated-user-principal-arn", DOC_ARN + " (aws:PrincipalArn of a federated user)", "allowed",
             principal=fed, session=[rp(allow())],
             identity=[allow("*", "*", {"ArnEquals": {"aws:PrincipalArn": f"arn:aws:sts::{ACCOUNT}:federated-user/carol"}})]))
    # principal keys filled from the principal
    add(case("path-principal-arn-key", DOC_ARN + " (aws:PrincipalArn of a session is the role ARN)", "allowed",
             principal="session", identity=[allow("*", "*", {"ArnLike": {"aws:PrincipalArn": f"arn:aws:iam::{ACCOUNT}:role/*"}})]))
    add(case("path-principal-type-key", DOC_STRING + " (aws:PrincipalType)", "allowed",
             identity=[allow("*", "*", {"StringEquals": {"aws:PrincipalType": "User"}})]))
    add(case("path-principal-account-key", DOC_STRING + " (aws:PrincipalAccount)", "implicitDeny",
             identity=[allow("*", "*", {"StringEquals": {"aws:PrincipalAccount": OTHER}})]))
    return c


CASES = (_condition_cases() + _action_cases() + _not_action_cases() + _resource_cases()
         + _not_resource_cases() + _variable_cases() + _path_cases())
