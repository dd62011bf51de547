"""Listing: ListObjects (v1), ListObjectsV2 and ListObjectVersions.

A page is a few range scans of the SQLite listing index: keys come in UTF-8 byte order,
and a common prefix is skipped whole by seeking to the successor of `prefix + delimiter`,
so a page never reads the rest of the bucket."""

from __future__ import annotations

import base64
import json
from urllib.parse import quote

from cloudlet.services.base import RequestContext
from cloudlet.services.s3 import errors
from cloudlet.services.s3.buckets import owner, timestamp
from cloudlet.services.s3.storage import S3Storage, successor

MAX_KEYS = 1000


def _max_keys(params: dict, name: str = "MaxKeys") -> int:
    value = params.get(name)
    if value is None:
        return MAX_KEYS
    if value < 0:
        raise errors.InvalidArgument(f"Argument {name.lower()} must be an integer between 0 "
                                     "and 2147483647", name=name.lower(), value=value)
    return min(value, MAX_KEYS)


def _encoder(params: dict):
    encoding = params.get("EncodingType")
    if encoding is None:
        return lambda text: text
    if encoding != "url":
        raise errors.InvalidArgument("Invalid Encoding Method specified in Request",
                                     name="encoding-type", value=encoding)
    return lambda text: None if text is None else quote(text, safe="/")


def _common_prefix(key: str, prefix: str, delimiter: str | None) -> str | None:
    if not delimiter:
        return None
    at = key.find(delimiter, len(prefix))
    return None if at < 0 else key[:at + len(delimiter)]


def _checksum_algorithms(record: dict) -> list[str]:
    return [a.upper() for a in (record.get("checksums") or {})]


class ListingOperations:
    storage: S3Storage

    def _walk_current(self, bucket: str, prefix: str, delimiter: str | None, cursor: str,
                      inclusive: bool, limit: int):
        """(entries, truncated, (cursor, inclusive) to resume from). An entry is a record
        or a common-prefix string."""
        entries: list = []
        while len(entries) < limit:
            rows = self.storage.list_current(bucket, cursor, prefix,
                                             min(limit - len(entries) + 1, MAX_KEYS + 1), inclusive)
            if not rows:
                return entries, False, (cursor, inclusive)
            for row in rows:
                common = _common_prefix(row["key"], prefix, delimiter)
                if common is not None:
                    entries.append(common)
                    cursor, inclusive = successor(common), True
                    break
                entries.append(row)
                cursor, inclusive = row["key"], False
                if len(entries) == limit:
                    break
        more = self.storage.list_current(bucket, cursor, prefix, 1, inclusive)
        return entries, bool(more), (cursor, inclusive)

    def _contents(self, entries: list, encode, fetch_owner: bool) -> tuple[list, list]:
        contents, prefixes = [], []
        for entry in entries:
            if isinstance(entry, str):
                prefixes.append({"Prefix": encode(entry)})
                continue
            item = {"Key": encode(entry["key"]),
                    "LastModified": timestamp(int(entry["last_modified"])),
                    "ETag": entry["etag"], "Size": entry["size"],
                    "StorageClass": entry["storage_class"]}
            algorithms = _checksum_algorithms(entry)
            if algorithms:
                item["ChecksumAlgorithm"] = algorithms
                item["ChecksumType"] = entry.get("checksum_type", "FULL_OBJECT")
            if fetch_owner:
                item["Owner"] = owner(entry["owner"])
            contents.append(item)
        return contents, prefixes

    @staticmethod
    def _start(marker: str, prefix: str, delimiter: str | None) -> tuple[str, bool]:
        """Where a listing after `marker` resumes: past a whole common prefix if the marker
        is one."""
        if delimiter and marker.endswith(delimiter) and marker.startswith(prefix) and \
                marker.find(delimiter, len(prefix)) == len(marker) - len(delimiter):
            return successor(marker), True
        return marker, False

    def list_objects_v2(self, ctx: RequestContext, params: dict) -> dict:
        bucket = self.bucket(ctx, params["Bucket"], "s3:ListBucket")
        encode = _encoder(params)
        prefix, delimiter = params.get("Prefix") or "", params.get("Delimiter") or None
        limit = _max_keys(params)
        token = params.get("ContinuationToken")
        if token is not None:
            try:
                cursor, inclusive = json.loads(base64.urlsafe_b64decode(token.encode()))
            except ValueError:
                raise errors.InvalidArgument("The continuation token provided is incorrect",
                                             name="continuation-token", value=token) from None
        else:
            cursor, inclusive = self._start(params.get("StartAfter") or "", prefix, delimiter)
        entries, truncated, resume = ([], False, None) if limit == 0 else self._walk_current(
            bucket["name"], prefix, delimiter, cursor, inclusive, limit)
        contents, prefixes = self._contents(entries, encode, bool(params.get("FetchOwner")))
        result = {"Name": bucket["name"], "Prefix": encode(prefix), "MaxKeys": limit,
                  "KeyCount": len(entries), "IsTruncated": truncated}
        _fill(result, params, encode, delimiter, Contents=contents, CommonPrefixes=prefixes)
        if token is not None:
            result["ContinuationToken"] = token
        if params.get("StartAfter"):
            result["StartAfter"] = encode(params["StartAfter"])
        if truncated:
            result["NextContinuationToken"] = base64.urlsafe_b64encode(
                json.dumps(list(resume)).encode()).decode()
        return result

    def list_objects(self, ctx: RequestContext, params: dict) -> dict:
        bucket = self.bucket(ctx, params["Bucket"], "s3:ListBucket")
        encode = _encoder(params)
        prefix, delimiter = params.get("Prefix") or "", params.get("Delimiter") or None
        limit = _max_keys(params)
        marker = params.get("Marker") or ""
        cursor, inclusive = self._start(marker, prefix, delimiter)
        entries, truncated, _ = ([], False, None) if limit == 0 else self._walk_current(
            bucket["name"], prefix, delimiter, cursor, inclusive, limit)
        contents, prefixes = self._contents(entries, encode, True)
        result = {"Name": bucket["name"], "Prefix": encode(prefix), "Marker": encode(marker),
                  "MaxKeys": limit, "IsTruncated": truncated}
        _fill(result, params, encode, delimiter, Contents=contents, CommonPrefixes=prefixes)
        if truncated and delimiter:
            last = entries[-1]
            result["NextMarker"] = encode(last if isinstance(last, str) else last["key"])
        return result

    def list_object_versions(self, ctx: RequestContext, params: dict) -> dict:
        bucket = self.bucket(ctx, params["Bucket"], "s3:ListBucketVersions")
        name = bucket["name"]
        encode = _encoder(params)
        prefix, delimiter = params.get("Prefix") or "", params.get("Delimiter") or None
        limit = _max_keys(params)
        key_marker = params.get("KeyMarker") or ""
        version_marker = params.get("VersionIdMarker") or ""
        if version_marker and not key_marker:
            raise errors.InvalidArgument("A version-id marker cannot be specified without a "
                                         "key marker.", name="version-id-marker", value=version_marker)
        within = None
        cursor, inclusive = self._start(key_marker, prefix, delimiter)
        if version_marker:
            seq = self.storage.version_seq(name, key_marker, version_marker)
            if seq is None and version_marker != "null":
                raise errors.InvalidArgument("Invalid version id specified",
                                             name="version-id-marker", value=version_marker)
            within = (key_marker, seq) if seq is not None else None
        entries: list = []
        while len(entries) <= limit:
            rows = self.storage.list_versions(name, cursor, inclusive, within, prefix,
                                              limit + 1 - len(entries))
            if not rows:
                break
            within = None
            for row in rows:
                common = _common_prefix(row["key"], prefix, delimiter)
                if common is not None:
                    entries.append(common)
                    cursor, inclusive, within = successor(common), True, None
                    break
                entries.append(row)
                cursor, inclusive, within = row["key"], False, (row["key"], row["seq"])
        truncated = len(entries) > limit
        entries = entries[:limit]
        result = {"Name": name, "Prefix": encode(prefix), "KeyMarker": encode(key_marker),
                  "VersionIdMarker": version_marker, "MaxKeys": limit, "IsTruncated": truncated}
        versions, markers, prefixes = [], [], []
        for entry in entries:
            if isinstance(entry, str):
                prefixes.append({"Prefix": encode(entry)})
                continue
            item = {"Key": encode(entry["key"]), "VersionId": entry["version_id"],
                    "IsLatest": entry["is_latest"],
                    "LastModified": timestamp(int(entry["last_modified"])),
                    "Owner": owner(entry["owner"])}
            if entry["delete_marker"]:
                markers.append(item)
            else:
                item.update(ETag=entry["etag"], Size=entry["size"],
                            StorageClass=entry["storage_class"])
                algorithms = _checksum_algorithms(entry)
                if algorithms:
                    item["ChecksumAlgorithm"] = algorithms
                    item["ChecksumType"] = entry.get("checksum_type", "FULL_OBJECT")
                versions.append(item)
        _fill(result, params, encode, delimiter, Versions=versions, DeleteMarkers=markers,
              CommonPrefixes=prefixes)
        if truncated and entries:
            last = entries[-1]
            if isinstance(last, str):
                result["NextKeyMarker"] = encode(last)
            else:
                result["NextKeyMarker"] = encode(last["key"])
                result["NextVersionIdMarker"] = last["version_id"]
        return result


def _fill(result: dict, params: dict, encode, delimiter: str | None, **lists: list) -> None:
    """The members every listing ends with: its non-empty lists, the delimiter, and the
    encoding type when the client asked for URL-encoded keys."""
    for name, items in lists.items():
        if items:
            result[name] = items
    if delimiter:
        result["Delimiter"] = encode(delimiter)
    if params.get("EncodingType"):
        result["EncodingType"] = "url"
