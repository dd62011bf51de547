"""The S3 provider: one class composed of its operation families.

    buckets.py          CreateBucket, DeleteBucket, HeadBucket, ListBuckets,
                        GetBucketLocation; the bucket lookup and access check all use
    object_writes.py    PutObject, PostObject; streaming bytes in with their digests, and
                        committing a version under conditional writes
    object_reads.py     GetObject, HeadObject (preconditions, ranges, part numbers)
    object_deletes.py   DeleteObject, DeleteObjects
    object_copy.py      CopyObject, and the copy source UploadPartCopy reads too
    multipart.py        CreateMultipartUpload, UploadPart, UploadPartCopy,
                        CompleteMultipartUpload, AbortMultipartUpload, ListParts,
                        ListMultipartUploads
    listing.py          ListObjects, ListObjectsV2, ListObjectVersions
    tagging.py          Get/Put/DeleteBucketTagging, Get/Put/DeleteObjectTagging
    acl.py              Get/PutBucketAcl, Get/PutObjectAcl,
                        Get/Put/DeleteBucketOwnershipControls
    public_access.py    Get/Put/DeletePublicAccessBlock
    bucket_policy.py    Get/Put/DeleteBucketPolicy, GetBucketPolicyStatus; judging anonymous
                        and cross-account requests by the policy
    object_lock.py      Get/PutObjectLockConfiguration, Get/PutObjectRetention,
                        Get/PutObjectLegalHold
    lifecycle.py        Get/Put/DeleteBucketLifecycle(Configuration), RestoreObject; the
                        sweeper that applies the rules
    cors.py             Get/Put/DeleteBucketCors; the preflight and CORS headers the gateway
                        asks for
    notifications.py    Get/PutBucketNotificationConfiguration; the events on the bus
    bucket_settings.py  Get/PutBucketVersioning, Get/Put/DeleteBucketEncryption,
                        Get/Put/DeleteBucketWebsite, Get/PutBucketLogging,
                        Get/PutBucketAccelerateConfiguration, Get/PutBucketRequestPayment,
                        Get/DeleteBucketReplication

What they share: storage.py (buckets, versions, uploads and blobs), bucket_config.py (the
configuration subresources' table), object_meta.py, checksums.py, conditions.py and
errors.py. reads.py is what other services may read of S3.
"""

from __future__ import annotations

from cloudlet.services.base import Provider
from cloudlet.services.s3.acl import AclOperations
from cloudlet.services.s3.bucket_config import BucketConfigOperations
from cloudlet.services.s3.bucket_policy import BucketPolicyOperations
from cloudlet.services.s3.bucket_settings import BucketSettingsOperations
from cloudlet.services.s3.buckets import BucketOperations
from cloudlet.services.s3.cors import CorsOperations
from cloudlet.services.s3.lifecycle import LifecycleOperations
from cloudlet.services.s3.listing import ListingOperations
from cloudlet.services.s3.multipart import MultipartOperations
from cloudlet.services.s3.notifications import NotificationOperations
from cloudlet.services.s3.object_copy import ObjectCopyOperations
from cloudlet.services.s3.object_deletes import ObjectDeleteOperations
from cloudlet.services.s3.object_lock import ObjectLockOperations
from cloudlet.services.s3.object_reads import ObjectReadOperations
from cloudlet.services.s3.object_writes import ObjectWriteOperations
from cloudlet.services.s3.public_access import PublicAccessOperations
from cloudlet.services.s3.reads import S3Reads
from cloudlet.services.s3.storage import S3Storage
from cloudlet.services.s3.tagging import TaggingOperations


class S3Provider(
    LifecycleOperations,  # before ObjectReadOperations: HeadObject passes the archive gate
    BucketOperations,
    ObjectWriteOperations,
    ObjectReadOperations,
    ObjectDeleteOperations,
    ObjectCopyOperations,
    MultipartOperations,
    ListingOperations,
    TaggingOperations,
    AclOperations,
    PublicAccessOperations,
    BucketPolicyOperations,
    ObjectLockOperations,
    CorsOperations,
    NotificationOperations,
    BucketSettingsOperations,
    BucketConfigOperations,
    Provider,
):
    service = "s3"

    def __init__(self, store, bus=None):
        super().__init__(store, bus)
        self.storage = S3Storage(store)
        # what other services (and the authorizer) may read of S3
        self.reads = S3Reads(self.storage, lambda bucket: self.config.get(bucket, "policy"))

    def start(self) -> None:
        super().start()
        self.storage.start()

    def stop(self) -> None:
        super().stop()
        self.storage.close()
