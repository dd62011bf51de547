"""Addressing read from the Host header."""

from __future__ import annotations


def bucket_from_host(host: str) -> str | None:
    """The bucket of a virtual-hosted S3 request, or None for path style."""
    if host.startswith("["):  # an IPv6 literal is never a bucket
        return None
    host = host.rsplit(":", 1)[0]
    for marker in (".s3.", ".s3-"):
        bucket, found, rest = host.partition(marker)
        if found and bucket and rest:
            return bucket
    return None
