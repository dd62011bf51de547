"""Lambda's errors, with the codes and statuses of Lambda's model."""

from __future__ import annotations

from cloudlet.errors import ServiceError


class InvalidParameterValue(ServiceError):
    code = "InvalidParameterValueException"
    status = 400


class Validation(ServiceError):
    code = "ValidationException"
    status = 400


class ResourceNotFound(ServiceError):
    code = "ResourceNotFoundException"
    status = 404


class ResourceConflict(ServiceError):
    code = "ResourceConflictException"
    status = 409


class ResourceInUse(ServiceError):
    code = "ResourceInUseException"
    status = 400


class PreconditionFailed(ServiceError):
    code = "PreconditionFailedException"
    status = 412
    message = ("The Revision Id provided does not match the latest Revision Id. Call the "
               "GetFunction/GetAlias API to retrieve the latest Revision Id")


class RequestEntityTooLarge(ServiceError):
    code = "RequestEntityTooLargeException"
    status = 413


class PolicyLengthExceeded(ServiceError):
    code = "PolicyLengthExceededException"
    status = 400


class CodeStorageExceeded(ServiceError):
    code = "CodeStorageExceededException"
    status = 400


def function_not_found(arn: str) -> ResourceNotFound:
    return ResourceNotFound(f"Function not found: {arn}")


def too_big(value, member: str, limit: int) -> Validation:
    return Validation(f"1 validation error detected: Value '{value}' at '{member}' failed to "
                      f"satisfy constraint: Member must have value less than or equal to {limit}")


class TooManyRequests(ServiceError):
    code = "TooManyRequestsException"
    status = 429
    message = "Rate Exceeded."


class RequestTooLarge(ServiceError):
    code = "RequestTooLargeException"
    status = 413


class InvalidRequestContent(ServiceError):
    code = "InvalidRequestContentException"
    status = 400


class AccessDenied(ServiceError):
    code = "AccessDeniedException"
    status = 403
