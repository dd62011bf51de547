"""CloudWatch Logs' filter pattern syntax, as a pure engine."""

import pytest

from cloudlet.services.logs.errors import InvalidParameter
from cloudlet.services.logs.patterns import compile_pattern, split_fields

APACHE = '127.0.0.1 - frank [10/Oct/2000:13:25:15 -0700] "GET /apache_pb.gif HTTP/1.0" 404 1534'


@pytest.mark.parametrize("pattern, message, expected", [
    ("", "anything", True),
    ("ERROR", "an ERROR here", True),
    ("ERROR", "an error here", False),
    ("ERROR MEMORY", "ERROR out of MEMORY", True),
    ("ERROR MEMORY", "ERROR only", False),
    ('"Failed to process"', "x Failed to process y", True),
    ('"Failed to process"', "Failed  to process", False),
    ("?ERROR ?WARN", "a WARN", True),
    ("?ERROR ?WARN", "INFO", False),
    ("ERROR -Exiting", "ERROR Exiting now", False),
    ("ERROR -Exiting", "ERROR stay", True),
    ("%ERR[A-Z]+%", "ERROR", True),
    ("%ERR[A-Z]+%", "ERR", False),
    ("{ $.status = 500 && $.latency > 100 }", '{"status": 500, "latency": 150}', True),
    ("{ $.status = 500 && $.latency > 100 }", '{"status": 500, "latency": 50}', False),
    ("{ $.status = 500 }", "not json", False),
    ("{ $.status = 500 }", '{"status": "500"}', True),
    ("{ $.latency <= 1.5 }", '{"latency": 1.5}', True),
    ("{ $.latency < 1.5 }", '{"latency": "1"}', False),
    ('{ $.user.id = "ab*" }', '{"user": {"id": "abc"}}', True),
    ('{ $.user.id = "ab*" }', '{"user": {"id": "xabc"}}', False),
    ('{ $.user.id != "abc" }', '{"user": {"id": "abd"}}', True),
    ("{ $.a IS NULL }", '{"a": null}', True),
    ("{ $.a IS NULL }", '{"a": 0}', False),
    ("{ $.a NOT EXISTS }", '{"b": 1}', True),
    ("{ $.a NOT EXISTS }", '{"a": 1}', False),
    ("{ $.a EXISTS }", '{"a": 1}', True),
    ("{ $.flag IS TRUE }", '{"flag": true}', True),
    ("{ $.flag IS FALSE }", '{"flag": true}', False),
    ('{ $.arr[1] = "b" }', '{"arr": ["a", "b"]}', True),
    ('{ $.items[*].sku = "x1" }', '{"items": [{"sku": "x0"}, {"sku": "x1"}]}', True),
    ('{ ($.a = 1 || $.b = 2) && $.c != "x" }', '{"b": 2, "c": "y"}', True),
    ('{ ($.a = 1 || $.b = 2) && $.c != "x" }', '{"b": 2, "c": "x"}', False),
    ("{ $.level = %ERR.*% }", '{"level": "ERROR"}', True),
    ("{ $.eventType = UpdateTrail }", '{"eventType": "UpdateTrail"}', True),
    ("[ip, user, username, timestamp, request, status_code = 404, bytes]", APACHE, True),
    ("[ip, user, username, timestamp, request, status_code = 4*, bytes > 1000]", APACHE, True),
    ("[ip, user, username, timestamp, request, status_code, bytes < 1000]", APACHE, False),
    ("[..., status_code = 5*, bytes]", APACHE, False),
    ("[..., status_code = 4*, bytes]", APACHE, True),
    ("[ip, ..., bytes = 1534]", APACHE, True),
    ("[a, b]", APACHE, False),
    ("[..., code >= 400 && code < 500, bytes]", "1 2 404 1534", True),
    ("[..., code = 200 || code = 404, bytes]", "1 2 404 1534", True),
])
def test_matching(pattern, message, expected):
    assert compile_pattern(pattern).matches(message) is expected


def test_extracted_values():
    extracted = compile_pattern("[ip, user, ..., status, bytes]").extract(APACHE)
    assert extracted == {"$ip": "127.0.0.1", "$user": "-", "$status": "404", "$bytes": "1534"}


def test_split_fields():
    assert split_fields(APACHE) == ["127.0.0.1", "-", "frank", "10/Oct/2000:13:25:15 -0700",
                                    "GET /apache_pb.gif HTTP/1.0", "404", "1534"]


@pytest.mark.parametrize("bad", [
    "{ $.a = }", '{ $.a > "x" }', "[a, a]", "{ a = 1 }", '"unterminated', "{ $.a = 1",
    "{ $.a IS MAYBE }", "[ip, status = 4* && bytes > 1000]", "%%", "{ $.a = %(%}",
    "{" + "(" * 400 + "$.a = 1" + ")" * 400 + "}",
])
def test_invalid_patterns(bad):
    with pytest.raises(InvalidParameter) as error:
        compile_pattern(bad)
    assert error.value.message == "Invalid filter pattern"


def test_catastrophic_regex_is_bounded():
    pattern = compile_pattern("%(a+)+$%")
    assert pattern.matches("a" * 5000 + "!") is False
    many_ellipses = compile_pattern("[" + "..., " * 40 + "x = 1]")
    assert many_ellipses.matches(" ".join(["2"] * 200)) is False
    assert many_ellipses.matches(" ".join(["2"] * 199 + ["1"])) is True
    many_stars = compile_pattern('{ $.a = "' + "*a" * 30 + '*b" }')
    assert many_stars.matches('{"a": "' + "a" * 3000 + '"}') is False


def test_prefilter_agrees_with_terms():
    assert compile_pattern("ERROR -Exiting").sql_prefilter() == (
        "contains(message, ?) AND NOT contains(message, ?)", ["ERROR", "Exiting"])
    assert compile_pattern("{ $.a = 1 }").sql_prefilter() is None


def test_deeply_nested_json_messages_do_not_match():
    message = '{"a": ' + "[" * 100_000 + "]" * 100_000 + "}"
    assert compile_pattern("{ $.a = 1 }").matches(message) is False
