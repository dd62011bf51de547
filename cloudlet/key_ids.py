"""Access key ids in AWS's shape, which carry their account.

    new_key_id(account_id, "AKIA")     an IAM user's key; "ASIA" (the default) an STS session's
    account_of_key(access_key_id)      the account a well-formed key id encodes, or None

The 16 base32 characters after the prefix decode to 10 bytes whose first six hold the
account id shifted left by 7 bits; that is how `GetAccessKeyInfo` answers for any key.
"""

from __future__ import annotations

import base64
import binascii
import secrets

_ACCOUNT_MASK = 0x7FFFFFFFFF80


def new_key_id(account_id: str, prefix: str = "ASIA") -> str:
    high = (int(account_id) << 7) | secrets.randbelow(128)
    raw = high.to_bytes(6, "big") + secrets.token_bytes(4)
    return prefix + base64.b32encode(raw).decode()


def account_of_key(access_key_id: str) -> str | None:
    """The account encoded in an AWS-shaped key id (AKIA/ASIA + 16 base32 characters)."""
    if len(access_key_id) != 20 or access_key_id[:4] not in ("AKIA", "ASIA"):
        return None
    try:
        raw = base64.b32decode(access_key_id[4:])
    except (binascii.Error, ValueError):
        return None
    return f"{(int.from_bytes(raw[:6], 'big') & _ACCOUNT_MASK) >> 7:012d}"
