"""S3's operations and the IAM actions they ask for, written once.

S3's API names and its IAM actions part ways more than any other service's: listing a
bucket is `s3:ListBucket`, reading a bucket's CORS is `s3:GetBucketCORS`, deleting a
lifecycle is `s3:PutLifecycleConfiguration`, a versioned read is `s3:GetObjectVersion`,
and a copy reads one object and writes another. Each row names the action and whether it
acts on the bucket, the object, or nothing in particular (`*`).
"""

from __future__ import annotations

from urllib.parse import unquote

from cloudlet.authz.declarations import Check, Declaration, Scope, action_name

BUCKET, OBJECT, ANY = "bucket", "object", "*"

# operation -> (action, resource kind); "+Version" switches to the Version action when the
# request names a VersionId.
TABLE: dict[str, tuple[str, str]] = {
    "AbortMultipartUpload": ("AbortMultipartUpload", OBJECT),
    "CompleteMultipartUpload": ("PutObject", OBJECT),
    "CreateBucket": ("CreateBucket", BUCKET),
    "CreateBucketMetadataConfiguration": ("CreateBucketMetadataTableConfiguration", BUCKET),
    "CreateBucketMetadataTableConfiguration": ("CreateBucketMetadataTableConfiguration", BUCKET),
    "CreateMultipartUpload": ("PutObject", OBJECT),
    "DeleteBucket": ("DeleteBucket", BUCKET),
    "DeleteBucketAnalyticsConfiguration": ("PutAnalyticsConfiguration", BUCKET),
    "DeleteBucketCors": ("PutBucketCORS", BUCKET),
    "DeleteBucketEncryption": ("PutEncryptionConfiguration", BUCKET),
    "DeleteBucketIntelligentTieringConfiguration": ("PutIntelligentTieringConfiguration", BUCKET),
    "DeleteBucketInventoryConfiguration": ("PutInventoryConfiguration", BUCKET),
    "DeleteBucketLifecycle": ("PutLifecycleConfiguration", BUCKET),
    "DeleteBucketMetadataConfiguration": ("DeleteBucketMetadataTableConfiguration", BUCKET),
    "DeleteBucketMetadataTableConfiguration": ("DeleteBucketMetadataTableConfiguration", BUCKET),
    "DeleteBucketMetricsConfiguration": ("PutMetricsConfiguration", BUCKET),
    "DeleteBucketOwnershipControls": ("PutBucketOwnershipControls", BUCKET),
    "DeleteBucketPolicy": ("DeleteBucketPolicy", BUCKET),
    "DeleteBucketReplication": ("PutReplicationConfiguration", BUCKET),
    "DeleteBucketTagging": ("PutBucketTagging", BUCKET),
    "DeleteBucketWebsite": ("DeleteBucketWebsite", BUCKET),
    "DeleteObject": ("DeleteObject+Version", OBJECT),
    "DeleteObjectAnnotation": ("DeleteObjectAnnotation+Version", OBJECT),
    "DeleteObjectTagging": ("DeleteObjectTagging+Version", OBJECT),
    "DeletePublicAccessBlock": ("PutBucketPublicAccessBlock", BUCKET),
    "GetBucketAbac": ("GetBucketAbac", BUCKET),
    "GetBucketAccelerateConfiguration": ("GetAccelerateConfiguration", BUCKET),
    "GetBucketAcl": ("GetBucketAcl", BUCKET),
    "GetBucketAnalyticsConfiguration": ("GetAnalyticsConfiguration", BUCKET),
    "GetBucketCors": ("GetBucketCORS", BUCKET),
    "GetBucketEncryption": ("GetEncryptionConfiguration", BUCKET),
    "GetBucketIntelligentTieringConfiguration": ("GetIntelligentTieringConfiguration", BUCKET),
    "GetBucketInventoryConfiguration": ("GetInventoryConfiguration", BUCKET),
    "GetBucketLifecycle": ("GetLifecycleConfiguration", BUCKET),
    "GetBucketLifecycleConfiguration": ("GetLifecycleConfiguration", BUCKET),
    "GetBucketLocation": ("GetBucketLocation", BUCKET),
    "GetBucketLogging": ("GetBucketLogging", BUCKET),
    "GetBucketMetadataConfiguration": ("GetBucketMetadataTableConfiguration", BUCKET),
    "GetBucketMetadataTableConfiguration": ("GetBucketMetadataTableConfiguration", BUCKET),
    "GetBucketMetricsConfiguration": ("GetMetricsConfiguration", BUCKET),
    "GetBucketNotification": ("GetBucketNotification", BUCKET),
    "GetBucketNotificationConfiguration": ("GetBucketNotification", BUCKET),
    "GetBucketOwnershipControls": ("GetBucketOwnershipControls", BUCKET),
    "GetBucketPolicy": ("GetBucketPolicy", BUCKET),
    "GetBucketPolicyStatus": ("GetBucketPolicyStatus", BUCKET),
    "GetBucketReplication": ("GetReplicationConfiguration", BUCKET),
    "GetBucketRequestPayment": ("GetBucketRequestPayment", BUCKET),
    "GetBucketTagging": ("GetBucketTagging", BUCKET),
    "GetBucketVersioning": ("GetBucketVersioning", BUCKET),
    "GetBucketWebsite": ("GetBucketWebsite", BUCKET),
    "GetObject": ("GetObject+Version", OBJECT),
    "GetObjectAcl": ("GetObjectAcl+Version", OBJECT),
    "GetObjectAnnotation": ("GetObjectAnnotation+Version", OBJECT),
    "GetObjectAttributes": ("GetObjectAttributes+Version", OBJECT),
    "GetObjectLegalHold": ("GetObjectLegalHold", OBJECT),
    "GetObjectLockConfiguration": ("GetBucketObjectLockConfiguration", BUCKET),
    "GetObjectRetention": ("GetObjectRetention", OBJECT),
    "GetObjectTagging": ("GetObjectTagging+Version", OBJECT),
    "GetObjectTorrent": ("GetObjectTorrent+Version", OBJECT),
    "GetPublicAccessBlock": ("GetBucketPublicAccessBlock", BUCKET),
    "HeadBucket": ("ListBucket", BUCKET),
    "HeadObject": ("GetObject+Version", OBJECT),
    "ListBucketAnalyticsConfigurations": ("GetAnalyticsConfiguration", BUCKET),
    "ListBucketIntelligentTieringConfigurations": ("GetIntelligentTieringConfiguration", BUCKET),
    "ListBucketInventoryConfigurations": ("GetInventoryConfiguration", BUCKET),
    "ListBucketMetricsConfigurations": ("GetMetricsConfiguration", BUCKET),
    "ListBuckets": ("ListAllMyBuckets", ANY),
    "ListMultipartUploads": ("ListBucketMultipartUploads", BUCKET),
    "ListObjectAnnotations": ("ListObjectAnnotations+Version", OBJECT),
    "ListObjectVersions": ("ListBucketVersions", BUCKET),
    "ListObjects": ("ListBucket", BUCKET),
    "ListObjectsV2": ("ListBucket", BUCKET),
    "ListParts": ("ListMultipartUploadParts", OBJECT),
    "PutBucketAbac": ("PutBucketAbac", BUCKET),
    "PutBucketAccelerateConfiguration": ("PutAccelerateConfiguration", BUCKET),
    "PutBucketAcl": ("PutBucketAcl", BUCKET),
    "PutBucketAnalyticsConfiguration": ("PutAnalyticsConfiguration", BUCKET),
    "PutBucketCors": ("PutBucketCORS", BUCKET),
    "PutBucketEncryption": ("PutEncryptionConfiguration", BUCKET),
    "PutBucketIntelligentTieringConfiguration": ("PutIntelligentTieringConfiguration", BUCKET),
    "PutBucketInventoryConfiguration": ("PutInventoryConfiguration", BUCKET),
    "PutBucketLifecycle": ("PutLifecycleConfiguration", BUCKET),
    "PutBucketLifecycleConfiguration": ("PutLifecycleConfiguration", BUCKET),
    "PutBucketLogging": ("PutBucketLogging", BUCKET),
    "PutBucketMetricsConfiguration": ("PutMetricsConfiguration", BUCKET),
    "PutBucketNotification": ("PutBucketNotification", BUCKET),
    "PutBucketNotificationConfiguration": ("PutBucketNotification", BUCKET),
    "PutBucketOwnershipControls": ("PutBucketOwnershipControls", BUCKET),
    "PutBucketPolicy": ("PutBucketPolicy", BUCKET),
    "PutBucketReplication": ("PutReplicationConfiguration", BUCKET),
    "PutBucketRequestPayment": ("PutBucketRequestPayment", BUCKET),
    "PutBucketTagging": ("PutBucketTagging", BUCKET),
    "PutBucketVersioning": ("PutBucketVersioning", BUCKET),
    "PutBucketWebsite": ("PutBucketWebsite", BUCKET),
    "PutObject": ("PutObject", OBJECT),
    "PostObject": ("PutObject", OBJECT),  # a browser upload (the S3 codec's synthetic operation)
    "PutObjectAcl": ("PutObjectAcl+Version", OBJECT),
    "PutObjectAnnotation": ("PutObjectAnnotation+Version", OBJECT),
    "PutObjectLegalHold": ("PutObjectLegalHold", OBJECT),
    "PutObjectLockConfiguration": ("PutBucketObjectLockConfiguration", BUCKET),
    "PutObjectRetention": ("PutObjectRetention", OBJECT),
    "PutObjectTagging": ("PutObjectTagging+Version", OBJECT),
    "PutPublicAccessBlock": ("PutBucketPublicAccessBlock", BUCKET),
    "RestoreObject": ("RestoreObject", OBJECT),
    "SelectObjectContent": ("GetObject", OBJECT),
    "UpdateBucketMetadataAnnotationTableConfiguration": (
        "UpdateBucketMetadataAnnotationTableConfiguration", BUCKET),
    "UpdateBucketMetadataInventoryTableConfiguration": (
        "UpdateBucketMetadataInventoryTableConfiguration", BUCKET),
    "UpdateBucketMetadataJournalTableConfiguration": (
        "UpdateBucketMetadataJournalTableConfiguration", BUCKET),
    "UpdateObjectEncryption": ("UpdateObjectEncryption", OBJECT),
    "UploadPart": ("PutObject", OBJECT),
}

# Operations of other prefixes (S3 Express's s3express:, S3 Object Lambda's), not declared.
OTHER_PREFIXES = {"CreateSession", "ListDirectoryBuckets", "RenameObject", "WriteGetObjectResponse"}

_ACL_GRANTS = ("ACL", "GrantFullControl", "GrantRead", "GrantReadACP", "GrantWrite", "GrantWriteACP")


def arn(bucket: str | None, key: str | None = None) -> str:
    if not bucket:
        return "*"
    return f"arn:aws:s3:::{bucket}" if key is None else f"arn:aws:s3:::{bucket}/{key}"


def keys(params: dict) -> dict[str, str]:
    """S3's own condition keys for this request."""
    context = {}
    for member, key in (("Prefix", "s3:prefix"), ("Delimiter", "s3:delimiter"),
                        ("MaxKeys", "s3:max-keys"), ("ACL", "s3:x-amz-acl"),
                        ("VersionId", "s3:versionid"),
                        ("ServerSideEncryption", "s3:x-amz-server-side-encryption"),
                        ("StorageClass", "s3:x-amz-storage-class"),
                        ("MetadataDirective", "s3:x-amz-metadata-directive"),
                        ("ObjectLockMode", "s3:object-lock-mode"),
                        ("ObjectLockLegalHoldStatus", "s3:object-lock-legal-hold"),
                        ("GrantFullControl", "s3:x-amz-grant-full-control"),
                        ("GrantRead", "s3:x-amz-grant-read"),
                        ("GrantWrite", "s3:x-amz-grant-write")):
        if params.get(member) is not None:
            context[key] = str(params[member])
    return context


def copy_source(value: str) -> tuple[str, str, str | None]:
    """`bucket/key?versionId=v` (URL-encoded, maybe with a leading slash)."""
    path, _, query = value.lstrip("/").partition("?")
    bucket, _, key = unquote(path).partition("/")
    version = query.split("versionId=", 1)[1].split("&", 1)[0] if "versionId=" in query else None
    return bucket, key, version


def s3_declaration(operation: str) -> Declaration | None:
    if operation == "DeleteObjects":
        return Declaration("s3", operation, _delete_objects)
    if operation in ("CopyObject", "UploadPartCopy"):
        return Declaration("s3", operation, _copy)
    row = TABLE.get(operation)
    if row is None:
        return None
    name, kind = row
    versioned = name.endswith("+Version")
    base = name.removesuffix("+Version")
    action = action_name("s3", base)
    version_action = action_name("s3", base.replace("Object", "ObjectVersion", 1)) if versioned else None
    if action is None:
        return None

    def build(params: dict, scope: Scope) -> list[Check]:
        chosen = version_action if version_action and params.get("VersionId") else action
        resource = (arn(params.get("Bucket"), params.get("Key", "")) if kind == OBJECT
                    else arn(params.get("Bucket")) if kind == BUCKET else "*")
        checks = [Check(chosen, resource, keys(params))]
        if operation in ("PutObject", "PostObject"):
            if any(params.get(m) for m in _ACL_GRANTS):
                checks.append(Check("s3:PutObjectAcl", resource, keys(params)))
            if params.get("Tagging"):
                checks.append(Check("s3:PutObjectTagging", resource, keys(params)))
        return checks

    return Declaration("s3", operation, build)


def _delete_objects(params: dict, scope: Scope) -> list[Check]:
    bucket = params.get("Bucket")
    objects = (params.get("Delete") or {}).get("Objects") or []
    return [Check("s3:DeleteObjectVersion" if o.get("VersionId") else "s3:DeleteObject",
                  arn(bucket, o.get("Key", ""))) for o in objects] or [
        Check("s3:DeleteObject", arn(bucket, ""))]


def _copy(params: dict, scope: Scope) -> list[Check]:
    bucket, key, version = copy_source(str(params.get("CopySource", "")))
    destination = arn(params.get("Bucket"), params.get("Key", ""))
    checks = [Check("s3:GetObjectVersion" if version else "s3:GetObject", arn(bucket, key)),
              Check("s3:PutObject", destination, keys(params))]
    if any(params.get(m) for m in _ACL_GRANTS):
        checks.append(Check("s3:PutObjectAcl", destination, keys(params)))
    if params.get("Tagging") and params.get("TaggingDirective") == "REPLACE":
        checks.append(Check("s3:PutObjectTagging", destination, keys(params)))
    return checks
