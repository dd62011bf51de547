"""EventBridge Scheduler's errors, with the codes and statuses of its model."""

from __future__ import annotations

from cloudlet.errors import ServiceError


class Validation(ServiceError):
    code = "ValidationException"
    status = 400


class NotFound(ServiceError):
    code = "ResourceNotFoundException"
    status = 404


class Conflict(ServiceError):
    code = "ConflictException"
    status = 409
