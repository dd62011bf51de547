"""IAM's errors, with the codes and statuses of IAM's model."""

from __future__ import annotations

from cloudlet.errors import ServiceError


class NoSuchEntity(ServiceError):
    code = "NoSuchEntity"
    status = 404


class EntityAlreadyExists(ServiceError):
    code = "EntityAlreadyExists"
    status = 409


class LimitExceeded(ServiceError):
    code = "LimitExceeded"
    status = 409


class DeleteConflict(ServiceError):
    code = "DeleteConflict"
    status = 409


class UnmodifiableEntity(ServiceError):
    code = "UnmodifiableEntity"
    status = 400


class MalformedPolicyDocument(ServiceError):
    code = "MalformedPolicyDocument"
    status = 400


class InvalidInput(ServiceError):
    code = "InvalidInput"
    status = 400


class ValidationError(ServiceError):
    code = "ValidationError"
    status = 400


class PasswordPolicyViolation(ServiceError):
    code = "PasswordPolicyViolation"
    status = 400


class ReportNotPresent(ServiceError):
    code = "ReportNotPresent"
    status = 410


class ReportExpired(ServiceError):
    code = "ReportExpired"
    status = 410


class InvalidAuthenticationCode(ServiceError):
    code = "InvalidAuthenticationCode"
    status = 403
