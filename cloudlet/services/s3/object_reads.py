"""GetObject and HeadObject: the version a request names, its preconditions, a byte range
or part number, and the response's headers; and the version lookup of the object
subresources (tagging, ACL, retention, legal hold)."""

from __future__ import annotations

import re

from cloudlet.services.base import RequestContext
from cloudlet.services.s3 import errors
from cloudlet.services.s3.buckets import timestamp
from cloudlet.services.s3.checksums import checksum_result
from cloudlet.services.s3.conditions import check_conditions
from cloudlet.services.s3.object_meta import CONTENT_MEMBERS
from cloudlet.services.s3.storage import FileBody, S3Storage

INLINE_BODY = 256 * 1024  # GetObject's most read on the loop
_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


def parse_range(text: str, size: int) -> tuple[int, int] | None:
    """(first, last) of a single `bytes=` range; None for a header S3 ignores."""
    found = _RANGE.match(text.strip())
    if not found or (not found.group(1) and not found.group(2)):
        return None
    first, last = found.group(1), found.group(2)
    if not first:
        length = int(last)
        if length == 0:
            raise errors.InvalidRange(size, text)
        return max(0, size - length), size - 1
    start = int(first)
    end = int(last) if last else size - 1
    if end < start:
        return None
    if start >= size:
        raise errors.InvalidRange(size, text)
    return start, min(end, size - 1)


class ObjectReadOperations:
    storage: S3Storage

    # -- GetObject, HeadObject -----------------------------------------------------------
    def _read_version(self, ctx: RequestContext, params: dict, action: str) -> tuple[dict, dict]:
        key = params["Key"]
        bucket = self.bucket(ctx, params["Bucket"], action, key)
        version_id = params.get("VersionId")
        record = self.storage.get_object(bucket["name"], key, version_id)
        if record is None:
            if version_id is not None:
                if version_id != "null" and len(version_id) < 8:
                    raise errors.InvalidArgument("Invalid version id specified", name="versionId",
                                                 value=version_id)
                raise errors.NoSuchVersion(key, version_id)
            raise errors.NoSuchKey(key)
        if record["delete_marker"]:
            headers = {"x-amz-delete-marker": "true"}
            if bucket["versioning"]:
                headers["x-amz-version-id"] = record["version_id"]
            if version_id is not None:
                raise errors.MethodNotAllowed(ctx.extra.get("method", "GET"), "DeleteMarker",
                                              headers=headers)
            raise errors.NoSuchKey(key, headers=headers)
        gate = getattr(self, "check_readable", None)  # archived versions (lifecycle.py)
        if gate is not None:
            gate(record)
        return bucket, record

    def _describe(self, ctx: RequestContext, params: dict, bucket: dict, record: dict) -> tuple[dict, int, int]:
        check_conditions(record, params.get("IfMatch"), params.get("IfNoneMatch"),
                         params.get("IfModifiedSince"), params.get("IfUnmodifiedSince"))
        size = record["size"]
        result = {
            "ETag": record["etag"], "LastModified": timestamp(int(record["last_modified"])),
            "ContentLength": size, "AcceptRanges": "bytes", "Metadata": record.get("metadata") or {},
            "ServerSideEncryption": "AES256",
        }
        for member, name in CONTENT_MEMBERS.items():
            if record.get(name) is not None:
                result[member] = timestamp(record[name]) if member == "Expires" else record[name]
        if bucket["versioning"]:
            result["VersionId"] = record["version_id"]
        if record["storage_class"] != "STANDARD":
            result["StorageClass"] = record["storage_class"]
        if record.get("tags"):
            result["TagCount"] = len(record["tags"])
        if record.get("website_redirect"):
            result["WebsiteRedirectLocation"] = record["website_redirect"]
        if record.get("restore"):
            result["Restore"] = record["restore"]
        for name in ("ObjectLockMode", "ObjectLockLegalHoldStatus"):
            if record.get(name) is not None:
                result[name] = record[name]
        if record.get("ObjectLockRetainUntilDate") is not None:
            result["ObjectLockRetainUntilDate"] = timestamp(record["ObjectLockRetainUntilDate"])
        parts = record.get("parts")
        first, last = 0, size - 1
        number = params.get("PartNumber")
        if number is not None:
            sizes = parts or [size]
            if not 1 <= number <= len(sizes):
                raise errors.InvalidPartNumber(number, count=len(sizes))
            first = sum(sizes[:number - 1])
            last = first + sizes[number - 1] - 1
            if parts:
                result["PartsCount"] = len(parts)
                ctx.extra["response_status"] = 206
                result["ContentRange"] = f"bytes {first}-{last}/{size}"
        elif params.get("Range"):
            span = parse_range(params["Range"], size)
            if span is not None:
                first, last = span
                ctx.extra["response_status"] = 206
                result["ContentRange"] = f"bytes {first}-{last}/{size}"
        length = max(0, last - first + 1)
        result["ContentLength"] = length
        if params.get("ChecksumMode") == "ENABLED" and (length == size or number is not None and not parts):
            result.update(checksum_result(record))
        for member in CONTENT_MEMBERS:
            override = params.get("Response" + member)
            if override is not None:
                result[member] = override
        return result, first, length

    async def get_object(self, ctx: RequestContext, params: dict) -> dict:
        """On the event loop, which spares a small GET the hop to a worker thread (the
        larger part of its cost): its metadata reads are SQLite point lookups in WAL mode,
        where a reader never waits for a writer, and a body of up to INLINE_BODY bytes is
        read here only if the page cache holds it; any other body is sent from its open
        fd by the gateway, off the loop."""
        return self.read_object(ctx, params, inline=True)

    def read_object(self, ctx: RequestContext, params: dict, inline: bool = False) -> dict:
        for _ in range(3):  # an overwrite may free the blob between lookup and open
            bucket, record = self._read_version(ctx, params, "s3:GetObject")
            result, first, length = self._describe(ctx, params, bucket, record)
            if record["blob"] is None:
                result["Body"] = b""
                return result
            try:
                body = FileBody(self.storage.blobs.path(record["blob"]), first, length)
            except FileNotFoundError:
                continue
            cached = body.read_cached() if inline and length <= INLINE_BODY else None
            result["Body"] = body if cached is None else cached
            return result
        raise errors.NoSuchKey(params["Key"])

    def head_object(self, ctx: RequestContext, params: dict) -> dict:
        ctx.extra["method"] = "HEAD"
        bucket, record = self._read_version(ctx, params, "s3:GetObject")
        result, _, _ = self._describe(ctx, params, bucket, record)
        return result

    # -- the version an object subresource request names ---------------------------------
    def subresource_version(self, ctx: RequestContext, params: dict, action: str) -> dict:
        """The version GetObjectTagging, PutObjectAcl, GetObjectRetention, ... act on: a
        delete marker named by its version id has no subresources (405)."""
        key = params["Key"]
        bucket = self.bucket(ctx, params["Bucket"], action, key)
        record = self.storage.get_object(bucket["name"], key, params.get("VersionId"))
        if record is None or (record["delete_marker"] and not params.get("VersionId")):
            if params.get("VersionId"):
                raise errors.NoSuchVersion(key, params["VersionId"])
            raise errors.NoSuchKey(key)
        if record["delete_marker"]:
            raise errors.MethodNotAllowed(ctx.extra.get("method", "GET"), "DeleteMarker")
        return record

