"""What a version carries besides its bytes, as a write request gives it: the key's limit,
the storage class, Content-* headers, user metadata, tags and the website redirect."""

from __future__ import annotations

from urllib.parse import parse_qsl

from cloudlet.services.s3 import errors

MAX_KEY_BYTES = 1024
MAX_METADATA = 2048
STORAGE_CLASSES = {"STANDARD", "REDUCED_REDUNDANCY", "STANDARD_IA", "ONEZONE_IA",
                   "INTELLIGENT_TIERING", "GLACIER", "DEEP_ARCHIVE", "GLACIER_IR", "OUTPOSTS",
                   "SNOW", "EXPRESS_ONEZONE"}
CONTENT_MEMBERS = {"ContentType": "content_type", "ContentEncoding": "content_encoding",
                   "ContentDisposition": "content_disposition",
                   "ContentLanguage": "content_language", "CacheControl": "cache_control",
                   "Expires": "expires"}


def check_key(key: str) -> None:
    size = len(key.encode("utf-8", "surrogatepass"))
    if size > MAX_KEY_BYTES:
        raise errors.KeyTooLong(size, limit=MAX_KEY_BYTES)


def check_storage_class(cls: str | None) -> str:
    if cls is None:
        return "STANDARD"
    if cls not in STORAGE_CLASSES:
        raise errors.InvalidStorageClass(cls)
    return cls


def object_meta(params: dict) -> dict:
    """The Content-* headers, user metadata, tagging and redirect a write request carries."""
    metadata = params.get("Metadata") or {}
    size = sum(len(k.encode()) + len(v.encode()) for k, v in metadata.items())
    if size > MAX_METADATA:
        raise errors.MetadataTooLarge(size, limit=MAX_METADATA)
    meta = {"metadata": metadata}
    for member, name in CONTENT_MEMBERS.items():
        value = params.get(member)
        if value is not None:
            meta[name] = value.timestamp() if member == "Expires" and hasattr(value, "timestamp") else value
    meta.setdefault("content_type", "binary/octet-stream")
    if params.get("Tagging"):
        meta["tags"] = parse_tagging(params["Tagging"])
    if params.get("WebsiteRedirectLocation"):
        meta["website_redirect"] = params["WebsiteRedirectLocation"]
    return meta


def parse_tagging(text: str) -> list[dict]:
    try:
        tags = parse_qsl(text, keep_blank_values=True, errors="strict")
    except UnicodeDecodeError:
        raise errors.InvalidArgument(
            "The header 'x-amz-tagging' shall be encoded as UTF-8 then URLEncoded URL query "
            "parameters without tag name duplicates.") from None
    if len(tags) > 10:
        raise errors.TooManyObjectTags()
    return [{"Key": k, "Value": v} for k, v in tags]

