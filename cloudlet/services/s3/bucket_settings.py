"""The bucket's plain settings, stored and answered with AWS's validation: versioning,
default encryption, website, logging, Transfer Acceleration, Requester Pays and
replication."""

from __future__ import annotations

from cloudlet.services.base import RequestContext
from cloudlet.services.s3 import errors
from cloudlet.services.s3.bucket_config import DELETED
from cloudlet.services.s3.storage import S3Storage

SSE_ALGORITHMS = ("AES256", "aws:kms", "aws:kms:dsse")
DEFAULT_ENCRYPTION = {"Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"},
                                 "BucketKeyEnabled": False}]}


class BucketSettingsOperations:
    storage: S3Storage

    # -- versioning ---------------------------------------------------------------------
    def get_bucket_versioning(self, ctx: RequestContext, params: dict) -> dict:
        record = self._owned(ctx, params, "s3:GetBucketVersioning")
        return {"Status": record["versioning"]} if record["versioning"] else {}

    def put_bucket_versioning(self, ctx: RequestContext, params: dict) -> dict:
        record = self._owned(ctx, params, "s3:PutBucketVersioning")
        status = (params.get("VersioningConfiguration") or {}).get("Status")
        if status not in ("Enabled", "Suspended"):
            raise errors.MalformedXML()
        if status == "Suspended" and record.get("object_lock"):
            raise errors.VersioningLocked()
        self.storage.set_versioning(record["name"], status)
        return {}

    # -- default encryption -------------------------------------------------------------
    def get_bucket_encryption(self, ctx: RequestContext, params: dict) -> dict:
        record = self._owned(ctx, params, "s3:GetEncryptionConfiguration")
        value = self.config.get(record["name"], "encryption", DEFAULT_ENCRYPTION)
        if value is DELETED:
            raise errors.EncryptionConfigurationNotFound(record["name"])
        return {"ServerSideEncryptionConfiguration": value}

    def put_bucket_encryption(self, ctx: RequestContext, params: dict) -> dict:
        record = self._owned(ctx, params, "s3:PutEncryptionConfiguration")
        rules = (params.get("ServerSideEncryptionConfiguration") or {}).get("Rules") or []
        if len(rules) != 1:
            raise errors.MalformedXML()
        default = rules[0].get("ApplyServerSideEncryptionByDefault") or {}
        algorithm = default.get("SSEAlgorithm")
        if algorithm not in SSE_ALGORITHMS:
            raise errors.MalformedXML()
        if default.get("KMSMasterKeyID") and algorithm == "AES256":
            raise errors.InvalidArgument("a KMSMasterKeyID is not applicable if the default "
                                         "sse algorithm is not aws:kms or aws:kms:dsse",
                                         name="ApplyServerSideEncryptionByDefault")
        rule = {"ApplyServerSideEncryptionByDefault": default,
                "BucketKeyEnabled": bool(rules[0].get("BucketKeyEnabled", False))}
        self.config.put(record["name"], "encryption", {"Rules": [rule]})
        return {}

    def delete_bucket_encryption(self, ctx: RequestContext, params: dict) -> dict:
        # Since January 2023 every bucket has SSE-S3 at least: deleting reverts to it.
        record = self._owned(ctx, params, "s3:PutEncryptionConfiguration")
        self.config.delete(record["name"], "encryption")
        return {}

    # -- website ------------------------------------------------------------------------
    def get_bucket_website(self, ctx: RequestContext, params: dict) -> dict:
        record = self._owned(ctx, params, "s3:GetBucketWebsite")
        value = self.config.get(record["name"], "website")
        if value is None:
            raise errors.NoSuchWebsiteConfiguration(record["name"])
        return value

    def put_bucket_website(self, ctx: RequestContext, params: dict) -> dict:
        record = self._owned(ctx, params, "s3:PutBucketWebsite")
        config = params.get("WebsiteConfiguration")
        if config is None:
            raise errors.MalformedXML()
        redirect_all = config.get("RedirectAllRequestsTo")
        if redirect_all and any(config.get(k) for k in ("IndexDocument", "ErrorDocument",
                                                        "RoutingRules")):
            raise errors.InvalidArgument("RedirectAllRequestsTo cannot be provided in "
                                         "conjunction with other Routing Rules.",
                                         name="RedirectAllRequestsTo")
        if not redirect_all:
            suffix = (config.get("IndexDocument") or {}).get("Suffix")
            if not suffix:
                raise errors.InvalidArgument("A value for IndexDocument Suffix must be provided "
                                             "if RedirectAllRequestsTo is empty",
                                             name="IndexDocument")
            if "/" in suffix:
                raise errors.InvalidArgument("The IndexDocument Suffix is not well formed",
                                             name="IndexDocument", value=suffix)
        self.config.put(record["name"], "website", config)
        return {}

    def delete_bucket_website(self, ctx: RequestContext, params: dict) -> dict:
        record = self._owned(ctx, params, "s3:DeleteBucketWebsite")
        self.config.delete(record["name"], "website")
        return {}

    # -- logging ------------------------------------------------------------------------
    def get_bucket_logging(self, ctx: RequestContext, params: dict) -> dict:
        record = self._owned(ctx, params, "s3:GetBucketLogging")
        return self.config.get(record["name"], "logging") or {}

    def put_bucket_logging(self, ctx: RequestContext, params: dict) -> dict:
        record = self._owned(ctx, params, "s3:PutBucketLogging")
        status = params.get("BucketLoggingStatus")
        if status is None:
            raise errors.MalformedXML()
        enabled = status.get("LoggingEnabled")
        if not enabled:
            self.config.delete(record["name"], "logging")
            return {}
        target = self.storage.get_bucket(enabled.get("TargetBucket") or "")
        if target is None:
            raise errors.LoggingTargetMissing(enabled.get("TargetBucket"))
        if target["account"] != record["account"]:
            raise errors.LoggingTargetOwner(target["name"])
        if target["region"] != record["region"]:
            raise errors.CrossLocationLogging(target["region"])
        self.config.put(record["name"], "logging", {"LoggingEnabled": enabled})
        return {}

    # -- accelerate, request payment, replication ---------------------------------------
    def get_bucket_accelerate_configuration(self, ctx: RequestContext, params: dict) -> dict:
        record = self._owned(ctx, params, "s3:GetAccelerateConfiguration")
        status = self.config.get(record["name"], "accelerate")
        return {"Status": status} if status else {}

    def put_bucket_accelerate_configuration(self, ctx: RequestContext, params: dict) -> dict:
        record = self._owned(ctx, params, "s3:PutAccelerateConfiguration")
        status = (params.get("AccelerateConfiguration") or {}).get("Status")
        if status not in ("Enabled", "Suspended"):
            raise errors.MalformedXML()
        if "." in record["name"]:
            raise errors.AccelerateWithPeriods()
        self.config.put(record["name"], "accelerate", status)
        return {}

    def get_bucket_request_payment(self, ctx: RequestContext, params: dict) -> dict:
        record = self._owned(ctx, params, "s3:GetBucketRequestPayment")
        return {"Payer": self.config.get(record["name"], "request_payment") or "BucketOwner"}

    def put_bucket_request_payment(self, ctx: RequestContext, params: dict) -> dict:
        record = self._owned(ctx, params, "s3:PutBucketRequestPayment")
        payer = (params.get("RequestPaymentConfiguration") or {}).get("Payer")
        if payer not in ("Requester", "BucketOwner"):
            raise errors.MalformedXML()
        self.config.put(record["name"], "request_payment", payer)
        return {}

    def get_bucket_replication(self, ctx: RequestContext, params: dict) -> dict:
        record = self._owned(ctx, params, "s3:GetReplicationConfiguration")
        value = self.config.get(record["name"], "replication")
        if value is None:
            raise errors.ReplicationConfigurationNotFound(record["name"])
        return {"ReplicationConfiguration": value}

    def delete_bucket_replication(self, ctx: RequestContext, params: dict) -> dict:
        record = self._owned(ctx, params, "s3:PutReplicationConfiguration")
        self.config.delete(record["name"], "replication")
        return {}

