"""S3's Signature Version 2 (HMAC-SHA1), server side.

    Authorization: AWS <AccessKeyId>:<Signature>                      (header)
    ?AWSAccessKeyId=<AccessKeyId>&Expires=<epoch>&Signature=<sig>    (presigned URL)

`string_to_sign` follows AWS's REST authentication document:

    HTTP-Verb \\n Content-MD5 \\n Content-Type \\n Date-or-Expires \\n
    CanonicalizedAmzHeaders CanonicalizedResource

The canonicalized resource is the bucket-qualified path (`/bucket/key`, also for
virtual-hosted requests) plus the sub-resources AWS lists (`?acl`, `?uploadId=...`).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from urllib.parse import unquote

# The query parameters that are part of the resource, per AWS's REST authentication doc.
SUBRESOURCES = frozenset({
    "accelerate", "acl", "analytics", "cors", "delete", "encryption", "inventory",
    "lifecycle", "location", "logging", "metrics", "notification", "object-lock",
    "partNumber", "policy", "publicAccessBlock", "replication", "requestPayment",
    "response-cache-control", "response-content-disposition", "response-content-encoding",
    "response-content-language", "response-content-type", "response-expires", "restore",
    "retention", "legal-hold", "select", "select-type", "tagging", "torrent", "uploadId",
    "uploads", "versionId", "versioning", "versions", "website", "ownershipControls",
    "intelligent-tiering", "storageClass", "defaultObjectAcl",
})


def parse_authorization(value: str) -> tuple[str, str] | None:
    """`AWS AKID:signature` -> (AKID, signature); None when it is not of that form."""
    scheme, _, rest = value.strip().partition(" ")
    access_key, sep, signature = rest.strip().rpartition(":")
    if scheme != "AWS" or not sep or not access_key:
        return None
    return access_key, signature


def query_params(query: str) -> dict[str, str]:
    """Percent-decoded query parameters; `+` stays a plus (base64 signatures contain it)."""
    params: dict[str, str] = {}
    for item in query.split("&"):
        if item:
            key, _, value = item.partition("=")
            params.setdefault(unquote(key), unquote(value))
    return params


def canonical_resource(path: str, query: str, bucket: str | None = None) -> str:
    resource = f"/{bucket}{path}" if bucket else path
    pairs = []
    for item in query.split("&") if query else ():
        key, sep, value = item.partition("=")
        key = unquote(key)
        if key in SUBRESOURCES:
            pairs.append((key, f"{key}={unquote(value)}" if sep else key))
    if pairs:
        pairs.sort(key=lambda pair: pair[0])
        resource += "?" + "&".join(text for _, text in pairs)
    return resource


def canonical_amz_headers(amz: dict[str, list[str]]) -> str:
    return "".join(
        f"{name}:{','.join(v.strip() for v in amz[name])}\n" for name in sorted(amz)
    )


def amz_headers(raw: list[tuple[str, str]], extra: dict[str, str] | None = None) -> dict[str, list[str]]:
    """The request's `x-amz-*` headers, plus `x-amz-*` query parameters of a presigned URL."""
    found: dict[str, list[str]] = {}
    for name, value in raw:
        lower = name.lower()
        if lower.startswith("x-amz-"):
            found.setdefault(lower, []).append(value)
    for name, value in (extra or {}).items():
        lower = name.lower()
        if lower.startswith("x-amz-") and lower not in found:
            found[lower] = [value]
    return found


def string_to_sign(
    method: str, content_md5: str, content_type: str, date: str,
    amz: dict[str, list[str]], resource: str,
) -> str:
    return (f"{method}\n{content_md5.strip()}\n{content_type.strip()}\n{date.strip()}\n"
            f"{canonical_amz_headers(amz)}{resource}")


def signature(secret: str, text: str) -> str:
    digest = hmac.new(secret.encode("utf-8", "surrogatepass"),
                      text.encode("utf-8", "surrogatepass"), hashlib.sha1).digest()
    return base64.b64encode(digest).decode("ascii")


def matches(expected: str, provided: str) -> bool:
    return hmac.compare_digest(expected.encode(), provided.encode("utf-8", "surrogatepass"))
