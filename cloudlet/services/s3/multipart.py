"""Multipart uploads: Create, UploadPart, UploadPartCopy, Complete, Abort, ListParts,
ListMultipartUploads, with AWS's limits (5 MiB parts but the last, 10,000 parts)."""

from __future__ import annotations

import base64
import hashlib
import secrets
import time

from cloudlet import clock
from cloudlet.services.base import RequestContext
from cloudlet.services.s3 import errors
from cloudlet.services.s3.buckets import owner, timestamp
from cloudlet.services.s3.checksums import (
    CHECKSUM_MEMBERS,
    b64digest,
    checksum_result,
    new_checksum,
)
from cloudlet.services.s3.object_meta import check_key, check_storage_class, object_meta
from cloudlet.services.s3.object_reads import parse_range
from cloudlet.services.s3.storage import S3Storage

MIN_PART = 5 * 1024 * 1024
MAX_PARTS = 10000


class MultipartOperations:
    storage: S3Storage

    def _upload(self, ctx: RequestContext, params: dict, action: str) -> tuple[dict, dict]:
        bucket = self.bucket(ctx, params["Bucket"], action, params["Key"])
        upload = self.storage.get_upload(params["UploadId"])
        if upload is None or upload["bucket"] != bucket["name"] or upload["key"] != params["Key"]:
            raise errors.NoSuchUpload(params["UploadId"])
        return bucket, upload

    @staticmethod
    def _part_number(params: dict) -> int:
        number = params["PartNumber"]
        if not 1 <= number <= MAX_PARTS:
            raise errors.InvalidArgument("Part number must be an integer between 1 and 10000, "
                                         "inclusive", name="partNumber", value=number)
        return number

    def create_multipart_upload(self, ctx: RequestContext, params: dict) -> dict:
        key = params["Key"]
        bucket = self.bucket(ctx, params["Bucket"], "s3:PutObject", key)
        check_key(key)
        meta = object_meta(params)
        meta["storage_class"] = check_storage_class(params.get("StorageClass"))
        self.requested_acl(ctx, bucket, params, meta)
        self.requested_lock(bucket, params, meta)
        algorithm = (params.get("ChecksumAlgorithm") or "").lower() or None
        if algorithm is not None and algorithm not in CHECKSUM_MEMBERS:
            raise errors.InvalidArgument("Checksum algorithm provided is unsupported.",
                                         name="x-amz-checksum-algorithm", value=algorithm)
        kind = params.get("ChecksumType")
        if algorithm is None and kind is not None:
            raise errors.InvalidArgument("The x-amz-checksum-type header can only be used with "
                                         "the x-amz-checksum-algorithm header.")
        if kind is None and algorithm is not None:
            kind = "FULL_OBJECT" if algorithm == "crc64nvme" else "COMPOSITE"
        if kind == "FULL_OBJECT" and algorithm in ("sha1", "sha256"):
            raise errors.InvalidArgument(f"The {algorithm.upper()} checksum algorithm does not "
                                         "support the FULL_OBJECT checksum type.")
        meta.update(checksum_algorithm=algorithm, checksum_type=kind)
        upload_id = f"{time.time_ns():x}" + secrets.token_hex(16)
        self.storage.create_upload(upload_id, bucket["name"], key, clock.timestamp(),
                                   ctx.account_id, meta)
        result = {"Bucket": bucket["name"], "Key": key, "UploadId": upload_id,
                  "ServerSideEncryption": "AES256"}
        if algorithm:
            result.update(ChecksumAlgorithm=algorithm.upper(), ChecksumType=kind)
        return result

    def upload_part(self, ctx: RequestContext, params: dict) -> dict:
        bucket, upload = self._upload(ctx, params, "s3:PutObject")
        number = self._part_number(params)
        algorithm = upload["meta"].get("checksum_algorithm")
        sent = [a for a, m in CHECKSUM_MEMBERS.items() if params.get(m)]
        if algorithm and sent and algorithm not in sent:
            raise errors.InvalidArgument(f"Checksum Type mismatch occurred, expected checksum "
                                         f"Type: {algorithm}, actual checksum Type: {sent[0]}")
        body = self.ingest(ctx, params, default_checksum=algorithm, keep_empty=True)
        part_checksums = {a: v for a, v in body["checksums"].items() if a == algorithm or a in sent}
        freed = self.storage.put_part(upload["upload_id"], number, body["etag"], body["size"],
                                      body["blob"], clock.timestamp(), part_checksums)
        if body["blob"] in freed:
            self.storage.free(freed)
            raise errors.NoSuchUpload(upload["upload_id"])
        self.storage.free(freed)
        result = {"ETag": body["etag"], "ServerSideEncryption": "AES256"}
        result.update({CHECKSUM_MEMBERS[a]: v for a, v in part_checksums.items()})
        return result

    def upload_part_copy(self, ctx: RequestContext, params: dict) -> dict:
        bucket, upload = self._upload(ctx, params, "s3:PutObject")
        number = self._part_number(params)
        source_bucket, source = self.copy_source(ctx, params)
        first, length = 0, source["size"]
        if params.get("CopySourceRange"):
            text = params["CopySourceRange"]
            try:
                span = parse_range(text, source["size"])
            except errors.S3Error:
                span = None
            if span is None or "-" not in text or text.endswith("-") or text.startswith("bytes=-"):
                raise errors.InvalidArgument("Range specified is not valid for source object of "
                                             f"size: {source['size']}", name="x-amz-copy-source-range",
                                             value=text)
            first, length = span[0], span[1] - span[0] + 1
        md5 = hashlib.md5()
        algorithm = upload["meta"].get("checksum_algorithm")
        digest = new_checksum(algorithm) if algorithm else None

        def chunks():
            remaining = length
            if source["blob"] is None:
                return
            with self.storage.blobs.open(source["blob"]) as f:
                f.seek(first)
                while remaining > 0:
                    chunk = f.read(min(1 << 20, remaining))
                    if not chunk:
                        break
                    remaining -= len(chunk)
                    md5.update(chunk)
                    if digest is not None:
                        digest.update(chunk)
                    yield chunk

        blob, size = self.storage.blobs.write(chunks())
        part_checksums = {algorithm: base64.b64encode(digest.digest()).decode()} if digest else {}
        etag = f'"{md5.hexdigest()}"'
        now = clock.timestamp()
        freed = self.storage.put_part(upload["upload_id"], number, etag, size, blob, now, part_checksums)
        if blob in freed:
            self.storage.free(freed)
            raise errors.NoSuchUpload(upload["upload_id"])
        self.storage.free(freed)
        part = {"ETag": etag, "LastModified": timestamp(int(now))}
        part.update({CHECKSUM_MEMBERS[a]: v for a, v in part_checksums.items()})
        result = {"CopyPartResult": part, "ServerSideEncryption": "AES256"}
        if source_bucket["versioning"]:
            result["CopySourceVersionId"] = source["version_id"]
        return result

    def complete_multipart_upload(self, ctx: RequestContext, params: dict) -> dict:
        bucket, upload = self._upload(ctx, params, "s3:PutObject")
        requested = (params.get("MultipartUpload") or {}).get("Parts") or []
        if not requested:
            raise errors.MalformedXML()
        stored = {p["part_number"]: p for p in self.storage.list_parts(upload["upload_id"])}
        numbers = [p.get("PartNumber") for p in requested]
        if any(n is None for n in numbers):
            raise errors.MalformedXML()
        if any(b <= a for a, b in zip(numbers, numbers[1:], strict=False)):
            raise errors.InvalidPartOrder(upload["upload_id"])
        parts = []
        for index, item in enumerate(requested):
            part = stored.get(item["PartNumber"])
            if part is None or (item.get("ETag") or "").strip('"') != part["etag"].strip('"'):
                raise errors.InvalidPart()
            for algorithm, member in CHECKSUM_MEMBERS.items():
                if item.get(member) and part["checksums"].get(algorithm) != item[member]:
                    raise errors.InvalidPart()
            if index < len(requested) - 1 and part["size"] < MIN_PART:
                raise errors.EntityTooSmall(part["size"], minimum=MIN_PART,
                                            part_number=part["part_number"],
                                            etag=part["etag"].strip('"'))
            parts.append(part)
        meta = dict(upload["meta"])
        algorithm = meta.pop("checksum_algorithm", None)
        kind = meta.pop("checksum_type", None) or "FULL_OBJECT"
        full = new_checksum(algorithm or "crc64nvme") if kind == "FULL_OBJECT" else None

        def chunks():
            for part in parts:
                with self.storage.blobs.open(part["blob"]) as f:
                    while chunk := f.read(1 << 20):
                        if full is not None:
                            full.update(chunk)
                        yield chunk

        blob, size = self.storage.blobs.write(chunks())
        if params.get("MpuObjectSize") is not None and params["MpuObjectSize"] != size:
            self.storage.blobs.delete(blob)
            raise errors.InvalidArgument("The provided 'x-amz-mp-object-size' header value "
                                         "does not match what was computed.")
        md5s = b"".join(bytes.fromhex(p["etag"].strip('"')) for p in parts)
        etag = f'"{hashlib.md5(md5s).hexdigest()}-{len(parts)}"'
        values = {}
        if full is not None:
            values[algorithm or "crc64nvme"] = base64.b64encode(full.digest()).decode()
        elif algorithm:
            joined = b"".join(base64.b64decode(p["checksums"].get(algorithm, "")) for p in parts)
            values[algorithm] = f"{b64digest(algorithm, joined)}-{len(parts)}"
        for name, value in values.items():
            sent = params.get(CHECKSUM_MEMBERS[name])
            if sent is not None and sent != value:
                self.storage.blobs.delete(blob)
                raise errors.ChecksumMismatch(name)
        record = {"blob": blob, "size": size, "etag": etag, "owner": ctx.account_id,
                  "storage_class": meta.pop("storage_class", "STANDARD"), "checksums": values,
                  "checksum_type": kind, "parts": [p["size"] for p in parts],
                  "event": "CompleteMultipartUpload", **meta}
        record = self.commit_version(bucket, params["Key"], record, params.get("IfMatch"),
                                     params.get("IfNoneMatch"))
        self.storage.free(self.storage.delete_upload(upload["upload_id"]))
        result = {"Location": f"/{bucket['name']}/{params['Key']}", "Bucket": bucket["name"],
                  "Key": params["Key"], "ETag": etag, "ServerSideEncryption": "AES256"}
        result.update(checksum_result(record))
        if bucket["versioning"]:
            result["VersionId"] = record["version_id"]
        return result

    def abort_multipart_upload(self, ctx: RequestContext, params: dict) -> dict:
        _, upload = self._upload(ctx, params, "s3:AbortMultipartUpload")
        self.storage.free(self.storage.delete_upload(upload["upload_id"]))
        return {}

    def list_parts(self, ctx: RequestContext, params: dict) -> dict:
        bucket, upload = self._upload(ctx, params, "s3:ListMultipartUploadParts")
        limit = min(params.get("MaxParts") or 1000, 1000)
        marker = params.get("PartNumberMarker") or 0
        rows = self.storage.list_parts(upload["upload_id"], marker, limit + 1)
        truncated = len(rows) > limit
        rows = rows[:limit]
        parts = []
        for row in rows:
            part = {"PartNumber": row["part_number"], "ETag": row["etag"], "Size": row["size"],
                    "LastModified": timestamp(int(row["last_modified"]))}
            part.update({CHECKSUM_MEMBERS[a]: v for a, v in row["checksums"].items()})
            parts.append(part)
        result = {"Bucket": bucket["name"], "Key": upload["key"], "UploadId": upload["upload_id"],
                  "PartNumberMarker": marker, "MaxParts": limit, "IsTruncated": truncated,
                  "Initiator": {"ID": owner(upload["owner"])["ID"],
                                "DisplayName": owner(upload["owner"])["DisplayName"]},
                  "Owner": owner(upload["owner"]),
                  "StorageClass": upload["meta"].get("storage_class", "STANDARD")}
        if parts:
            result["Parts"] = parts
            result["NextPartNumberMarker"] = parts[-1]["PartNumber"]
        if upload["meta"].get("checksum_algorithm"):
            result["ChecksumAlgorithm"] = upload["meta"]["checksum_algorithm"].upper()
            result["ChecksumType"] = upload["meta"].get("checksum_type")
        return result

    def list_multipart_uploads(self, ctx: RequestContext, params: dict) -> dict:
        bucket = self.bucket(ctx, params["Bucket"], "s3:ListBucketMultipartUploads")
        limit = min(params.get("MaxUploads") or 1000, 1000)
        prefix, delimiter = params.get("Prefix") or "", params.get("Delimiter") or None
        key_marker = params.get("KeyMarker") or ""
        id_marker = (params.get("UploadIdMarker") or "") if key_marker else ""
        # Without an upload-id marker, only keys after the key marker.
        rows = self.storage.list_uploads(bucket["name"], key_marker, id_marker or "\uffff",
                                         prefix, 1 << 20)
        uploads, prefixes, truncated, last = [], [], False, None
        for row in rows:
            if delimiter:
                at = row["key"].find(delimiter, len(prefix))
                if at >= 0:
                    common = row["key"][:at + len(delimiter)]
                    if prefixes and prefixes[-1]["Prefix"] == common:
                        continue
                    if len(uploads) + len(prefixes) == limit:
                        truncated = True
                        break
                    prefixes.append({"Prefix": common})
                    last = (common, "")
                    continue
            if len(uploads) + len(prefixes) == limit:
                truncated = True
                break
            uploads.append({
                "UploadId": row["upload_id"], "Key": row["key"],
                "Initiated": timestamp(row["initiated"]),
                "StorageClass": row["meta"].get("storage_class", "STANDARD"),
                "Owner": owner(row["owner"]), "Initiator": owner(row["owner"]),
                **({"ChecksumAlgorithm": row["meta"]["checksum_algorithm"].upper(),
                    "ChecksumType": row["meta"].get("checksum_type")}
                   if row["meta"].get("checksum_algorithm") else {}),
            })
            last = (row["key"], row["upload_id"])
        result = {"Bucket": bucket["name"], "KeyMarker": key_marker, "UploadIdMarker": id_marker,
                  "Prefix": prefix, "MaxUploads": limit, "IsTruncated": truncated}
        if delimiter:
            result["Delimiter"] = delimiter
        if uploads:
            result["Uploads"] = uploads
        if prefixes:
            result["CommonPrefixes"] = prefixes
        if truncated and last:
            result["NextKeyMarker"], result["NextUploadIdMarker"] = last
        return result
