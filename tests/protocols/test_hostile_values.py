"""Regression tests, codec by codec, for what issue 12 and its fuzz found: text that is not
UTF-8 and numbers beyond their types, in every place a request carries them."""

from __future__ import annotations

import math

import cbor2
import pytest
from botocore.awsrequest import HeadersDict
from botocore.parsers import create_parser

from cloudlet.errors import SerializationError, ServiceError
from cloudlet.models import service_model
from cloudlet.protocols import codec_class
from cloudlet.protocols.base import Headers, HttpRequest, form_items, is_utf8, percent_decode
from cloudlet.protocols.numeric import (
    HUGE,
    float_from_text,
    from_epoch,
    integer_from_text,
    number_text,
    to_float,
)


def codec(service: str, protocol: str):
    return codec_class(protocol, service)(service_model(service))


def request(method: str, path: str, query: str = "", body: bytes = b"", **headers):
    return HttpRequest(method, path, query, Headers([("Host", "127.0.0.1"), *headers.items()]),
                       body)


def parse_and_validate(the_codec, req):
    operation, params = the_codec.parse(req)
    the_codec.validate(operation, params)
    return params


# -- percent-escapes ------------------------------------------------------------------------

def test_escapes_that_are_not_utf8_stay_distinct_and_are_marked():
    ff, fe = percent_decode("k%FF"), percent_decode("k%FE")
    assert ff != fe  # both were "k\ufffd"
    assert not is_utf8(ff) and not is_utf8(fe)
    assert percent_decode("caf%C3%A9") == "café" and is_utf8("café")
    assert percent_decode("caf\xc3\xa9") == "café"  # raw UTF-8 bytes, read as latin-1
    assert form_items(b"a=1+2&b=%FF&c") == [("a", "1 2"), ("b", "\udcff"), ("c", "")]


@pytest.mark.parametrize("path", ["/b/k%FF", "/b/k%FE", "/b/%C3%28", "/b/%ED%A0%80", "/b%FF/k"])
def test_s3_keys_and_buckets_that_are_not_utf8_are_invalid_uri(path):
    with pytest.raises(ServiceError) as e:
        parse_and_validate(codec("s3", "rest-xml"), request("PUT", path, body=b"x"))
    assert (e.value.code, e.value.status) == ("InvalidURI", 400)
    assert e.value.message == "Couldn't parse the specified URI."


def test_s3_query_parameters_that_are_not_utf8_are_invalid_uri():
    with pytest.raises(ServiceError) as e:
        codec("s3", "rest-xml").parse(request("GET", "/b", "list-type=2&prefix=%FF"))
    assert e.value.code == "InvalidURI"
    with pytest.raises(ServiceError):  # a parameter no member binds: still the URI's
        codec("s3", "rest-xml").parse(request("GET", "/b", "list-type=2&x%FE=1"))


def test_s3_post_form_fields_that_are_not_utf8_are_invalid_uri():
    body = (b"--X\r\nContent-Disposition: form-data; name=\"key\"\r\n\r\nk\xff\r\n"
            b"--X\r\nContent-Disposition: form-data; name=\"file\"; filename=\"f\"\r\n\r\n"
            b"data\r\n--X--\r\n")
    req = request("POST", "/b", body=body, **{"Content-Type": "multipart/form-data; boundary=X"})
    with pytest.raises(ServiceError) as e:
        codec("s3", "rest-xml").parse(req)
    assert e.value.code == "InvalidURI"


def test_rest_json_labels_and_query_strings_that_are_not_utf8():
    lam = codec("lambda", "rest-json")
    for path, query in (("/2015-03-31/functions/f%FF", ""),
                        ("/2015-03-31/functions/", "MaxItems=1&Marker=%FE")):
        with pytest.raises(ServiceError) as e:
            lam.parse(request("GET", path, query))
        assert (e.value.code, e.value.status) == ("ValidationException", 400)


@pytest.mark.parametrize("service,protocol,code", [("iam", "query", "ValidationError"),
                                                   ("ec2", "ec2", "InvalidParameterValue")])
def test_query_fields_that_are_not_utf8(service, protocol, code):
    action = "CreateUser&Version=2010-05-08&UserName=u" if service == "iam" else (
        "DescribeVpcs&Version=2016-11-15&VpcId.1=vpc-1")
    the_codec = codec(service, protocol)
    for body in (f"Action={action}%FF".encode(), f"Action={action}%C3%28".encode()):
        with pytest.raises(ServiceError) as e:
            the_codec.parse(request("POST", "/", body=body,
                                    **{"Content-Type": "application/x-www-form-urlencoded"}))
        assert (e.value.code, e.value.status) == (code, 400)


# -- JSON -------------------------------------------------------------------------------------

LOGS = codec("logs", "json")


def logs_request(operation: str, body: bytes):
    return request("POST", "/", body=body, **{"X-Amz-Target": f"Logs_20140328.{operation}",
                                              "Content-Type": "application/x-amz-json-1.1"})


@pytest.mark.parametrize("body", [
    b'{"logGroupName": "g", "limit": NaN}', b'{"logGroupName": Infinity}',
    b'\xff\xfe{\x00}\x00',  # UTF-16 with a byte-order mark: not UTF-8
    b'{"logGroupName": "g\xff"}',
], ids=["NaN", "Infinity", "utf-16", "invalid-utf-8"])
def test_json_that_is_not_json_or_not_utf8(body):
    with pytest.raises(SerializationError):
        LOGS.parse(logs_request("DescribeLogGroups", body))


@pytest.mark.parametrize("literal", ["1" * 5000, "-" + "9" * 5000, "1" + "0" * 400],
                         ids=["5000-digits", "-5000-digits", "10^400"])
def test_json_integers_of_any_length_are_validation_errors(literal):
    body = f'{{"logGroupName": "g", "logStreamName": "s", "startTime": {literal}}}'.encode()
    with pytest.raises(ServiceError) as e:
        parse_and_validate(LOGS, logs_request("GetLogEvents", body))
    assert e.value.code == "ValidationException"
    assert "at 'startTime' failed to satisfy constraint" in e.value.message


def test_json_numbers_beyond_a_double_are_infinity():
    cw = codec("cloudwatch", "json")
    body = b'{"Namespace": "N", "MetricData": [{"MetricName": "m", "Value": 1' + b"0" * 400 + b"}]}"
    req = request("POST", "/", body=body, **{"Content-Type": "application/x-amz-json-1.0",
                  "X-Amz-Target": "GraniteServiceVersion20100801.PutMetricData"})
    _, params = cw.parse(req)  # OverflowError (a 500) before
    assert params["MetricData"][0]["Value"] == math.inf


def test_json_lone_surrogates_are_validation_errors():
    body = b'{"logGroupName": "g", "logStreamName": "a\\udfffb"}'
    with pytest.raises(ServiceError) as e:
        parse_and_validate(LOGS, logs_request("CreateLogStream", body))
    assert "Member must contain only valid UTF-8 characters" in e.value.message
    assert "Value 'a?b'" in e.value.message


# -- numbers and timestamps in text -----------------------------------------------------------

@pytest.mark.parametrize("text", ["1_0", "\u0661\u0662", "0x10", "1e3", "1.0", "", "--1"])
def test_integer_text_is_ascii_digits(text):
    with pytest.raises(ValueError):
        integer_from_text(text)


def test_numbers_in_text():
    assert integer_from_text(" -12 ") == -12
    assert integer_from_text("9" * 5000) == HUGE and integer_from_text("-" + "9" * 5000) == -HUGE
    assert float_from_text("1e400") == math.inf and float_from_text("-1e400") == -math.inf
    assert math.isnan(float_from_text("NaN")) and float_from_text("-Infinity") == -math.inf
    for text in ("nan", "inf", "1_0.5", "0x1p3"):
        with pytest.raises(ValueError):
            float_from_text(text)
    assert to_float(10**400) == math.inf and to_float(-(10**400)) == -math.inf
    assert number_text(10**5000) == "1.000000E+5000" and number_text(math.nan) == "NaN"


@pytest.mark.parametrize("seconds", [10**400, 1e400, math.nan, 253402300800, -62135596801])
def test_epoch_seconds_outside_a_datetime(seconds):
    with pytest.raises(SerializationError):
        from_epoch(seconds)


@pytest.mark.parametrize("service,protocol,req", [
    ("iam", "query", request("POST", "/", body=b"Action=ListUsers&Version=2010-05-08&MaxItems=1_0",
                             **{"Content-Type": "application/x-www-form-urlencoded"})),
    ("cloudwatch", "query", request(
        "POST", "/", body=b"Action=GetMetricStatistics&Version=2010-08-01&Namespace=n&"
        b"MetricName=m&Period=60&Statistics.member.1=Sum&StartTime=1e400&EndTime=1",
        **{"Content-Type": "application/x-www-form-urlencoded"})),
    ("s3", "rest-xml", request("GET", "/b", "list-type=2&max-keys=1e400")),
    ("s3", "rest-xml", request("GET", "/b/k", **{"If-Modified-Since": "1e400"})),
], ids=["query-1_0", "query-timestamp-1e400", "rest-query-1e400", "rest-header-timestamp"])
def test_numbers_and_timestamps_in_text_are_4xx(service, protocol, req):
    with pytest.raises(ServiceError) as e:  # OverflowError (a 500) for the timestamps before
        parse_and_validate(codec(service, protocol), req)
    assert e.value.status == 400


# -- errors that echo what they were sent ------------------------------------------------------

@pytest.mark.parametrize("service,protocol", [("ec2", "ec2"), ("iam", "query"),
                                              ("s3", "rest-xml"), ("cloudwatch",
                                                                   "smithy-rpc-v2-cbor")])
def test_errors_echoing_text_with_no_utf8_form_are_still_readable(service, protocol):
    """Found by the fuzz: `Action=ListUsers%FF` echoed in InvalidAction's message made XML
    that was not UTF-8 (and CBOR failed to encode it: a 500)."""
    the_codec = codec(service, protocol)
    error = ServiceError("The action ListUsers\udcff is not valid, nor a\ud800b.",
                         code="InvalidAction", status=400)
    response = the_codec.serialize_error(error, None, "req-1")
    parsed = create_parser(protocol).parse(
        {"status_code": 400, "headers": HeadersDict(response.headers), "body": response.body},
        None)
    assert parsed["Error"]["Message"] == "The action ListUsers? is not valid, nor a?b."


def test_cbor_bignum_integer_is_the_validators():
    cw = codec("cloudwatch", "smithy-rpc-v2-cbor")
    body = cbor2.dumps({"AlarmName": "a", "EvaluationPeriods": 1, "Period": 2**200,
                        "ComparisonOperator": "GreaterThanThreshold", "Threshold": 1.0})
    req = request("POST", "/service/GraniteServiceVersion20100801/operation/PutMetricAlarm",
                  body=body, **{"smithy-protocol": "rpc-v2-cbor"})
    with pytest.raises(ServiceError) as e:
        parse_and_validate(cw, req)
    assert e.value.code == "ValidationError"
    assert "Value '1.606938E+60' at 'period'" in e.value.message
