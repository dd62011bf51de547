"""Object Lock: the bucket's configuration and default retention, a version's retention
and legal hold, and what they forbid (shortening retention, deleting a locked version)."""

from __future__ import annotations

from cloudlet import clock
from cloudlet.services.base import RequestContext
from cloudlet.services.s3 import errors
from cloudlet.services.s3.buckets import timestamp
from cloudlet.services.s3.storage import S3Storage

LOCK_MODES = ("GOVERNANCE", "COMPLIANCE")


class ObjectLockOperations:
    storage: S3Storage

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
        return self.subresource_version(ctx, params, action)

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

