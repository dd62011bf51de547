"""Objects: Put/Get/Head/Delete/Copy object and DeleteObjects.

Bytes go straight to a blob file (temporary file, fsync, rename) while MD5 and the
flexible checksums are computed; the version's metadata commits only after every digest
the client sent has been verified."""

from __future__ import annotations

import base64
import email.utils
import hashlib
import re
import zlib
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import parse_qsl, quote_plus, unquote

from cloudlet import clock
from cloudlet.services.base import RequestContext
from cloudlet.services.s3 import errors
from cloudlet.services.s3.buckets import owner, timestamp
from cloudlet.services.s3.storage import FileBody, S3Storage, new_version_id

MAX_KEY_BYTES = 1024
INLINE_BODY = 256 * 1024  # GetObject's most read on the loop
PARALLEL_PIECE = 256 * 1024  # pieces at least this large are hashed on other threads
LOCK_MODES = ("GOVERNANCE", "COMPLIANCE")
MAX_METADATA = 2048
STORAGE_CLASSES = {"STANDARD", "REDUCED_REDUNDANCY", "STANDARD_IA", "ONEZONE_IA",
                   "INTELLIGENT_TIERING", "GLACIER", "DEEP_ARCHIVE", "GLACIER_IR", "OUTPOSTS",
                   "SNOW", "EXPRESS_ONEZONE"}
CHECKSUM_MEMBERS = {"crc32": "ChecksumCRC32", "crc32c": "ChecksumCRC32C",
                    "crc64nvme": "ChecksumCRC64NVME", "sha1": "ChecksumSHA1",
                    "sha256": "ChecksumSHA256"}
CONTENT_MEMBERS = {"ContentType": "content_type", "ContentEncoding": "content_encoding",
                   "ContentDisposition": "content_disposition",
                   "ContentLanguage": "content_language", "CacheControl": "cache_control",
                   "Expires": "expires"}


class _Crc:
    """An incremental CRC with hashlib's interface."""

    def __init__(self, fn, width: int):
        self._fn, self._width, self._value = fn, width, 0

    def update(self, data) -> None:
        self._value = self._fn(data, self._value)

    def digest(self) -> bytes:
        return self._value.to_bytes(self._width, "big")


def _awscrt(name: str):
    from awscrt import checksums as crt

    return getattr(crt, name)


CHECKSUMS = {
    "crc32": lambda: _Crc(zlib.crc32, 4),
    "crc32c": lambda: _Crc(_awscrt("crc32c"), 4),
    "crc64nvme": lambda: _Crc(_awscrt("crc64nvme"), 8),
    "sha1": hashlib.sha1,
    "sha256": hashlib.sha256,
}


def new_checksum(algorithm: str):
    return CHECKSUMS[algorithm]()


def b64digest(algorithm: str, data: bytes) -> str:
    digest = new_checksum(algorithm)
    digest.update(data)
    return base64.b64encode(digest.digest()).decode()


def check_checksum(algorithm: str, digest, sent: str) -> None:
    try:
        expected = base64.b64decode(sent.strip(), validate=True)
    except ValueError:
        expected = b""
    if len(expected) != len(digest.digest()):
        raise errors.InvalidChecksum(algorithm)
    if expected != digest.digest():
        raise errors.ChecksumMismatch(algorithm)


_HASHERS = ThreadPoolExecutor(max_workers=8, thread_name_prefix="s3-digest")
_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


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
    tags = parse_qsl(text, keep_blank_values=True)
    if len(tags) > 10:
        raise errors.TooManyObjectTags()
    return [{"Key": k, "Value": v} for k, v in tags]


def quoted_md5(md5_hex: str) -> str:
    return f'"{md5_hex}"'


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


def checksum_result(record: dict) -> dict:
    result = {}
    for algorithm, value in (record.get("checksums") or {}).items():
        result[CHECKSUM_MEMBERS[algorithm]] = value
    if result:
        result["ChecksumType"] = record.get("checksum_type", "FULL_OBJECT")
    return result


class ObjectOperations:
    storage: S3Storage

    # -- writing bytes ------------------------------------------------------------------
    def ingest(self, ctx: RequestContext, params: dict, default_checksum: str | None = "crc64nvme",
               keep_empty: bool = False) -> dict:
        """Stream the request body into a new blob, verifying Content-MD5, x-amz-checksum-*
        (headers or trailers) and a signed payload hash. Returns blob, size, etag (quoted
        MD5), checksums {algorithm: base64}."""
        source = ctx.extra.get("body")
        chunks = source if source is not None else [params.get("Body") or b""]
        declared = ctx.extra.get("checksum_trailers") or []
        wanted = {a for a, m in CHECKSUM_MEMBERS.items() if params.get(m)}
        wanted |= {n[len("x-amz-checksum-"):] for n in declared if n.startswith("x-amz-checksum-")}
        if params.get("ChecksumAlgorithm"):
            wanted.add(params["ChecksumAlgorithm"].lower())
        if not wanted and default_checksum:
            wanted.add(default_checksum)
        wanted &= set(CHECKSUM_MEMBERS)
        digests = {a: new_checksum(a) for a in wanted}
        md5 = hashlib.md5()
        payload_sha = ctx.extra.get("payload_sha256")
        sha = hashlib.sha256() if payload_sha else None

        hashes = [md5, *digests.values(), *([sha] if sha is not None else [])]

        def update(chunk: bytes) -> None:
            for digest in hashes:
                digest.update(chunk)

        def tee():
            """Each digest runs on its own thread while the piece is written (hashlib and
            zlib release the GIL on large buffers); every digest has finished a piece
            before it gets the next, so each sees the bytes in order."""
            pending = []
            try:
                for chunk in chunks:
                    for future in pending:
                        future.result()
                    if source is None or len(chunk) < PARALLEL_PIECE:
                        update(chunk)
                        pending = []
                    else:
                        pending = [_HASHERS.submit(digest.update, chunk) for digest in hashes]
                    yield chunk
            finally:
                for future in pending:
                    future.result()

        blob, size = self.storage.blobs.write(tee())
        if size == 0 and not keep_empty:  # an empty object needs no file
            self.storage.blobs.delete(blob)
            blob = None
        try:
            trailers = getattr(source, "trailers", None) or ctx.extra.get("trailers") or {}
            if sha is not None and sha.hexdigest() != payload_sha.lower():
                raise errors.ContentSHA256Mismatch(payload_sha, computed=sha.hexdigest())
            content_md5 = params.get("ContentMD5")
            if content_md5 is not None:
                self._check_md5(content_md5, md5.digest())
            values = {}
            for algorithm, digest in digests.items():
                sent = params.get(CHECKSUM_MEMBERS[algorithm]) or trailers.get(
                    "x-amz-checksum-" + algorithm)
                if sent is not None:
                    check_checksum(algorithm, digest, sent)
                values[algorithm] = base64.b64encode(digest.digest()).decode()
        except BaseException:
            if blob is not None:
                self.storage.blobs.delete(blob)
            raise
        return {"blob": blob, "size": size, "etag": quoted_md5(md5.hexdigest()),
                "checksums": values, "md5": md5.digest()}

    @staticmethod
    def _check_md5(sent: str, computed: bytes) -> None:
        try:
            expected = base64.b64decode(sent.strip(), validate=True)
        except ValueError:
            expected = b""
        if len(expected) != 16:
            raise errors.InvalidDigest(sent)
        if expected != computed:
            raise errors.ContentMD5Mismatch(sent, calculated=base64.b64encode(computed).decode())

    def commit_version(self, bucket: dict, key: str, record: dict, if_match=None,
                       if_none_match=None) -> dict:
        """Make `record` the key's latest version, honouring conditional writes."""
        versioned = bucket["versioning"] == "Enabled"
        record.update(bucket=bucket["name"], key=key, is_latest=True, delete_marker=False,
                      version_id=new_version_id() if versioned else "null",
                      last_modified=clock.timestamp())

        def check(conn, current):
            if current is not None and current["delete_marker"]:
                current = None
            if if_none_match is not None:
                if if_none_match.strip() != "*":
                    raise errors.ConditionNotImplemented("If-None-Match")
                if current is not None:
                    raise errors.PreconditionFailed("If-None-Match")
            if if_match is not None:
                if current is None:
                    raise errors.NoSuchKey(key)
                if not etag_matches(if_match, current["etag"]):
                    raise errors.PreconditionFailed("If-Match")

        conditional = if_match is not None or if_none_match is not None
        try:
            freed = self.storage.put_object(record, check if conditional else None)
        except BaseException:
            if record.get("blob"):
                self.storage.blobs.delete(record["blob"])
            raise
        self.storage.free(freed)
        notify = getattr(self, "object_event", None)
        if notify is not None:
            notify("ObjectCreated:" + record.get("event", "Put"), bucket, record)
        return record

    def _write_result(self, bucket: dict, record: dict) -> dict:
        result = {"ETag": record["etag"], "ServerSideEncryption": "AES256"}
        if bucket["versioning"]:
            result["VersionId"] = record["version_id"]
        return result

    # -- operations ---------------------------------------------------------------------
    def put_object(self, ctx: RequestContext, params: dict) -> dict:
        key = params["Key"]
        bucket = self.bucket(ctx, params["Bucket"], "s3:PutObject", key)
        check_key(key)
        cls = check_storage_class(params.get("StorageClass"))
        meta = object_meta(params)
        self.requested_acl(ctx, bucket, params, meta)
        self.requested_lock(bucket, params, meta)
        body = self.ingest(ctx, params)
        record = {"blob": body["blob"], "size": body["size"], "etag": body["etag"],
                  "storage_class": cls, "owner": ctx.account_id, "checksums": body["checksums"],
                  "checksum_type": "FULL_OBJECT", **meta}
        record = self.commit_version(bucket, key, record, params.get("IfMatch"),
                                     params.get("IfNoneMatch"))
        return {**self._write_result(bucket, record), **checksum_result(record)}

    def post_object(self, ctx: RequestContext, params: dict) -> dict:
        """A browser upload (the S3 codec's synthetic PostObject: PutObject's parameters read
        from the form, its policy already checked by the auth step), stored as PutObject
        stores. `PostUpload` (how to answer) goes back to the codec with bucket and key."""
        put = {k: v for k, v in params.items() if k != "PostUpload"}
        result = self.put_object(ctx, put)
        return {**result, "Bucket": params["Bucket"], "Key": params["Key"],
                "PostUpload": params.get("PostUpload") or {}}

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

    # -- deleting -----------------------------------------------------------------------
    def delete_object(self, ctx: RequestContext, params: dict) -> dict:
        key = params["Key"]
        bucket = self.bucket(ctx, params["Bucket"], "s3:DeleteObject", key)
        if params.get("IfMatch") is not None:
            current = self.storage.get_object(bucket["name"], key)
            if current is None or current["delete_marker"]:
                raise errors.NoSuchKey(key)
            if not etag_matches(params["IfMatch"], current["etag"]):
                raise errors.PreconditionFailed("If-Match")
        return self.remove(ctx, bucket, key, params.get("VersionId"),
                           bool(params.get("BypassGovernanceRetention")))

    def remove(self, ctx: RequestContext, bucket: dict, key: str, version_id: str | None,
               bypass: bool = False) -> dict:
        """Delete a version, or (without one) the key: a delete marker when versioned."""
        name = bucket["name"]
        if version_id is not None:
            self.check_deletable(ctx, bucket, key, version_id, bypass)
            record, freed = self.storage.delete_object_version(name, key, version_id)
            self.storage.free(freed)
            result = {"VersionId": version_id}
            if record is not None and record["delete_marker"]:
                result["DeleteMarker"] = True
            elif record is not None:
                self._removed(bucket, record, "Delete")
            return result
        if not bucket["versioning"]:
            record, freed = self.storage.delete_object_version(name, key, "null")
            self.storage.free(freed)
            if record is not None and not record["delete_marker"]:
                self._removed(bucket, record, "Delete")
            return {}
        marker = {"bucket": name, "key": key, "delete_marker": True, "size": 0, "etag": "",
                  "blob": None, "storage_class": "STANDARD", "owner": ctx.account_id,
                  "last_modified": clock.timestamp(),
                  "version_id": new_version_id() if bucket["versioning"] == "Enabled" else "null"}
        self.storage.free(self.storage.put_object(marker))
        self._removed(bucket, marker, "DeleteMarkerCreated")
        return {"DeleteMarker": True, "VersionId": marker["version_id"]}

    def _removed(self, bucket: dict, record: dict, kind: str) -> None:
        notify = getattr(self, "object_event", None)
        if notify is not None:
            notify("ObjectRemoved:" + kind, bucket, record)

    def delete_objects(self, ctx: RequestContext, params: dict) -> dict:
        bucket = self.bucket(ctx, params["Bucket"], "s3:DeleteObject")
        delete = params.get("Delete") or {}
        objects = delete.get("Objects") or []
        if len(objects) > 1000:
            raise errors.MalformedXML()
        quiet = bool(delete.get("Quiet"))
        deleted, failed = [], []
        for item in objects:
            key, version_id = item["Key"], item.get("VersionId")
            try:
                check_key(key)
                result = self.remove(ctx, bucket, key, version_id,
                                     bool(params.get("BypassGovernanceRetention")))
            except errors.ServiceError as failure:
                entry = {"Key": key, "Code": failure.code, "Message": failure.message}
                if version_id:
                    entry["VersionId"] = version_id
                failed.append(entry)
                continue
            if quiet:
                continue
            entry = {"Key": key}
            if version_id:
                entry["VersionId"] = version_id
            if result.get("DeleteMarker"):
                entry["DeleteMarker"] = True
                if version_id is None:
                    entry["DeleteMarkerVersionId"] = result["VersionId"]
            deleted.append(entry)
        result = {}
        if deleted:
            result["Deleted"] = deleted
        if failed:
            result["Errors"] = failed
        return result

    # -- copying ------------------------------------------------------------------------
    def copy_source(self, ctx: RequestContext, params: dict) -> tuple[dict, dict]:
        """The version named by x-amz-copy-source (`bucket/key[?versionId=...]`), after its
        copy-if conditions hold."""
        text = params["CopySource"]
        text, _, query = text.partition("?")
        text = unquote(text).lstrip("/")
        name, _, key = text.partition("/")
        if not name or not key:
            raise errors.InvalidArgument("Invalid copy source object key", name="x-amz-copy-source",
                                         value=params["CopySource"])
        version_id = dict(parse_qsl(query)).get("versionId")
        source_bucket = self.bucket(ctx, name, "s3:GetObject", key)
        record = self.storage.get_object(name, key, version_id)
        if record is None or (record["delete_marker"] and version_id is None):
            if version_id is not None:
                raise errors.NoSuchVersion(key, version_id)
            raise errors.NoSuchKey(key)
        if record["delete_marker"]:
            raise errors.InvalidArgument("The source of a copy request may not specifically "
                                         "refer to a delete marker by version id.")
        gate = getattr(self, "check_readable", None)
        if gate is not None:
            gate(record)
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
        return source_bucket, record

    def copy_object(self, ctx: RequestContext, params: dict) -> dict:
        key = params["Key"]
        bucket = self.bucket(ctx, params["Bucket"], "s3:PutObject", key)
        check_key(key)
        source_bucket, source = self.copy_source(ctx, params)
        directive = params.get("MetadataDirective") or "COPY"
        same = source_bucket["name"] == bucket["name"] and source["key"] == key
        if (same and directive == "COPY" and not params.get("StorageClass")
                and not params.get("WebsiteRedirectLocation") and not params.get("ServerSideEncryption")):
            raise errors.CopyToItself()
        cls = check_storage_class(params.get("StorageClass"))
        if directive == "REPLACE":
            meta = object_meta(params)
        else:
            meta = {k: source[k] for k in ("metadata", *CONTENT_MEMBERS.values()) if k in source}
            if params.get("WebsiteRedirectLocation"):
                meta["website_redirect"] = params["WebsiteRedirectLocation"]
        self.requested_acl(ctx, bucket, params, meta)
        if (params.get("TaggingDirective") or "COPY") == "REPLACE":
            meta["tags"] = parse_tagging(params.get("Tagging") or "")
        elif source.get("tags"):
            meta["tags"] = source["tags"]
        if source["blob"] is None:
            blob, size = None, 0
        else:
            with self.storage.blobs.open(source["blob"]) as f:
                blob, size = self.storage.blobs.write(iter(lambda: f.read(1 << 20), b""))
        record = {"blob": blob, "size": size, "etag": source["etag"], "storage_class": cls,
                  "owner": ctx.account_id, "checksums": source.get("checksums") or {},
                  "checksum_type": source.get("checksum_type", "FULL_OBJECT"), "event": "Copy",
                  **meta}
        if source.get("parts"):
            record["parts"] = source["parts"]
        record = self.commit_version(bucket, key, record, params.get("IfMatch"),
                                     params.get("IfNoneMatch"))
        copy_result = {"ETag": record["etag"],
                       "LastModified": timestamp(int(record["last_modified"]))}
        copy_result.update(checksum_result(record))
        result = {"CopyObjectResult": copy_result, "ServerSideEncryption": "AES256"}
        if source_bucket["versioning"]:
            result["CopySourceVersionId"] = source["version_id"]
        if bucket["versioning"]:
            result["VersionId"] = record["version_id"]
        return result

    def owner_of(self, record: dict) -> dict:
        return owner(record["owner"])

    # -- object ACLs --------------------------------------------------------------------
    def requested_acl(self, ctx: RequestContext, bucket: dict, params: dict, meta: dict) -> None:
        """A write's x-amz-acl / x-amz-grant-*: refused where the bucket's Object Ownership
        disables ACLs (the default), kept on the version otherwise (config.py judges)."""
        requested = getattr(self, "_requested_grants", None)
        if requested is None:
            return
        grants = requested(ctx.account_id, params)
        if grants is not None:
            self._check_acl_allowed(bucket["name"], grants, params.get("ACL"))
            meta["acl"] = grants

    def get_object_acl(self, ctx: RequestContext, params: dict) -> dict:
        record = self._tagged_version(ctx, params, "s3:GetObjectAcl")
        mine = owner(record["owner"])
        grants = record.get("acl") or [{"Grantee": {"Type": "CanonicalUser", **mine},
                                        "Permission": "FULL_CONTROL"}]
        return {"Owner": mine, "Grants": grants}

    def put_object_acl(self, ctx: RequestContext, params: dict) -> dict:
        record = self._tagged_version(ctx, params, "s3:PutObjectAcl")
        bucket = self.storage.get_bucket(record["bucket"])
        meta: dict = {}
        self.requested_acl(ctx, bucket, params, meta)
        if "acl" not in meta:
            raise errors.MissingSecurityHeader("x-amz-acl")
        self.storage.update_meta(record["bucket"], record["key"], record["version_id"],
                                 acl=meta["acl"])
        return {}

    # -- object lock ----------------------------------------------------------------------
    def _lock_config(self, bucket: dict) -> dict | None:
        config = getattr(self, "config", None)
        return config.get(bucket["name"], "object_lock") if config is not None else None

    def put_object_lock_configuration(self, ctx: RequestContext, params: dict) -> dict:
        bucket = self.bucket(ctx, params["Bucket"], "s3:PutBucketObjectLockConfiguration")
        config = params.get("ObjectLockConfiguration") or {}
        if config.get("ObjectLockEnabled") != "Enabled":
            raise errors.MalformedXML()
        if bucket["versioning"] != "Enabled":
            raise errors.LockNeedsVersioning()
        default = (config.get("Rule") or {}).get("DefaultRetention")
        if default is not None:
            if default.get("Mode") not in LOCK_MODES or (default.get("Days") is None) == (
                    default.get("Years") is None):
                raise errors.MalformedXML()
            if (default.get("Days") or default.get("Years") or 0) <= 0:
                raise errors.InvalidArgument("Default retention period must be a positive "
                                             "integer value")
        self.storage.set_object_lock(bucket["name"])
        self.config.put(bucket["name"], "object_lock", config)
        return {}

    def get_object_lock_configuration(self, ctx: RequestContext, params: dict) -> dict:
        bucket = self.bucket(ctx, params["Bucket"], "s3:GetBucketObjectLockConfiguration")
        if not bucket["object_lock"]:
            raise errors.ObjectLockConfigurationNotFound(bucket["name"])
        return {"ObjectLockConfiguration": self._lock_config(bucket) or {"ObjectLockEnabled": "Enabled"}}

    def requested_lock(self, bucket: dict, params: dict, meta: dict) -> None:
        """Retention and legal hold of a new version: its headers, else the bucket's default."""
        mode, until = params.get("ObjectLockMode"), params.get("ObjectLockRetainUntilDate")
        hold = params.get("ObjectLockLegalHoldStatus")
        if (mode or until or hold) and not bucket["object_lock"]:
            raise errors.BucketNotLocked()
        if (mode is None) != (until is None):
            raise errors.InvalidArgument("x-amz-object-lock-retain-until-date and "
                                         "x-amz-object-lock-mode must both be supplied")
        if mode is not None:
            if mode not in LOCK_MODES:
                raise errors.InvalidArgument("Unknown wormMode directive.",
                                             name="x-amz-object-lock-mode", value=mode)
            if until.timestamp() <= clock.timestamp():
                raise errors.InvalidArgument("The retain until date must be in the future!")
            meta.update(ObjectLockMode=mode, ObjectLockRetainUntilDate=until.timestamp())
        elif bucket["object_lock"]:
            default = ((self._lock_config(bucket) or {}).get("Rule") or {}).get("DefaultRetention")
            if default:
                days = default.get("Days") or 365 * (default.get("Years") or 0)
                meta.update(ObjectLockMode=default["Mode"],
                            ObjectLockRetainUntilDate=clock.timestamp() + days * 86400)
        if hold is not None:
            meta["ObjectLockLegalHoldStatus"] = hold

    def _locked_version(self, ctx: RequestContext, params: dict, action: str) -> dict:
        bucket = self.bucket(ctx, params["Bucket"], action, params["Key"])
        if not bucket["object_lock"]:
            raise errors.BucketNotLocked()
        return self._tagged_version(ctx, params, action)

    def put_object_retention(self, ctx: RequestContext, params: dict) -> dict:
        record = self._locked_version(ctx, params, "s3:PutObjectRetention")
        retention = params.get("Retention") or {}
        mode, until = retention.get("Mode"), retention.get("RetainUntilDate")
        if (mode is None) != (until is None) or (mode is not None and mode not in LOCK_MODES):
            raise errors.MalformedXML()
        current_mode = record.get("ObjectLockMode")
        current_until = record.get("ObjectLockRetainUntilDate") or 0
        new_until = until.timestamp() if until is not None else 0
        active = current_mode is not None and current_until > clock.timestamp()
        shortened = active and (mode != current_mode or new_until < current_until)
        if shortened and (current_mode == "COMPLIANCE" or
                          not params.get("BypassGovernanceRetention")):
            raise errors.AccessDenied()
        self.storage.update_meta(record["bucket"], record["key"], record["version_id"],
                                 ObjectLockMode=mode, ObjectLockRetainUntilDate=until.timestamp()
                                 if until is not None else None)
        return {}

    def get_object_retention(self, ctx: RequestContext, params: dict) -> dict:
        record = self._locked_version(ctx, params, "s3:GetObjectRetention")
        if not record.get("ObjectLockMode"):
            raise errors.NoSuchObjectLockConfiguration()
        return {"Retention": {"Mode": record["ObjectLockMode"],
                              "RetainUntilDate": timestamp(record["ObjectLockRetainUntilDate"])}}

    def put_object_legal_hold(self, ctx: RequestContext, params: dict) -> dict:
        record = self._locked_version(ctx, params, "s3:PutObjectLegalHold")
        status = (params.get("LegalHold") or {}).get("Status")
        if status not in ("ON", "OFF"):
            raise errors.MalformedXML()
        self.storage.update_meta(record["bucket"], record["key"], record["version_id"],
                                 ObjectLockLegalHoldStatus=status)
        return {}

    def get_object_legal_hold(self, ctx: RequestContext, params: dict) -> dict:
        record = self._locked_version(ctx, params, "s3:GetObjectLegalHold")
        if not record.get("ObjectLockLegalHoldStatus"):
            raise errors.NoSuchObjectLockConfiguration()
        return {"LegalHold": {"Status": record["ObjectLockLegalHoldStatus"]}}

    def check_deletable(self, ctx: RequestContext, bucket: dict, key: str, version_id: str,
                        bypass: bool) -> None:
        """A locked version cannot be deleted: a legal hold or COMPLIANCE retention never,
        GOVERNANCE retention only with x-amz-bypass-governance-retention."""
        if not bucket["object_lock"]:
            return
        record = self.storage.get_object(bucket["name"], key, version_id)
        if record is None:
            return
        if record.get("ObjectLockLegalHoldStatus") == "ON":
            raise errors.AccessDenied()
        retained = (record.get("ObjectLockRetainUntilDate") or 0) > clock.timestamp()
        if retained and (record.get("ObjectLockMode") == "COMPLIANCE" or not bypass):
            raise errors.AccessDenied()

    # -- object tagging -----------------------------------------------------------------
    def _tagged_version(self, ctx: RequestContext, params: dict, action: str) -> dict:
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

    def _tagging_result(self, record: dict) -> dict:
        result = {}
        if record["version_id"] != "null":
            result["VersionId"] = record["version_id"]
        return result

    def get_object_tagging(self, ctx: RequestContext, params: dict) -> dict:
        record = self._tagged_version(ctx, params, "s3:GetObjectTagging")
        return {"TagSet": record.get("tags") or [], **self._tagging_result(record)}

    def put_object_tagging(self, ctx: RequestContext, params: dict) -> dict:
        record = self._tagged_version(ctx, params, "s3:PutObjectTagging")
        tags = (params.get("Tagging") or {}).get("TagSet") or []
        if len(tags) > 10:
            raise errors.TooManyObjectTags()
        if len({t["Key"] for t in tags}) != len(tags):
            raise errors.DuplicateTagKey()
        self.storage.update_meta(record["bucket"], record["key"], record["version_id"], tags=tags)
        return self._tagging_result(record)

    def delete_object_tagging(self, ctx: RequestContext, params: dict) -> dict:
        record = self._tagged_version(ctx, params, "s3:DeleteObjectTagging")
        self.storage.update_meta(record["bucket"], record["key"], record["version_id"], tags=[])
        return self._tagging_result(record)

    # -- event notifications ------------------------------------------------------------
    def object_event(self, kind: str, bucket: dict, record: dict) -> None:
        """Publish an object event, in AWS's record shape, to each destination the
        bucket's notification configuration selects: topic `s3:notification`, event
        `{"Destination": {"Arn", "Id", "Service"}, "Event": {"Records": [...]}}`."""
        select = getattr(self, "notification_targets", None)
        if select is None:
            return
        targets = select(bucket["name"], "s3:" + kind, record["key"])
        for target in targets:
            self.bus.publish("s3:notification", {
                "Destination": target,
                "Event": {"Records": [event_record(kind, bucket, record, target["Id"])]}})


def event_record(kind: str, bucket: dict, record: dict, configuration_id: str) -> dict:
    obj = {"key": quote_plus(record["key"], safe="/"),
           "sequencer": f"{record.get('seq') or 0:016X}"}
    if kind.startswith("ObjectCreated"):
        obj.update(size=record["size"], eTag=record["etag"].strip('"'))
    if record["version_id"] != "null":
        obj["versionId"] = record["version_id"]
    principal = f"AWS:{record['owner']}"
    return {
        "eventVersion": "2.1", "eventSource": "aws:s3", "awsRegion": bucket["region"],
        "eventTime": timestamp(record["last_modified"]).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z",
        "eventName": kind, "userIdentity": {"principalId": principal},
        "requestParameters": {"sourceIPAddress": "127.0.0.1"},
        "responseElements": {"x-amz-request-id": f"{record.get('seq') or 0:016X}",
                             "x-amz-id-2": base64.b64encode(str(record.get("seq")).encode()).decode()},
        "s3": {"s3SchemaVersion": "1.0", "configurationId": configuration_id,
               "bucket": {"name": bucket["name"], "ownerIdentity": {"principalId": principal},
                          "arn": f"arn:aws:s3:::{bucket['name']}"},
               "object": obj},
    }
