"""Block Public Access: the bucket's four settings (all on for a new bucket), which bucket
policies and ACLs consult."""

from __future__ import annotations

from cloudlet.services.base import RequestContext
from cloudlet.services.s3 import errors
from cloudlet.services.s3.bucket_config import DELETED
from cloudlet.services.s3.storage import S3Storage

BPA_FIELDS = ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets")


class PublicAccessOperations:
    storage: S3Storage

    def public_access_block(self, bucket: str) -> dict:
        """The bucket's settings; all four on for a new bucket, all off once deleted."""
        value = self.config.get(bucket, "public_access_block")
        if value is None:
            return dict.fromkeys(BPA_FIELDS, True)
        if value is DELETED:
            return dict.fromkeys(BPA_FIELDS, False)
        return value

    def get_public_access_block(self, ctx: RequestContext, params: dict) -> dict:
        record = self._owned(ctx, params, "s3:GetBucketPublicAccessBlock")
        if self.config.get(record["name"], "public_access_block") is DELETED:
            raise errors.NoSuchPublicAccessBlockConfiguration(record["name"])
        return {"PublicAccessBlockConfiguration": self.public_access_block(record["name"])}

    def put_public_access_block(self, ctx: RequestContext, params: dict) -> dict:
        record = self._owned(ctx, params, "s3:PutBucketPublicAccessBlock")
        given = params.get("PublicAccessBlockConfiguration")
        if given is None:
            raise errors.MalformedXML()
        value = {name: bool(given.get(name, False)) for name in BPA_FIELDS}
        self.config.put(record["name"], "public_access_block", value)
        return {}

    def delete_public_access_block(self, ctx: RequestContext, params: dict) -> dict:
        record = self._owned(ctx, params, "s3:PutBucketPublicAccessBlock")
        self.config.delete(record["name"], "public_access_block", keep_marker=True)
        return {}

