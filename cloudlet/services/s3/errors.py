"""S3's errors, each declared once, with AWS's code, status and words.

A class carries its code, status and message; its constructor takes what the message and
the error's extra XML elements (`BucketName`, `Key`, ...) are made of. `InvalidArgument`
and `MalformedPolicy` alone take their message where they arise: the first names the
argument (`ArgumentName`, `ArgumentValue`), the second passes IAM's grammar errors on.
"""

from __future__ import annotations

from cloudlet.errors import ServiceError


class S3Error(ServiceError):
    status = 400

    def __init__(self, message: str | None = None, *, headers: dict | None = None, **fields):
        super().__init__(message, headers=headers,
                         fields={name: str(value) for name, value in fields.items()})


# -- shared: the codes of many messages, and errors every family raises --------------------
class InvalidRequest(S3Error):
    code = "InvalidRequest"


class InvalidArgument(S3Error):
    code = "InvalidArgument"

    def __init__(self, message: str, *, name: str | None = None, value=None):
        fields = {} if name is None else {"ArgumentName": name,
                                          "ArgumentValue": "" if value is None else value}
        super().__init__(message, **fields)


class BadRequest(S3Error):
    code = "BadRequest"


class BadDigest(S3Error):
    code = "BadDigest"


class InvalidTag(S3Error):
    code = "InvalidTag"


class InvalidBucketState(S3Error):
    code = "InvalidBucketState"
    status = 409


class InvalidObjectState(S3Error):
    code = "InvalidObjectState"
    status = 403

    def __init__(self, storage_class: str):
        super().__init__(StorageClass=storage_class)


class BucketError(S3Error):  # an error about one bucket, which it names
    def __init__(self, bucket: str):
        super().__init__(BucketName=bucket)


class NoSuchConfiguration(BucketError):  # a bucket subresource that is not configured
    status = 404


class MalformedXML(S3Error):
    code = "MalformedXML"
    message = ("The XML you provided was not well-formed or did not validate against our "
               "published schema")


class AccessDenied(S3Error):
    code = "AccessDenied"
    status = 403
    message = "Access Denied"


# -- buckets -------------------------------------------------------------------------------
class NoSuchBucket(BucketError):
    code = "NoSuchBucket"
    status = 404
    message = "The specified bucket does not exist"


class InvalidBucketName(BucketError):
    code = "InvalidBucketName"
    message = "The specified bucket is not valid."


class BucketAlreadyExists(BucketError):
    code = "BucketAlreadyExists"
    status = 409
    message = ("The requested bucket name is not available. The bucket namespace is shared by "
               "all users of the system. Please select a different name and try again.")


class BucketAlreadyOwnedByYou(BucketError):
    code = "BucketAlreadyOwnedByYou"
    status = 409
    message = "Your previous request to create the named bucket succeeded and you already own it."


class BucketNotEmpty(BucketError):
    code = "BucketNotEmpty"
    status = 409
    message = "The bucket you tried to delete is not empty"


class IllegalLocationConstraint(S3Error):  # sent to another region's endpoint; None: no constraint
    code = "IllegalLocationConstraintException"

    def __init__(self, constraint: str | None):
        super().__init__(f"The {constraint or 'unspecified'} location constraint is "
                         "incompatible for the region specific endpoint this request was "
                         "sent to.")


class InvalidLocationConstraint(S3Error):
    code = "InvalidLocationConstraint"
    message = "The specified location-constraint is not valid"

    def __init__(self, constraint: str):
        super().__init__(LocationConstraint=constraint)


class BucketNotFound(S3Error):  # HeadBucket's: a HEAD response has no body to explain
    code = "NotFound"
    status = 404
    message = "Not Found"


class PermanentRedirect(S3Error):  # a bucket read through another region's endpoint
    code = "PermanentRedirect"
    status = 301

    def __init__(self, region: str):
        super().__init__(f"The bucket is in this region: {region}. Please use this region to "
                         "retry the request")


class BucketForbidden(S3Error):  # HeadBucket's, with the bucket's region
    code = "Forbidden"
    status = 403
    message = "Forbidden"

    def __init__(self, region: str):
        super().__init__(headers={"x-amz-bucket-region": region})


# -- objects: keys, versions, metadata -----------------------------------------------------
class NoSuchKey(S3Error):
    code = "NoSuchKey"
    status = 404
    message = "The specified key does not exist."

    def __init__(self, key: str, headers: dict | None = None):
        super().__init__(headers=headers, Key=key)


class NoSuchVersion(S3Error):
    code = "NoSuchVersion"
    status = 404
    message = "The specified version does not exist."

    def __init__(self, key: str, version_id: str):
        super().__init__(Key=key, VersionId=version_id)


class MethodNotAllowed(S3Error):
    code = "MethodNotAllowed"
    status = 405
    message = "The specified method is not allowed against this resource."

    def __init__(self, method: str, resource: str, headers: dict | None = None):
        super().__init__(headers=headers, Method=method, ResourceType=resource)


class KeyTooLong(S3Error):
    code = "KeyTooLongError"
    message = "Your key is too long"

    def __init__(self, size: int, limit: int):
        super().__init__(MaxSizeAllowed=limit, Size=size)


class InvalidStorageClass(S3Error):
    code = "InvalidStorageClass"
    message = "The storage class you specified is not valid"

    def __init__(self, requested: str):
        super().__init__(StorageClassRequested=requested)


class MetadataTooLarge(S3Error):
    code = "MetadataTooLarge"
    message = "Your metadata headers exceed the maximum allowed metadata size."

    def __init__(self, size: int, limit: int):
        super().__init__(Size=size, MaxSizeAllowed=limit)


class CopyToItself(InvalidRequest):
    message = ("This copy request is illegal because it is trying to copy an object to itself "
               "without changing the object's metadata, storage class, website redirect "
               "location or encryption attributes.")


# -- conditions and ranges -----------------------------------------------------------------
class PreconditionFailed(S3Error):
    code = "PreconditionFailed"
    status = 412
    message = "At least one of the pre-conditions you specified did not hold"

    def __init__(self, condition: str):
        super().__init__(Condition=condition)


class NotModified(S3Error):
    code = "NotModified"
    status = 304
    message = "Not Modified"


class ConditionNotImplemented(S3Error):
    code = "NotImplemented"
    status = 501
    message = "A header you provided implies functionality that is not implemented"

    def __init__(self, header: str):
        super().__init__(Header=header)


class InvalidRange(S3Error):
    code = "InvalidRange"
    status = 416
    message = "The requested range is not satisfiable"

    def __init__(self, size: int, requested: str):
        super().__init__(RangeRequested=requested, ActualObjectSize=size)


class InvalidPartNumber(S3Error):
    code = "InvalidPartNumber"
    status = 416
    message = "The requested partnumber is not satisfiable"

    def __init__(self, requested: int, count: int):
        super().__init__(PartNumberRequested=requested, ActualPartCount=count)


# -- digests and checksums -----------------------------------------------------------------
class InvalidChecksum(InvalidRequest):
    def __init__(self, algorithm: str):
        super().__init__(f"Value for x-amz-checksum-{algorithm} header is invalid.")


class ChecksumMismatch(BadDigest):
    def __init__(self, algorithm: str):
        super().__init__(f"The {algorithm.upper()} you specified did not match the calculated "
                         "checksum.")


class InvalidDigest(S3Error):
    code = "InvalidDigest"
    message = "The Content-MD5 you specified was invalid."

    def __init__(self, sent: str):
        super().__init__(**{"Content-MD5": sent})


class ContentMD5Mismatch(BadDigest):
    message = "The Content-MD5 you specified did not match what we received."

    def __init__(self, expected: str, calculated: str):
        super().__init__(ExpectedDigest=expected, CalculatedDigest=calculated)


class ContentSHA256Mismatch(S3Error):
    code = "XAmzContentSHA256Mismatch"
    message = "The provided 'x-amz-content-sha256' header does not match what was computed."

    def __init__(self, client: str, computed: str):
        super().__init__(ClientComputedContentSHA256=client, S3ComputedContentSHA256=computed)


# -- multipart uploads ---------------------------------------------------------------------
class NoSuchUpload(S3Error):
    code = "NoSuchUpload"
    status = 404
    message = ("The specified upload does not exist. The upload ID may be invalid, or the "
               "upload may have been aborted or completed.")

    def __init__(self, upload_id: str):
        super().__init__(UploadId=upload_id)


class InvalidPart(S3Error):
    code = "InvalidPart"
    message = ("One or more of the specified parts could not be found.  The part may not have "
               "been uploaded, or the specified entity tag may not have matched the part's "
               "entity tag.")


class InvalidPartOrder(S3Error):
    code = "InvalidPartOrder"
    message = ("The list of parts was not in ascending order. Parts must be ordered by part "
               "number.")

    def __init__(self, upload_id: str):
        super().__init__(UploadId=upload_id)


class EntityTooSmall(S3Error):
    code = "EntityTooSmall"
    message = "Your proposed upload is smaller than the minimum allowed size"

    def __init__(self, size: int, minimum: int, part_number: int, etag: str):
        super().__init__(ProposedSize=size, MinSizeAllowed=minimum, PartNumber=part_number,
                         ETag=etag)


# -- tagging -------------------------------------------------------------------------------
class TooManyObjectTags(BadRequest):
    message = "Object tags cannot be greater than 10"


class TooManyBucketTags(BadRequest):
    def __init__(self, limit: int):
        super().__init__(f"Bucket tag count cannot be greater than {limit}")


class DuplicateTagKey(InvalidTag):
    message = "Cannot provide multiple Tags with the same key"

    def __init__(self, key: str | None = None):
        super().__init__(**({} if key is None else {"TagKey": key}))


class SystemTag(InvalidTag):
    message = "System tags cannot be added/updated by requester"


class InvalidTagKey(InvalidTag):
    message = "The TagKey you have provided is invalid"

    def __init__(self, key: str):
        super().__init__(TagKey=key)


class InvalidTagValue(InvalidTag):
    message = "The TagValue you have provided is invalid"

    def __init__(self, key: str, value: str):
        super().__init__(TagKey=key, TagValue=value)


# -- ACLs and Object Ownership -------------------------------------------------------------
class AccessControlListNotSupported(S3Error):
    code = "AccessControlListNotSupported"
    message = "The bucket does not allow ACLs"


class InvalidBucketAclWithObjectOwnership(S3Error):
    code = "InvalidBucketAclWithObjectOwnership"
    message = "Bucket cannot have ACLs set with ObjectOwnership's BucketOwnerEnforced setting"


class InvalidBucketAclWithBlockPublicAccess(S3Error):
    code = "InvalidBucketAclWithBlockPublicAccessError"
    message = "Bucket cannot have public ACLs set with BlockPublicAccess enabled"


class MissingSecurityHeader(S3Error):
    code = "MissingSecurityHeader"
    message = "Your request was missing a required header"

    def __init__(self, header: str):
        super().__init__(MissingHeaderName=header)


class CannedAclWithGrants(InvalidRequest):
    message = "Specifying both Canned ACLs and Header Grants is not allowed"


class AclWithContent(InvalidRequest):  # an ACL both in headers and in the body
    message = "This request does not support content"


# -- bucket policies -----------------------------------------------------------------------
class MalformedPolicy(S3Error):
    code = "MalformedPolicy"


class PolicyNotJson(MalformedPolicy):
    message = "Policies must be valid JSON and the first byte must be '{'"


class PolicyInvalidAction(MalformedPolicy):
    message = "Policy has invalid action"


class PolicyInvalidResource(MalformedPolicy):
    message = "Policy has invalid resource"


class PolicyMissingResource(MalformedPolicy):
    message = "Missing required field Resource"


class PolicyTooLarge(S3Error):
    code = "PolicyTooLarge"
    message = "Policy exceeds the maximum allowed document size."


# -- bucket subresources that are not configured -------------------------------------------
class NoSuchBucketPolicy(NoSuchConfiguration):
    code = "NoSuchBucketPolicy"
    message = "The bucket policy does not exist"


class NoSuchTagSet(NoSuchConfiguration):
    code = "NoSuchTagSet"
    message = "The TagSet does not exist"


class EncryptionConfigurationNotFound(NoSuchConfiguration):
    code = "ServerSideEncryptionConfigurationNotFoundError"
    message = "The server side encryption configuration was not found"


class OwnershipControlsNotFound(NoSuchConfiguration):
    code = "OwnershipControlsNotFoundError"
    message = "The bucket ownership controls were not found"


class NoSuchPublicAccessBlockConfiguration(NoSuchConfiguration):
    code = "NoSuchPublicAccessBlockConfiguration"
    message = "The public access block configuration was not found"


class NoSuchWebsiteConfiguration(NoSuchConfiguration):
    code = "NoSuchWebsiteConfiguration"
    message = "The specified bucket does not have a website configuration"


class ReplicationConfigurationNotFound(NoSuchConfiguration):
    code = "ReplicationConfigurationNotFoundError"
    message = "The replication configuration was not found"


class NoSuchLifecycleConfiguration(NoSuchConfiguration):
    code = "NoSuchLifecycleConfiguration"
    message = "The lifecycle configuration does not exist"


class NoSuchCORSConfiguration(NoSuchConfiguration):
    code = "NoSuchCORSConfiguration"
    message = "The CORS configuration does not exist"


class ObjectLockConfigurationNotFound(NoSuchConfiguration):
    code = "ObjectLockConfigurationNotFoundError"
    message = "Object Lock configuration does not exist for this bucket"


# -- versioning and object lock ------------------------------------------------------------
class VersioningLocked(InvalidBucketState):
    message = ("An Object Lock configuration is present on this bucket, so the versioning "
               "state cannot be changed.")


class LockNeedsVersioning(InvalidBucketState):
    message = "Versioning must be 'Enabled' on the bucket to apply a Object Lock configuration"


class BucketNotLocked(InvalidRequest):
    message = "Bucket is missing Object Lock Configuration"


class NoSuchObjectLockConfiguration(S3Error):
    code = "NoSuchObjectLockConfiguration"
    status = 404
    message = "The specified object does not have a ObjectLock configuration"


# -- logging, acceleration, notifications --------------------------------------------------
class InvalidTargetBucketForLogging(S3Error):
    code = "InvalidTargetBucketForLogging"

    def __init__(self, target: str | None):
        super().__init__(TargetBucket=target)


class LoggingTargetMissing(InvalidTargetBucketForLogging):
    message = "The target bucket for logging does not exist"


class LoggingTargetOwner(InvalidTargetBucketForLogging):
    message = "The owner for the bucket to be logged and the target bucket must be the same."


class CrossLocationLogging(S3Error):
    code = "CrossLocationLoggingProhibitted"  # sic: AWS's spelling
    status = 403
    message = "Cross S3 location logging not allowed. "

    def __init__(self, location: str):
        super().__init__(TargetBucketLocation=location)


class AccelerateWithPeriods(InvalidRequest):
    message = ("S3 Transfer Acceleration is not supported for buckets with periods (.) in their "
               "names")


class UnvalidatedDestinations(S3Error):  # ArgumentName<n>, ArgumentValue<n> for each
    code = "InvalidArgument"
    message = "Unable to validate the following destination configurations"

    def __init__(self, arns: list[str]):
        fields = {}
        for index, arn in enumerate(arns, 1):
            fields[f"ArgumentName{index}"] = arn
            fields[f"ArgumentValue{index}"] = "The destination does not exist"
        super().__init__(**fields)


# -- lifecycle and restores ----------------------------------------------------------------
class RuleWithoutAction(InvalidRequest):
    message = "At least one action needs to be specified in a rule"


class ArchivedObject(InvalidObjectState):  # the bytes of an archived version not restored
    message = "The operation is not valid for the object's storage class"


class RestoreNotAllowed(InvalidObjectState):
    message = "Restore is not allowed for the object's current storage class"


class RestoreAlreadyInProgress(S3Error):
    code = "RestoreAlreadyInProgress"
    status = 409
    message = "Object restore is already in progress"


# -- CORS ----------------------------------------------------------------------------------
class TooManyCorsRules(InvalidRequest):
    message = "The number of CORS rules should not exceed allowed limit of 100 rules."


class CorsUnsupportedMethod(InvalidRequest):
    def __init__(self, method: str):
        super().__init__(f"Found unsupported HTTP method in CORS config. Unsupported method is "
                         f"{method}")


class CorsWildcards(InvalidRequest):  # an AllowedOrigin or AllowedHeader with more than one `*`
    def __init__(self, member: str, value: str):
        super().__init__(f'{member} "{value}" can not have more than one wildcard.')


class PreflightWithoutOrigin(BadRequest):
    message = "Insufficient information. Origin request header needed."


class PreflightWithoutMethod(BadRequest):
    message = "Invalid Access-Control-Request-Method: null"


class AccessForbidden(S3Error):
    code = "AccessForbidden"
    status = 403
    resource = ""

    def __init__(self, method: str):
        super().__init__(Method=method, ResourceType=self.resource)


class CorsNotEnabled(AccessForbidden):
    message = "CORSResponse: CORS is not enabled for this bucket."
    resource = "BUCKET"


class CorsNotAllowed(AccessForbidden):
    message = ("CORSResponse: This CORS request is not allowed. This is usually because the "
               "evalution of Origin, request method / Access-Control-Request-Method or "
               "Access-Control-Request-Headers are not whitelisted by the resource's CORS "
               "spec.")
    resource = "OBJECT"
