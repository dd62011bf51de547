"""CloudWatch's errors, with the codes of CloudWatch's model."""

from __future__ import annotations

from cloudlet.errors import ServiceError


class InvalidParameterValue(ServiceError):
    code = "InvalidParameterValue"
    status = 400


class InvalidParameterCombination(ServiceError):
    code = "InvalidParameterCombination"
    status = 400


class MissingParameter(ServiceError):
    code = "MissingParameter"
    status = 400


class InvalidNextToken(ServiceError):
    code = "InvalidNextToken"
    status = 400


class ValidationError(ServiceError):
    code = "ValidationError"
    status = 400


class ResourceNotFound(ServiceError):
    code = "ResourceNotFound"
    status = 404


class LimitExceeded(ServiceError):
    code = "LimitExceeded"
    status = 400


def invalid_value(value, parameter: str) -> InvalidParameterValue:
    return InvalidParameterValue(f"The value {value} for parameter {parameter} is invalid.")
