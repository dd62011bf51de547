"""CloudWatch Logs' errors, each defined once, in AWS's words."""

from __future__ import annotations

from cloudlet.errors import ServiceError


class LogsError(ServiceError):
    status = 400


class ResourceNotFound(LogsError):
    code = "ResourceNotFoundException"


class ResourceAlreadyExists(LogsError):
    code = "ResourceAlreadyExistsException"


class InvalidParameter(LogsError):
    code = "InvalidParameterException"


class LimitExceeded(LogsError):
    code = "LimitExceededException"


class InvalidOperation(LogsError):
    code = "InvalidOperationException"


class TooManyTags(LogsError):
    code = "TooManyTagsException"


def no_such_group() -> ResourceNotFound:
    return ResourceNotFound("The specified log group does not exist.")


def no_such_stream() -> ResourceNotFound:
    return ResourceNotFound("The specified log stream does not exist.")


def group_exists() -> ResourceAlreadyExists:
    return ResourceAlreadyExists("The specified log group already exists")


def stream_exists() -> ResourceAlreadyExists:
    return ResourceAlreadyExists("The specified log stream already exists")


def invalid_token() -> InvalidParameter:
    return InvalidParameter("The specified nextToken is invalid.")
