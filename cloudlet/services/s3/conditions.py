"""Conditional requests: If-Match, If-None-Match, If-Modified-Since and If-Unmodified-Since
on reads, and their x-amz-copy-source-if-* twins on a copy's source."""

from __future__ import annotations

import email.utils

from cloudlet.services.s3 import errors


def parse_http_date(value) -> float | None:
    if value is None:
        return None
    if hasattr(value, "timestamp"):
        return value.timestamp()
    try:
        return email.utils.parsedate_to_datetime(value).timestamp()
    except (TypeError, ValueError):
        return None


def etag_matches(condition: str, etag: str) -> bool:
    candidates = [c.strip() for c in condition.split(",")]
    return any(c == "*" or c.strip('"') == etag.strip('"') for c in candidates)


def check_conditions(record: dict, if_match, if_none_match, if_modified, if_unmodified,
                     write: bool = False) -> None:
    """GET/HEAD preconditions in S3's order: If-Match / If-Unmodified-Since answer 412,
    If-None-Match / If-Modified-Since answer 304."""
    modified = int(record["last_modified"])
    if if_match is not None:
        if not etag_matches(if_match, record["etag"]):
            raise errors.PreconditionFailed("If-Match")
    elif if_unmodified is not None:
        since = parse_http_date(if_unmodified)
        if since is not None and modified > since:
            raise errors.PreconditionFailed("If-Unmodified-Since")
    if if_none_match is not None:
        if etag_matches(if_none_match, record["etag"]):
            raise errors.NotModified()
    elif if_modified is not None:
        since = parse_http_date(if_modified)
        if since is not None and modified <= since:
            raise errors.NotModified()


def check_copy_conditions(record: dict, params: dict) -> None:
    """CopyObject's and UploadPartCopy's x-amz-copy-source-if-*: all answer 412."""
    modified = int(record["last_modified"])
    if params.get("CopySourceIfMatch") is not None:
        if not etag_matches(params["CopySourceIfMatch"], record["etag"]):
            raise errors.PreconditionFailed("x-amz-copy-source-If-Match")
    elif params.get("CopySourceIfUnmodifiedSince") is not None:
        since = parse_http_date(params["CopySourceIfUnmodifiedSince"])
        if since is not None and modified > since:
            raise errors.PreconditionFailed("x-amz-copy-source-If-Unmodified-Since")
    if params.get("CopySourceIfNoneMatch") is not None:
        if etag_matches(params["CopySourceIfNoneMatch"], record["etag"]):
            raise errors.PreconditionFailed("x-amz-copy-source-If-None-Match")
    elif params.get("CopySourceIfModifiedSince") is not None:
        since = parse_http_date(params["CopySourceIfModifiedSince"])
        if since is not None and modified <= since:
            raise errors.PreconditionFailed("x-amz-copy-source-If-Modified-Since")
