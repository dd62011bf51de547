"""S3's errors, each defined once, in AWS's words."""

from __future__ import annotations

from cloudlet.errors import ServiceError


class S3Error(ServiceError):
    status = 400


def error(code: str, message: str, status: int = 400, **fields) -> S3Error:
    return S3Error(message, code=code, status=status, fields={k: str(v) for k, v in fields.items()})


def no_such_bucket(name: str) -> S3Error:
    return error("NoSuchBucket", "The specified bucket does not exist", 404, BucketName=name)


def no_such_key(key: str) -> S3Error:
    return error("NoSuchKey", "The specified key does not exist.", 404, Key=key)


def no_such_version(key: str, version_id: str) -> S3Error:
    return error("NoSuchVersion", "The specified version does not exist.", 404,
                 Key=key, VersionId=version_id)


def no_such_upload(upload_id: str) -> S3Error:
    return error("NoSuchUpload", "The specified upload does not exist. The upload ID may be "
                 "invalid, or the upload may have been aborted or completed.", 404,
                 UploadId=upload_id)


def access_denied() -> S3Error:
    return error("AccessDenied", "Access Denied", 403)


def invalid_argument(message: str, name: str | None = None, value=None) -> S3Error:
    fields = {}
    if name is not None:
        fields = {"ArgumentName": name, "ArgumentValue": "" if value is None else value}
    return error("InvalidArgument", message, **fields)


def precondition_failed(condition: str) -> S3Error:
    return error("PreconditionFailed", "At least one of the pre-conditions you specified did "
                 "not hold", 412, Condition=condition)


def not_modified() -> S3Error:
    return S3Error("Not Modified", code="NotModified", status=304)


def invalid_range(size: int, requested: str) -> S3Error:
    return error("InvalidRange", "The requested range is not satisfiable", 416,
                 RangeRequested=requested, ActualObjectSize=size)


def method_not_allowed(method: str, resource: str) -> S3Error:
    return error("MethodNotAllowed", "The specified method is not allowed against this "
                 "resource.", 405, Method=method, ResourceType=resource)
