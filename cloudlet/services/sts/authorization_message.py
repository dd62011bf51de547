"""The encoded authorization message of an EC2 denial, and its decoding.

AWS encrypts the message; Cloudlet's is base64url (no padding) of the JSON document that
`DecodeAuthorizationMessage` returns, in AWS's shape:

    {"allowed": false, "explicitDeny": true,
     "matchedStatements": {"items": [...]}, "failures": {"items": [...]},
     "context": {"principal": {"id": ..., "arn": ...}, "action": ..., "resource": ...,
                 "conditions": {"items": [{"key": ..., "values": {"items": [{"value": ...}]}}]}}}

`encode(...)` builds it; `decode(text)` returns the dict or raises ValueError.
"""

from __future__ import annotations

import base64
import binascii
import json

PREFIX = "cl1."  # a version tag, so a random string is never mistaken for a message


def encode(
    *, allowed: bool, explicit_deny: bool, context: dict,
    matched_statements: list | None = None, failures: list | None = None,
) -> str:
    document = {
        "allowed": allowed,
        "explicitDeny": explicit_deny,
        "matchedStatements": {"items": list(matched_statements or [])},
        "failures": {"items": list(failures or [])},
        "context": context,
    }
    raw = json.dumps(document, separators=(",", ":")).encode()
    return PREFIX + base64.urlsafe_b64encode(raw).decode().rstrip("=")


def conditions(values: dict[str, object]) -> dict:
    """A request context {key: value or [values]} in AWS's `conditions` shape."""
    items = []
    for key, value in values.items():
        listed = value if isinstance(value, list | tuple) else [value]
        items.append({"key": key, "values": {"items": [{"value": str(v)} for v in listed]}})
    return {"items": items}


def decode(text: str) -> dict:
    if not text.startswith(PREFIX):
        raise ValueError("not a Cloudlet authorization message")
    body = text[len(PREFIX):]
    try:
        raw = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
        document = json.loads(raw)
    except (binascii.Error, ValueError) as e:
        raise ValueError(str(e)) from None
    if not isinstance(document, dict) or "allowed" not in document:
        raise ValueError("not a Cloudlet authorization message")
    return document
