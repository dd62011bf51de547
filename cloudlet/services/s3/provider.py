"""The S3 provider: one class composed of its operation families.

    buckets.py      Create/Delete/Head/ListBuckets, GetBucketLocation
    objects.py      Put/Get/Head/Delete/Copy object, DeleteObjects, object tagging, ACLs and
                    lock, event notifications
    listing.py      ListObjects, ListObjectsV2, ListObjectVersions
    multipart.py    multipart uploads
    config.py       bucket configuration subresources (versioning, lifecycle, policy, CORS,
                    tagging, encryption, ownership, public access block, ACL, website,
                    logging, notification)
    storage.py      the data access all of them share
"""

from __future__ import annotations

from cloudlet.services.base import Provider
from cloudlet.services.s3.buckets import BucketOperations
from cloudlet.services.s3.config import BucketConfigOperations
from cloudlet.services.s3.listing import ListingOperations
from cloudlet.services.s3.multipart import MultipartOperations
from cloudlet.services.s3.objects import ObjectOperations
from cloudlet.services.s3.storage import S3Storage


class S3Provider(BucketConfigOperations, BucketOperations, ObjectOperations, ListingOperations,
                 MultipartOperations, Provider):
    service = "s3"

    def __init__(self, store, bus=None):
        super().__init__(store, bus)
        self.storage = S3Storage(store)
