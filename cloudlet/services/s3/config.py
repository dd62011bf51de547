"""Bucket configuration: the subresources of a bucket, each with Get/Put/Delete.

Versioning (on the bucket record), lifecycle, policy, ACL, Block Public Access, Object
Ownership, CORS, tagging, default encryption, notifications, website, logging,
accelerate, request payment and replication. Values live in `s3_bucket_config`, one JSON
row per bucket and subresource (`BucketConfig`). Where AWS has a default for a new bucket
(Block Public Access all on, BucketOwnerEnforced, SSE-S3), no row means the default; a
deleted configuration with a default is a row holding `null`.

`BucketConfigOperations` is a mixin of `S3Provider`; it relies on the core's
`self.storage` and `self.bucket(ctx, name, action)`, and provides the core's hooks
`bucket_created`, `bucket_deleted` and `policy_allows`.
"""

from __future__ import annotations

import json
import secrets
import threading

from cloudlet import clock
from cloudlet.models import SERVICES
from cloudlet.services.base import RequestContext
from cloudlet.services.s3 import bucket_policy, cors, errors, lifecycle
from cloudlet.services.s3.bucket_policy import ALL_USERS, AUTHENTICATED_USERS
from cloudlet.services.s3.buckets import canonical_id, owner
from cloudlet.store import Store

DELETED = object()

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
BPA_FIELDS = ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets")
SSE_ALGORITHMS = ("AES256", "aws:kms", "aws:kms:dsse")
DEFAULT_ENCRYPTION = {"Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"},
                                 "BucketKeyEnabled": False}]}
NOTIFICATION_KINDS = {"TopicConfigurations": ("TopicArn", "sns"),
                      "QueueConfigurations": ("QueueArn", "sqs"),
                      "LambdaFunctionConfigurations": ("LambdaFunctionArn", "lambda")}


class BucketConfig:
    """The `s3_bucket_config` table: get/put/delete one subresource of one bucket."""

    def __init__(self, store: Store):
        self.db = store.db
        self._lock = threading.Lock()
        self.generation = 0  # bumped on every change, so sweepers and caches notice

    def get(self, bucket: str, name: str, default=None):
        rows = self.db.query("SELECT value FROM s3_bucket_config WHERE bucket = ? AND name = ?",
                             (bucket, name))
        if not rows:
            return default
        value = json.loads(rows[0]["value"])
        return DELETED if value is None else value

    def put(self, bucket: str, name: str, value) -> None:
        with self.db.transaction() as conn:
            conn.execute("INSERT OR REPLACE INTO s3_bucket_config VALUES (?, ?, ?, ?)",
                         (bucket, name, json.dumps(value, default=str), clock.timestamp()))
        self.generation += 1

    def delete(self, bucket: str, name: str, keep_marker: bool = False) -> None:
        if keep_marker:
            self.put(bucket, name, None)
            return
        with self.db.transaction() as conn:
            conn.execute("DELETE FROM s3_bucket_config WHERE bucket = ? AND name = ?",
                         (bucket, name))
        self.generation += 1

    def buckets_with(self, name: str) -> list[tuple[str, object]]:
        rows = self.db.query("SELECT bucket, value FROM s3_bucket_config WHERE name = ? AND "
                             "value != 'null'", (name,))
        return [(r["bucket"], json.loads(r["value"])) for r in rows]

    def drop_bucket(self, bucket: str) -> None:
        with self.db.transaction() as conn:
            conn.execute("DELETE FROM s3_bucket_config WHERE bucket = ?", (bucket,))
        self.generation += 1


class BucketConfigOperations(
    lifecycle.LifecycleOperations, cors.CorsOperations, bucket_policy.BucketPolicyOperations
):
    store: Store

    @property
    def config(self) -> BucketConfig:
        found = self.__dict__.get("_bucket_config")
        if found is None:
            found = self.__dict__["_bucket_config"] = BucketConfig(self.store)
        return found

    def _owned(self, ctx: RequestContext, params: dict, action: str) -> dict:
        return self.bucket(ctx, params["Bucket"], action)

    # -- the provider's life: the lifecycle sweeper, the peers that validate destinations
    def attach(self, providers: dict) -> None:
        super().attach(providers)
        self._peers = providers

    def start(self) -> None:
        super().start()
        self.start_lifecycle()

    def stop(self) -> None:
        self.stop_lifecycle()
        super().stop()

    # -- hooks the core calls -----------------------------------------------------------
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

    def bucket_deleted(self, name: str) -> None:
        self.config.drop_bucket(name)

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

    # -- tagging ------------------------------------------------------------------------
    def get_bucket_tagging(self, ctx: RequestContext, params: dict) -> dict:
        record = self._owned(ctx, params, "s3:GetBucketTagging")
        tags = self.config.get(record["name"], "tagging")
        if tags is None:
            raise errors.NoSuchTagSet(record["name"])
        return {"TagSet": tags}

    def put_bucket_tagging(self, ctx: RequestContext, params: dict) -> dict:
        record = self._owned(ctx, params, "s3:PutBucketTagging")
        tags = (params.get("Tagging") or {}).get("TagSet")
        if tags is None:
            raise errors.MalformedXML()
        check_tags(tags, limit=50)
        self.config.put(record["name"], "tagging", tags)
        return {}

    def delete_bucket_tagging(self, ctx: RequestContext, params: dict) -> dict:
        record = self._owned(ctx, params, "s3:PutBucketTagging")
        self.config.delete(record["name"], "tagging")
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

    # -- block public access ------------------------------------------------------------
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

    # -- notifications ------------------------------------------------------------------
    def get_bucket_notification_configuration(self, ctx: RequestContext, params: dict) -> dict:
        record = self._owned(ctx, params, "s3:GetBucketNotification")
        return self.config.get(record["name"], "notification") or {}

    def put_bucket_notification_configuration(self, ctx: RequestContext, params: dict) -> dict:
        record = self._owned(ctx, params, "s3:PutBucketNotification")
        config = params.get("NotificationConfiguration")
        if config is None:
            raise errors.MalformedXML()
        value, unvalidated = {}, []
        for kind, (arn_field, service) in NOTIFICATION_KINDS.items():
            items = []
            for item in config.get(kind) or []:
                arn = item.get(arn_field) or ""
                check_notification_events(item.get("Events") or [])
                check_filter_rules(((item.get("Filter") or {}).get("Key") or {}).get(
                    "FilterRules") or [])
                if not params.get("SkipDestinationValidation") and not self._destination_exists(
                        ctx, service, arn):
                    unvalidated.append(arn)
                items.append({"Id": item.get("Id") or secrets.token_hex(16), **item})
            if items:
                value[kind] = items
        if "EventBridgeConfiguration" in config:
            value["EventBridgeConfiguration"] = {}
        if unvalidated:
            raise errors.UnvalidatedDestinations(unvalidated)
        if value:
            self.config.put(record["name"], "notification", value)
        else:
            self.config.delete(record["name"], "notification")
        return {}

    def _destination_exists(self, ctx: RequestContext, service: str, arn: str) -> bool:
        """Asks the destination's provider (`notification_destination_exists(ctx, arn)`).
        A destination in a service Cloudlet serves whose provider cannot answer (Lambda,
        not written yet) cannot be validated and is accepted; one in a service Cloudlet
        does not serve (SQS) never exists."""
        peer = (getattr(self, "_peers", None) or {}).get(service)
        check = getattr(peer, "notification_destination_exists", None)
        if check is None:
            return service in SERVICES
        return bool(check(ctx, arn))

    def notification_targets(self, bucket: str, event: str, key: str) -> list[dict]:
        """The destinations (`{"Arn", "Id", "Service"}`) for an event ("s3:ObjectCreated:Put")
        on a key, by the bucket's notification configuration and its filters."""
        config = self.config.get(bucket, "notification") or {}
        found = []
        for kind, (arn_field, service) in NOTIFICATION_KINDS.items():
            for item in config.get(kind) or []:
                if matches_event(item.get("Events") or [], event) and matches_filter(
                        ((item.get("Filter") or {}).get("Key") or {}).get("FilterRules") or [],
                        key):
                    found.append({"Arn": item[arn_field], "Id": item["Id"], "Service": service})
        return found


def check_tags(tags: list[dict], limit: int) -> None:
    if len(tags) > limit:
        raise errors.TooManyBucketTags(limit)
    seen = set()
    for tag in tags:
        key, value = tag.get("Key"), tag.get("Value")
        if key is None or value is None:
            raise errors.MalformedXML()
        if key in seen:
            raise errors.DuplicateTagKey(key)
        seen.add(key)
        if key.lower().startswith("aws:"):
            raise errors.SystemTag()
        if not 1 <= len(key) <= 128:
            raise errors.InvalidTagKey(key)
        if len(value) > 256:
            raise errors.InvalidTagValue(key, value)


EVENT_NAMES = {
    "s3:TestEvent", "s3:ObjectCreated:*", "s3:ObjectCreated:Put", "s3:ObjectCreated:Post",
    "s3:ObjectCreated:Copy", "s3:ObjectCreated:CompleteMultipartUpload", "s3:ObjectRemoved:*",
    "s3:ObjectRemoved:Delete", "s3:ObjectRemoved:DeleteMarkerCreated", "s3:ObjectRestore:*",
    "s3:ObjectRestore:Post", "s3:ObjectRestore:Completed", "s3:ObjectRestore:Delete",
    "s3:ReducedRedundancyLostObject", "s3:Replication:*",
    "s3:Replication:OperationFailedReplication", "s3:Replication:OperationNotTracked",
    "s3:Replication:OperationMissedThreshold",
    "s3:Replication:OperationReplicatedAfterThreshold", "s3:ObjectTagging:*",
    "s3:ObjectTagging:Put", "s3:ObjectTagging:Delete", "s3:ObjectAcl:Put",
    "s3:LifecycleExpiration:*", "s3:LifecycleExpiration:Delete",
    "s3:LifecycleExpiration:DeleteMarkerCreated", "s3:LifecycleTransition",
    "s3:IntelligentTiering",
}


def check_notification_events(events: list[str]) -> None:
    for event in events:
        if event not in EVENT_NAMES:
            raise errors.InvalidArgument("The event is not supported for notifications",
                                         name="Event", value=event)


def check_filter_rules(rules: list[dict]) -> None:
    names = [(r.get("Name") or "").lower() for r in rules]
    for name in names:
        if name not in ("prefix", "suffix"):
            raise errors.InvalidArgument("filter rule name must be either prefix or suffix",
                                         name="FilterRule.Name", value=name)
    if len(set(names)) != len(names):
        raise errors.InvalidArgument("Cannot specify more than one prefix rule in a filter."
                                     if names.count("prefix") > 1 else
                                     "Cannot specify more than one suffix rule in a filter.",
                                     name="FilterRule.Name", value=names[0])


def matches_event(patterns: list[str], event: str) -> bool:
    return any(p == event or (p.endswith(":*") and event.startswith(p[:-1])) for p in patterns)


def matches_filter(rules: list[dict], key: str) -> bool:
    for rule in rules:
        name, value = (rule.get("Name") or "").lower(), rule.get("Value") or ""
        if name == "prefix" and not key.startswith(value):
            return False
        if name == "suffix" and not key.endswith(value):
            return False
    return True


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


__all__ = ["BucketConfigOperations", "BucketConfig", "canonical_id"]
