"""PutLogEvents' fast path returns what the generic codec and validator would, or steps
aside (None) so that their errors are the ones a client sees."""

import json

import pytest

from cloudlet.models import service_model
from cloudlet.protocols import codec_class
from cloudlet.protocols.base import Headers, HttpRequest
from cloudlet.services.base import RequestContext
from cloudlet.services.logs import fastpath

TARGET = [("x-amz-target", "Logs_20140328.PutLogEvents")]


@pytest.fixture(params=["msgspec", "json"])
def codec(request, monkeypatch):
    """Both decoders: msgspec's when installed, and json's, which stands in without it."""
    if request.param == "json":
        monkeypatch.setattr(fastpath, "_typed", False)
    elif not fastpath.load_typed():
        pytest.skip("msgspec is not installed")
    return codec_class("json", "logs")(service_model("logs"))


def request(body) -> HttpRequest:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return HttpRequest(method="POST", path="/", headers=Headers(TARGET), body=raw)


def context() -> RequestContext:
    return RequestContext(service="logs", operation="", region="us-east-1",
                          account_id="000000000000", request_id="r")


@pytest.mark.parametrize("body", [
    {"logGroupName": "g", "logStreamName": "s",
     "logEvents": [{"timestamp": 1, "message": "a"}, {"message": "é\u0000", "timestamp": 2}]},
    {"logGroupName": "g", "logStreamName": "s", "sequenceToken": "t",
     "logEvents": [{"timestamp": 0, "message": "x" * 1000}]},
])
def test_same_params_as_the_generic_path(codec, body):
    ctx = context()
    operation, params = fastpath.parse(codec, request(body), ctx)
    generic_operation, generic = codec.parse(request(body))
    codec.validate(generic_operation, generic)
    assert operation.name == generic_operation.name == "PutLogEvents"
    assert params == generic
    timestamps, messages = ctx.extra[fastpath.COLUMNS]
    assert timestamps == [e["timestamp"] for e in generic["logEvents"]]
    assert messages == [e["message"] for e in generic["logEvents"]]


@pytest.mark.parametrize("body", [
    b"", b"not json", b"[]", {"logGroupName": "g"},
    b'{"logGroupName": "g", "logStreamName": "s", "logEvents": [{"timestamp": NaN, '
    b'"message": "a"}]}',
    {"logGroupName": "", "logStreamName": "s", "logEvents": [{"timestamp": 1, "message": "a"}]},
    {"logGroupName": "g", "logStreamName": "s", "logEvents": []},
    {"logGroupName": "g", "logStreamName": "s", "logEvents": [{"timestamp": 1, "message": ""}]},
    {"logGroupName": "g", "logStreamName": "s", "logEvents": [{"timestamp": True, "message": "a"}]},
    {"logGroupName": "g", "logStreamName": "s", "logEvents": [{"timestamp": 1.5, "message": "a"}]},
    {"logGroupName": "g", "logStreamName": "s", "logEvents": [{"timestamp": -1, "message": "a"}]},
    {"logGroupName": "g", "logStreamName": "s", "logEvents": [{"timestamp": 2**63, "message": "a"}]},
    {"logGroupName": "g", "logStreamName": "s", "sequenceToken": "",
     "logEvents": [{"timestamp": 1, "message": "a"}]},
    {"logGroupName": "g", "logStreamName": "s", "logEvents": [{"timestamp": 1}]},
    {"logGroupName": "g", "logStreamName": "s",
     "logEvents": [{"timestamp": 1}, {"timestamp": 1, "message": "a", "x": 1}]},
    {"logGroupName": "g", "logStreamName": "s", "logEvents": [{"timestamp": 1, "message": 5}]},
    {"logGroupName": "g", "logStreamName": "s", "logEvents": ["a"]},
    {"logGroupName": "g", "logStreamName": "s", "sequenceToken": None,
     "logEvents": [{"timestamp": 1, "message": "a"}]},
    {"logGroupName": "g", "logStreamName": "s", "entity": {},
     "logEvents": [{"timestamp": 1, "message": "a"}]},
    {"logGroupName": "g", "logStreamName": "s", "unknown": 1,
     "logEvents": [{"timestamp": 1, "message": "a"}]},
    {"logGroupName": "g", "logStreamName": "s",
     "logEvents": [{"timestamp": 1, "message": "a"}] * 10_001},
])
def test_anything_unusual_takes_the_generic_path(codec, body):
    assert fastpath.parse(codec, request(body), context()) is None


def test_other_operations_are_left_alone(codec):
    other = HttpRequest(method="POST", path="/", body=b"{}",
                        headers=Headers([("x-amz-target", "Logs_20140328.CreateLogGroup")]))
    assert fastpath.parse(codec, other, context()) is None
