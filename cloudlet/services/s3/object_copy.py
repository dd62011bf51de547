"""CopyObject, and the copy source (x-amz-copy-source and its conditions) that
UploadPartCopy reads too."""

from __future__ import annotations

from urllib.parse import parse_qsl, unquote

from cloudlet.services.base import RequestContext
from cloudlet.services.s3 import errors
from cloudlet.services.s3.buckets import timestamp
from cloudlet.services.s3.checksums import checksum_result
from cloudlet.services.s3.conditions import check_copy_conditions
from cloudlet.services.s3.object_meta import (
    CONTENT_MEMBERS,
    check_key,
    check_storage_class,
    object_meta,
    parse_tagging,
)
from cloudlet.services.s3.storage import S3Storage


class ObjectCopyOperations:
    storage: S3Storage

    def copy_source(self, ctx: RequestContext, params: dict) -> tuple[dict, dict]:
        """The version named by x-amz-copy-source (`bucket/key[?versionId=...]`), after its
        copy-if conditions hold."""
        text = params["CopySource"]
        text, _, query = text.partition("?")
        try:  # bytes that are not UTF-8 would otherwise all read as U+FFFD
            text = unquote(text, errors="strict").lstrip("/")
        except UnicodeDecodeError:
            raise errors.InvalidArgument("Invalid copy source encoding", name="x-amz-copy-source",
                                         value=params["CopySource"]) from None
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
        check_copy_conditions(record, params)
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

