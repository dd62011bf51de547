"""Buckets: Create/Delete/Head/ListBuckets, GetBucketLocation, and the bucket lookup with
its access check that every other family uses."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import ipaddress
import re

from cloudlet import clock
from cloudlet.services.base import RequestContext
from cloudlet.services.s3 import errors
from cloudlet.services.s3.storage import S3Storage

_NAME = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
_BAD_PREFIXES = ("xn--", "sthree-", "amzn-s3-demo-")
_BAD_SUFFIXES = ("-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3")
DEFAULT_REGION = "us-east-1"


def valid_bucket_name(name: str) -> bool:
    if not _NAME.match(name) or ".." in name or ".-" in name or "-." in name:
        return False
    if name.startswith(_BAD_PREFIXES) or name.endswith(_BAD_SUFFIXES):
        return False
    try:
        ipaddress.IPv4Address(name)
        return False
    except ValueError:
        return True


def canonical_id(account: str) -> str:
    """The account's canonical user id (64 hex digits), stable per account."""
    return hashlib.sha256(f"cloudlet-canonical-{account}".encode()).hexdigest()


def owner(account: str) -> dict:
    return {"ID": canonical_id(account), "DisplayName": f"account-{account}"}


def timestamp(epoch: float) -> dt.datetime:
    return dt.datetime.fromtimestamp(epoch, dt.UTC)


class BucketOperations:
    storage: S3Storage

    # -- shared lookup ------------------------------------------------------------------
    def bucket(self, ctx: RequestContext, name: str, action: str = "", key: str | None = None) -> dict:
        """The bucket record, after the caller's right to touch it is checked."""
        record = self.storage.get_bucket(name)
        if record is None:
            raise errors.NoSuchBucket(name)
        if ctx.caller is None or ctx.caller.account_id != record["account"]:
            allows = getattr(self, "policy_allows", None)
            if allows is None or not allows(ctx, record, action, key):
                raise errors.AccessDenied()
        return record

    # -- operations ---------------------------------------------------------------------
    def create_bucket(self, ctx: RequestContext, params: dict) -> dict:
        name = params["Bucket"]
        if ctx.caller is None:
            raise errors.AccessDenied()
        if not valid_bucket_name(name):
            raise errors.InvalidBucketName(name)
        region = self._bucket_region(ctx, params.get("CreateBucketConfiguration") or {})
        lock = bool(params.get("ObjectLockEnabledForBucket"))
        existing = self.storage.create_bucket(name, ctx.account_id, region, clock.timestamp(), lock)
        if existing is not None:
            if existing["account"] != ctx.account_id:
                raise errors.BucketAlreadyExists(name)
            if existing["region"] != DEFAULT_REGION or ctx.region != DEFAULT_REGION:
                raise errors.BucketAlreadyOwnedByYou(name)
        else:
            created = getattr(self, "bucket_created", None)
            if created is not None:
                created(ctx, name, params)
        return {"Location": f"/{name}",
                "BucketArn": f"arn:aws:s3:::{name}"}

    @staticmethod
    def _bucket_region(ctx: RequestContext, config: dict) -> str:
        constraint = config.get("LocationConstraint")
        if constraint == "EU":
            constraint = "eu-west-1"
        if not constraint:
            if ctx.region != DEFAULT_REGION:
                raise errors.IllegalLocationConstraint(None)
            return DEFAULT_REGION
        if constraint == DEFAULT_REGION:
            raise errors.InvalidLocationConstraint(constraint)
        if ctx.region not in (DEFAULT_REGION, constraint):
            raise errors.IllegalLocationConstraint(constraint)
        return constraint

    def delete_bucket(self, ctx: RequestContext, params: dict) -> dict:
        record = self.bucket(ctx, params["Bucket"], "s3:DeleteBucket")
        if not self.storage.delete_bucket(record["name"]):
            raise errors.BucketNotEmpty(record["name"])
        deleted = getattr(self, "bucket_deleted", None)
        if deleted is not None:
            deleted(record["name"])
        return {}

    def head_bucket(self, ctx: RequestContext, params: dict) -> dict:
        record = self.storage.get_bucket(params["Bucket"])
        if record is None:
            raise errors.BucketNotFound()
        try:
            self.bucket(ctx, params["Bucket"], "s3:ListBucket")
        except errors.S3Error as error:
            raise errors.BucketForbidden(record["region"]) from error
        return {"BucketRegion": record["region"], "AccessPointAlias": False,
                "BucketArn": f"arn:aws:s3:::{record['name']}"}

    def get_bucket_location(self, ctx: RequestContext, params: dict) -> dict:
        record = self.bucket(ctx, params["Bucket"], "s3:GetBucketLocation")
        region = record["region"]
        return {"LocationConstraint": None if region == DEFAULT_REGION else region}

    def list_buckets(self, ctx: RequestContext, params: dict) -> dict:
        if ctx.caller is None:
            raise errors.AccessDenied()
        limit = params.get("MaxBuckets")
        if limit is not None and not 1 <= limit <= 10000:
            raise errors.InvalidArgument("Argument max-buckets must be an integer between 1 "
                                         "and 10000", name="max-buckets", value=limit)
        after = ""
        token = params.get("ContinuationToken")
        if token:
            try:
                after = base64.urlsafe_b64decode(token.encode()).decode()
            except ValueError:
                raise errors.InvalidArgument("The continuation token provided is incorrect",
                                             name="continuation-token", value=token) from None
        prefix = params.get("Prefix") or ""
        page = limit or 10000
        rows = self.storage.list_buckets(ctx.account_id, prefix, after,
                                         params.get("BucketRegion"), page + 1)
        result = {
            "Buckets": [{"Name": r["name"], "CreationDate": timestamp(r["created"]),
                         "BucketRegion": r["region"],
                         "BucketArn": f"arn:aws:s3:::{r['name']}"} for r in rows[:page]],
            "Owner": owner(ctx.account_id),
        }
        if prefix:
            result["Prefix"] = prefix
        if len(rows) > page:
            result["ContinuationToken"] = base64.urlsafe_b64encode(
                rows[page - 1]["name"].encode()).decode()
        return result
