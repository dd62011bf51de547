"""MaxResults and NextToken, for every Describe*.

Documents come in creation order (`_seq`, then id); a NextToken is the position after the
last one returned, so resources created or deleted between pages never shift a page."""

from __future__ import annotations

import base64
import binascii

from cloudlet.services.ec2 import errors


def token_for(doc: dict) -> str:
    raw = f"{doc.get('_seq', 0)}:{doc.get('_id', '')}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _position(token: str) -> tuple[int, str]:
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
        seq, _, id = raw.partition(":")
        return int(seq), id
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise errors.InvalidPaginationToken(token=token) from None


def page(docs: list[dict], params: dict, *, minimum: int = 5, maximum: int = 1000,
         member: str = "MaxResults") -> tuple[list[dict], str | None]:
    """(this page, the next page's token or None)."""
    limit = params.get(member)
    token = params.get("NextToken")
    if token:
        after = _position(token)
        docs = [d for d in docs if (d.get("_seq", 0), d.get("_id", "")) > after]
    if limit is None:
        return docs, None
    if limit < minimum or limit > maximum:
        name = member[:1].lower() + member[1:]
        expecting = (f"Expecting a value greater than {minimum}." if limit < minimum
                     else f"Expecting a value less than {maximum}.")
        raise errors.InvalidParameterValue(
            message=f"Value ( {limit} ) for parameter {name} is invalid. {expecting}")
    if len(docs) <= limit:
        return docs, None
    return docs[:limit], token_for(docs[limit - 1])
