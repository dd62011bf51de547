"""SNS filter policies, checked and matched without a server."""

from __future__ import annotations

import json

import pytest
from sns_attributes import attrs

from cloudlet.services.sns import filter_policy
from cloudlet.services.sns.errors import FilterPolicyLimitExceeded, InvalidParameter


def on_attributes(policy: dict, **values) -> bool:
    checked = filter_policy.check(json.dumps(policy))
    return filter_policy.matches(checked, "MessageAttributes", attrs(**values), "")


def on_body(policy: dict, body) -> bool:
    checked = filter_policy.check(json.dumps(policy), "MessageBody")
    text = body if isinstance(body, str) else json.dumps(body)
    return filter_policy.matches(checked, "MessageBody", {}, text)


def test_exact_strings_and_numbers():
    assert on_attributes({"a": ["x", "y"]}, a="y")
    assert not on_attributes({"a": ["x"]}, a="X")
    assert on_attributes({"n": [5]}, n=5.0)
    assert not on_attributes({"n": [5]}, n="5")
    assert not on_attributes({"a": ["x"]}, a=b"x")  # binary attributes never match


def test_operators():
    assert on_attributes({"a": [{"prefix": "ab"}]}, a="abc")
    assert on_attributes({"a": [{"suffix": "bc"}]}, a="abc")
    assert on_attributes({"a": [{"equals-ignore-case": "ABC"}]}, a="aBc")
    assert on_attributes({"a": [{"anything-but": "x"}]}, a="y")
    assert not on_attributes({"a": [{"anything-but": "x"}]})
    assert on_attributes({"a": [{"anything-but": [1, 2]}]}, a=3)
    assert not on_attributes({"a": [{"anything-but": {"suffix": ".tmp"}}]}, a="f.tmp")
    assert on_attributes({"n": [{"numeric": [">=", 1, "<", 2]}]}, n=1)
    assert not on_attributes({"n": [{"numeric": [">=", 1, "<", 2]}]}, n=2)
    assert on_attributes({"ip": [{"cidr": "192.168.0.0/16"}]}, ip="192.168.4.1")
    assert not on_attributes({"ip": [{"cidr": "192.168.0.0/16"}]}, ip="10.0.0.1")
    assert on_attributes({"a": [{"exists": False}]})
    assert on_attributes({"a": ["x", {"exists": False}]}, a="x")


def test_or_and_arrays():
    policy = {"k": ["v"], "$or": [{"a": ["1"]}, {"b": [{"numeric": ["<", 0]}]}]}
    assert on_attributes(policy, k="v", b=-1)
    assert not on_attributes(policy, k="v", b=1)
    assert on_attributes({"tags": ["red"]}, tags=["green", "red"])


def test_message_body_scope_nests_and_flattens_arrays():
    policy = {"detail": {"state": ["running"], "ids": [{"prefix": "i-"}]}}
    assert on_body(policy, {"detail": {"state": "running", "ids": ["x", "i-1"]}})
    assert not on_body(policy, {"detail": {"state": "stopped", "ids": ["i-1"]}})
    assert on_body({"items": {"sku": ["b"]}}, {"items": [{"sku": "a"}, {"sku": "b"}]})
    assert on_body({"flag": [True], "none": [None]}, {"flag": True, "none": None})
    assert not on_body({"flag": [True]}, "not json")
    assert not on_body({"flag": [True]}, [1, 2])


@pytest.mark.parametrize("policy", [
    '{"a": [{"numeric": [">", 5, "<", 1]}]}', '{"a": [{"prefix": 1}]}',
    '{"a": [{"anything-but": []}]}', '{"a": [{"anything-but": {"regex": "x"}}]}',
    '{"a": [{"cidr": "nope"}]}', '{"a": [{"prefix": "x", "suffix": "y"}]}',
    '{"a": [[1]]}', '{"$or": [{"a": ["x"]}]}',
    '{"a": {"b": {"c": {"d": {"e": {"f": ["x"]}}}}}}',
])
def test_invalid_policies(policy):
    scope = "MessageBody" if '"b"' in policy else "MessageAttributes"
    with pytest.raises(InvalidParameter) as e:
        filter_policy.check(policy, scope)
    assert e.value.message.startswith("Invalid parameter: FilterPolicy: ")


def test_combination_limit():
    with pytest.raises(FilterPolicyLimitExceeded):
        filter_policy.check(json.dumps({k: list(range(6)) for k in "abc"}))
    filter_policy.check(json.dumps({k: list(range(5)) for k in "abc"}))  # 125 is fine


def test_hostile_policies_and_messages_are_refused_or_unmatched():
    for text in ('{"a": [' + "1" * 400 + "]}", '{"a": [{"anything-but": [NaN]}]}',
                 '{"a": [{"numeric": [">", ' + "9" * 400 + "]}]}", "[" * 100_000):
        with pytest.raises(InvalidParameter):
            filter_policy.check(text)
    policy = filter_policy.check('{"a": [{"numeric": [">", 1]}]}', "MessageBody")
    assert not filter_policy.matches(policy, "MessageBody", {}, '{"a": ' + "9" * 400 + "}")
    assert not filter_policy.matches(policy, "MessageBody", {}, "[" * 100_000)
