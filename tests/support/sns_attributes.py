"""SNS message attributes from keyword arguments, for the filter-policy tests (unit and e2e)."""

from __future__ import annotations

import json


def attrs(**values) -> dict:
    """MessageAttributes: a list is a String.Array, a number a Number, bytes Binary, anything
    else a String."""
    out = {}
    for name, value in values.items():
        if isinstance(value, list):
            out[name] = {"DataType": "String.Array", "StringValue": json.dumps(value)}
        elif isinstance(value, (int, float)):
            out[name] = {"DataType": "Number", "StringValue": str(value)}
        elif isinstance(value, bytes):
            out[name] = {"DataType": "Binary", "BinaryValue": value}
        else:
            out[name] = {"DataType": "String", "StringValue": value}
    return out
