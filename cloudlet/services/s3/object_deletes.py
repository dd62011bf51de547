"""DeleteObject and DeleteObjects: a version, or a delete marker on a versioned bucket,
refused while Object Lock retains the version."""

from __future__ import annotations

from cloudlet import clock
from cloudlet.services.base import RequestContext
from cloudlet.services.s3 import errors
from cloudlet.services.s3.conditions import etag_matches
from cloudlet.services.s3.object_meta import check_key
from cloudlet.services.s3.storage import S3Storage, new_version_id


class ObjectDeleteOperations:
    storage: S3Storage

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

