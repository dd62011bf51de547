"""PutObject and PostObject, and what every write of a version shares.

Bytes go straight to a blob file (temporary file, fsync, rename) while MD5 and the
flexible checksums are computed; the version's metadata commits only after every digest
the client sent has been verified (`ingest`), and `commit_version` makes it the key's
latest version under the conditional-write headers."""

from __future__ import annotations

import base64
import hashlib
from concurrent.futures import ThreadPoolExecutor

from cloudlet import clock
from cloudlet.services.base import RequestContext
from cloudlet.services.s3 import errors
from cloudlet.services.s3.checksums import (
    CHECKSUM_MEMBERS,
    check_checksum,
    checksum_result,
    new_checksum,
)
from cloudlet.services.s3.conditions import etag_matches
from cloudlet.services.s3.object_meta import (
    check_key,
    check_storage_class,
    object_meta,
)
from cloudlet.services.s3.storage import S3Storage, new_version_id

PARALLEL_PIECE = 256 * 1024  # pieces at least this large are hashed on other threads
_HASHERS = ThreadPoolExecutor(max_workers=8, thread_name_prefix="s3-digest")


def quoted_md5(md5_hex: str) -> str:
    return f'"{md5_hex}"'


class ObjectWriteOperations:
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
