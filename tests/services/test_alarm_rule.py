"""Composite alarm rules: the grammar AWS documents for AlarmRule."""

from __future__ import annotations

import pytest

from cloudlet.services.cloudwatch.alarms_rule import RuleError, parse_rule


def evaluate(text: str, **states: str) -> bool:
    return parse_rule(text).evaluate({k.replace("_", "-"): v for k, v in states.items()})


def test_and_or_not_and_parentheses():
    rule = "(ALARM(cpu) OR ALARM(disk)) AND OK(net)"
    assert evaluate(rule, cpu="ALARM", disk="OK", net="OK")
    assert not evaluate(rule, cpu="ALARM", disk="OK", net="ALARM")
    assert not evaluate(rule, cpu="OK", disk="OK", net="OK")
    assert evaluate("ALARM(cpu) AND NOT ALARM(deploy)", cpu="ALARM", deploy="OK")
    assert not evaluate("ALARM(cpu) AND NOT ALARM(deploy)", cpu="ALARM", deploy="ALARM")


def test_not_binds_tighter_than_and_and_and_tighter_than_or():
    assert evaluate("ALARM(a) OR ALARM(b) AND ALARM(c)", a="ALARM", b="OK", c="OK")
    assert not evaluate("NOT ALARM(a) AND ALARM(b)", a="ALARM", b="ALARM")


def test_insufficient_data_true_false_and_quoted_names():
    assert evaluate("INSUFFICIENT_DATA(a)", a="INSUFFICIENT_DATA")
    assert evaluate("TRUE") and not evaluate("FALSE") and evaluate("NOT FALSE")
    rule = parse_rule('ALARM("my alarm (prod)") OR OK(arn:aws:cloudwatch:us-east-1:1:alarm:x)')
    assert rule.children == {"my alarm (prod)", "arn:aws:cloudwatch:us-east-1:1:alarm:x"}
    assert rule.evaluate({"my alarm (prod)": "ALARM"})


@pytest.mark.parametrize("text", ["ALARM(a) AND", "ALARM(a", "BAD(a)", "ALARM()", "(TRUE",
                                  "ALARM(a) ALARM(b)", "", "alarm(a)", 'ALARM("a)'])
def test_malformed_rules(text):
    with pytest.raises(RuleError) as e:
        parse_rule(text)
    assert e.value.code == "ValidationError"
