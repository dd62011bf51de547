"""SNS's errors, with the codes and statuses of SNS's model."""

from __future__ import annotations

from cloudlet.errors import ServiceError


class InvalidParameter(ServiceError):
    code = "InvalidParameter"
    status = 400


class ParameterValueInvalid(ServiceError):
    code = "ParameterValueInvalid"
    status = 400


class NotFound(ServiceError):
    code = "NotFound"
    status = 404


class AuthorizationError(ServiceError):
    code = "AuthorizationError"
    status = 403


class ResourceNotFound(ServiceError):
    code = "ResourceNotFound"
    status = 404


class TagLimitExceeded(ServiceError):
    code = "TagLimitExceeded"
    status = 400


class FilterPolicyLimitExceeded(ServiceError):
    code = "FilterPolicyLimitExceeded"
    status = 403


class EmptyBatchRequest(ServiceError):
    code = "EmptyBatchRequest"
    status = 400
    message = "The batch request doesn't contain any entries."


class TooManyEntriesInBatchRequest(ServiceError):
    code = "TooManyEntriesInBatchRequest"
    status = 400
    message = "The batch request contains more entries than permissible."


class BatchEntryIdsNotDistinct(ServiceError):
    code = "BatchEntryIdsNotDistinct"
    status = 400
    message = "Two or more batch entries in the request have the same Id."


class InvalidBatchEntryId(ServiceError):
    code = "InvalidBatchEntryId"
    status = 400
    message = ("A batch entry id can only contain alphanumeric characters, hyphens and "
               "underscores. It can be at most 80 letters long.")


class BatchRequestTooLong(ServiceError):
    code = "BatchRequestTooLong"
    status = 400
    message = "The length of all the messages put together is more than the limit."


def invalid(what: str, reason: str | None = None) -> InvalidParameter:
    """SNS's wording: 'Invalid parameter: <what>' and, when given, ' Reason: <reason>'."""
    return InvalidParameter(f"Invalid parameter: {what}" + (f" Reason: {reason}" if reason else ""))
