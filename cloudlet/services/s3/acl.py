"""ACLs and Object Ownership: bucket and object grants (canned, x-amz-grant-* headers or a
body), and the ownership setting that disables them (BucketOwnerEnforced, the default).

`bucket_created` is the core's hook: CreateBucket's ObjectOwnership and ACL headers."""

from __future__ import annotations

from cloudlet.services.base import RequestContext
from cloudlet.services.s3 import errors
from cloudlet.services.s3.bucket_config import DELETED
from cloudlet.services.s3.bucket_policy import ALL_USERS, AUTHENTICATED_USERS
from cloudlet.services.s3.buckets import owner
from cloudlet.services.s3.storage import S3Storage

LOG_DELIVERY = "http://acs.amazonaws.com/groups/s3/LogDelivery"
CANNED_ACLS = {
    "private": [],
    "public-read": [(ALL_USERS, "READ")],
    "public-read-write": [(ALL_USERS, "READ"), (ALL_USERS, "WRITE")],
    "authenticated-read": [(AUTHENTICATED_USERS, "READ")],
    "log-delivery-write": [(LOG_DELIVERY, "WRITE"), (LOG_DELIVERY, "READ_ACP")],
    "bucket-owner-read": [],
    "bucket-owner-full-control": [],
}
PERMISSIONS = ("FULL_CONTROL", "WRITE", "WRITE_ACP", "READ", "READ_ACP")
GRANT_HEADERS = {"GrantFullControl": "FULL_CONTROL", "GrantRead": "READ",
                 "GrantReadACP": "READ_ACP", "GrantWrite": "WRITE", "GrantWriteACP": "WRITE_ACP"}
OWNERSHIPS = ("BucketOwnerEnforced", "BucketOwnerPreferred", "ObjectWriter")


class AclOperations:
    storage: S3Storage

    # -- the core's hook: CreateBucket's ownership and ACL ---------------------------------
    def bucket_created(self, ctx: RequestContext, name: str, params: dict) -> None:
        ownership = params.get("ObjectOwnership")
        if ownership and ownership != "BucketOwnerEnforced":
            self.config.put(name, "ownership", {"Rules": [{"ObjectOwnership": ownership}]})
        grants = self._requested_grants(ctx.account_id, params)
        if grants is not None:
            try:
                self._check_acl_allowed(name, grants, params.get("ACL"))
            except errors.S3Error as error:
                self.storage.delete_bucket(name)
                self.config.drop_bucket(name)
                if isinstance(error, errors.AccessControlListNotSupported):
                    raise errors.InvalidBucketAclWithObjectOwnership() from None
                if isinstance(error, errors.AccessDenied):
                    raise errors.InvalidBucketAclWithBlockPublicAccess() from None
                raise
            self.config.put(name, "acl", grants)

    # -- object ownership ---------------------------------------------------------------
    def ownership(self, bucket: str) -> str | None:
        value = self.config.get(bucket, "ownership")
        if value is None:
            return "BucketOwnerEnforced"
        if value is DELETED:
            return None
        return value["Rules"][0]["ObjectOwnership"]

    def get_bucket_ownership_controls(self, ctx: RequestContext, params: dict) -> dict:
        record = self._owned(ctx, params, "s3:GetBucketOwnershipControls")
        ownership = self.ownership(record["name"])
        if ownership is None:
            raise errors.OwnershipControlsNotFound(record["name"])
        return {"OwnershipControls": {"Rules": [{"ObjectOwnership": ownership}]}}

    def put_bucket_ownership_controls(self, ctx: RequestContext, params: dict) -> dict:
        record = self._owned(ctx, params, "s3:PutBucketOwnershipControls")
        rules = (params.get("OwnershipControls") or {}).get("Rules") or []
        if len(rules) != 1 or rules[0].get("ObjectOwnership") not in OWNERSHIPS:
            raise errors.MalformedXML()
        value = rules[0]["ObjectOwnership"]
        if value == "BucketOwnerEnforced" and self._acl_grants(record) != self._owner_grants(
                record["account"]):
            raise errors.InvalidBucketAclWithObjectOwnership()
        self.config.put(record["name"], "ownership", {"Rules": [{"ObjectOwnership": value}]})
        return {}

    def delete_bucket_ownership_controls(self, ctx: RequestContext, params: dict) -> dict:
        record = self._owned(ctx, params, "s3:PutBucketOwnershipControls")
        self.config.delete(record["name"], "ownership", keep_marker=True)
        return {}

    # -- ACL ----------------------------------------------------------------------------
    @staticmethod
    def _owner_grants(account: str) -> list[dict]:
        return [{"Grantee": {"Type": "CanonicalUser", **owner(account)},
                 "Permission": "FULL_CONTROL"}]

    def _acl_grants(self, record: dict) -> list[dict]:
        grants = self.config.get(record["name"], "acl")
        return grants if isinstance(grants, list) else self._owner_grants(record["account"])

    def _requested_grants(self, account: str, params: dict) -> list[dict] | None:
        """The grants a request sets with x-amz-acl, x-amz-grant-* or a body; None if none."""
        canned = params.get("ACL")
        headers = {k: params[k] for k in GRANT_HEADERS if params.get(k)}
        body = params.get("AccessControlPolicy")
        if sum(bool(x) for x in (canned, headers, body)) > 1:
            raise errors.CannedAclWithGrants() if canned and headers else errors.AclWithContent()
        if canned:
            if canned not in CANNED_ACLS:
                raise errors.InvalidArgument("", name="x-amz-acl", value=canned)
            return self._owner_grants(account) + [
                {"Grantee": {"Type": "Group", "URI": uri}, "Permission": permission}
                for uri, permission in CANNED_ACLS[canned]]
        if headers:
            grants = []
            for name, text in headers.items():
                for grantee in _grantees(text):
                    grants.append({"Grantee": grantee, "Permission": GRANT_HEADERS[name]})
            return grants
        if body:
            grants = body.get("Grants") or []
            for grant in grants:
                grantee = grant.get("Grantee") or {}
                if grant.get("Permission") not in PERMISSIONS or grantee.get("Type") not in (
                        "CanonicalUser", "Group", "AmazonCustomerByEmail"):
                    raise errors.MalformedXML()
                if grantee["Type"] == "CanonicalUser" and not grantee.get("ID"):
                    raise errors.InvalidArgument("Invalid id", name="CanonicalUser/ID", value="")
                if grantee["Type"] == "Group" and not grantee.get("URI"):
                    raise errors.InvalidArgument("Invalid group uri", name="Group/URI", value="")
            return grants
        return None

    def _check_acl_allowed(self, bucket: str, grants: list[dict], canned: str | None) -> None:
        owner_only = all(g["Grantee"].get("Type") == "CanonicalUser" and
                         g["Permission"] == "FULL_CONTROL" for g in grants)
        if self.ownership(bucket) == "BucketOwnerEnforced" and not (
                canned in ("private", "bucket-owner-full-control") or (not canned and owner_only)):
            raise errors.AccessControlListNotSupported()
        public = any(g["Grantee"].get("URI") in (ALL_USERS, AUTHENTICATED_USERS) for g in grants)
        if public and self.public_access_block(bucket)["BlockPublicAcls"]:
            raise errors.AccessDenied()

    def get_bucket_acl(self, ctx: RequestContext, params: dict) -> dict:
        record = self._owned(ctx, params, "s3:GetBucketAcl")
        return {"Owner": owner(record["account"]), "Grants": self._acl_grants(record)}

    def put_bucket_acl(self, ctx: RequestContext, params: dict) -> dict:
        record = self._owned(ctx, params, "s3:PutBucketAcl")
        grants = self._requested_grants(record["account"], params)
        if grants is None:
            raise errors.MissingSecurityHeader("x-amz-acl")
        self._check_acl_allowed(record["name"], grants, params.get("ACL"))
        self.config.put(record["name"], "acl", grants)
        return {}

    # -- object ACLs --------------------------------------------------------------------
    def requested_acl(self, ctx: RequestContext, bucket: dict, params: dict, meta: dict) -> None:
        """A write's x-amz-acl / x-amz-grant-*: refused where the bucket's Object Ownership
        disables ACLs (the default), kept on the version otherwise."""
        grants = self._requested_grants(ctx.account_id, params)
        if grants is not None:
            self._check_acl_allowed(bucket["name"], grants, params.get("ACL"))
            meta["acl"] = grants

    def get_object_acl(self, ctx: RequestContext, params: dict) -> dict:
        record = self.subresource_version(ctx, params, "s3:GetObjectAcl")
        mine = owner(record["owner"])
        grants = record.get("acl") or [{"Grantee": {"Type": "CanonicalUser", **mine},
                                        "Permission": "FULL_CONTROL"}]
        return {"Owner": mine, "Grants": grants}

    def put_object_acl(self, ctx: RequestContext, params: dict) -> dict:
        record = self.subresource_version(ctx, params, "s3:PutObjectAcl")
        bucket = self.storage.get_bucket(record["bucket"])
        meta: dict = {}
        self.requested_acl(ctx, bucket, params, meta)
        if "acl" not in meta:
            raise errors.MissingSecurityHeader("x-amz-acl")
        self.storage.update_meta(record["bucket"], record["key"], record["version_id"],
                                 acl=meta["acl"])
        return {}


def _grantees(text: str) -> list[dict]:
    """`id="...", uri="...", emailAddress="..."` from an x-amz-grant-* header."""
    grantees = []
    for part in text.split(","):
        kind, _, value = part.strip().partition("=")
        value = value.strip().strip('"')
        kind = kind.strip().lower()
        if kind == "id":
            grantees.append({"Type": "CanonicalUser", "ID": value})
        elif kind == "uri":
            grantees.append({"Type": "Group", "URI": value})
        elif kind == "emailaddress":
            grantees.append({"Type": "AmazonCustomerByEmail", "EmailAddress": value})
        else:
            raise errors.InvalidArgument("Argument format not recognized", name=kind, value=value)
    return grantees


