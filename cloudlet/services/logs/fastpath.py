"""PutLogEvents' request, parsed and validated in one pass.

The generic json codec decodes every one of up to 10,000 events member by member, and the
validator walks them again; for the hottest operation of the service that costs more than
storing the batch. `parse` reads the body once and accepts only a request that the generic
path would accept unchanged (known members, the right JSON types, lengths within the
model's bounds), returning the same params. Anything else returns None, and the request
takes the generic path, so every error stays the codec's and the validator's, word for word.
"""

from __future__ import annotations

import json

TARGET = "Logs_20140328.PutLogEvents"
_MEMBERS = frozenset(("logGroupName", "logStreamName", "logEvents", "sequenceToken"))
_EVENT_KEYS = frozenset(("timestamp", "message"))
_NAME_MAX = 512
_EVENTS_MAX = 10_000


def parse(codec, request):
    if request.headers.get("x-amz-target") != TARGET:
        return None
    try:
        body = json.loads(request.body)
    except (ValueError, RecursionError):
        return None
    if type(body) is not dict or not body.keys() <= _MEMBERS:
        return None
    group, stream = body.get("logGroupName"), body.get("logStreamName")
    events, token = body.get("logEvents"), body.get("sequenceToken", "")
    if (type(group) is not str or not 0 < len(group) <= _NAME_MAX
            or type(stream) is not str or not 0 < len(stream) <= _NAME_MAX
            or type(token) is not str or ("sequenceToken" in body and not token)
            or type(events) is not list or not 0 < len(events) <= _EVENTS_MAX):
        return None
    for event in events:
        if (type(event) is not dict or event.keys() != _EVENT_KEYS
                or type(event["timestamp"]) is not int or event["timestamp"] < -2**63
                or event["timestamp"] >= 2**63
                or type(event["message"]) is not str or not event["message"]):
            return None
    params = {"logGroupName": group, "logStreamName": stream, "logEvents": events}
    if "sequenceToken" in body:
        params["sequenceToken"] = token
    return codec.operation("PutLogEvents"), params
