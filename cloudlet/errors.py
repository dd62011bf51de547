"""Errors are data.

Every failure that reaches a client is a `ServiceError`: an AWS error code, a message, an
HTTP status and whether the sender is at fault. The codec of the request's protocol renders
it; when the service model defines a shape for the code, its extra members (`fields`) are
serialized as the model says.
"""

from __future__ import annotations


class ServiceError(Exception):
    code = "InternalFailure"
    status = 400
    sender_fault = True
    message = ""

    def __init__(
        self,
        message: str | None = None,
        *,
        code: str | None = None,
        status: int | None = None,
        sender_fault: bool | None = None,
        fields: dict | None = None,
        headers: dict | None = None,
    ):
        if message is not None:
            self.message = message
        if code is not None:
            self.code = code
        if status is not None:
            self.status = status
        if sender_fault is not None:
            self.sender_fault = sender_fault
        self.fields = fields or {}
        self.headers = headers or {}
        super().__init__(f"{self.code}: {self.message}")


class InternalFailure(ServiceError):
    code = "InternalFailure"
    status = 500
    sender_fault = False
    message = "An internal error occurred. The request was not processed."


class NotImplementedOperation(ServiceError):
    """An operation of a known service that Cloudlet does not implement (yet)."""

    code = "NotImplemented"
    status = 501
    sender_fault = False

    def __init__(self, service: str, operation: str):
        super().__init__(
            f"Cloudlet does not implement the {service} operation {operation} yet."
        )


class ServiceNotServed(ServiceError):
    """A service botocore has a model for that Cloudlet does not serve (yet). A client
    error, so SDKs do not retry it; the service's codec renders it in its protocol."""

    code = "UnsupportedOperation"
    status = 400

    def __init__(self, service: str, service_id: str | None = None):
        super().__init__(f"Cloudlet does not serve {service_id or service} ({service}) yet.")


class UnknownOperation(ServiceError):
    code = "UnknownOperationException"
    status = 400


class ValidationError(ServiceError):
    """Input that does not satisfy the operation's input shape.

    Codecs rename the code to their protocol's spelling (`ValidationException`,
    `InvalidParameterValue`, ...)."""

    code = "ValidationError"
    status = 400


class SerializationError(ServiceError):
    """A body that cannot be decoded: malformed XML, JSON or CBOR, a wrong content type."""

    code = "SerializationException"
    status = 400


class MissingAuthentication(ServiceError):
    code = "MissingAuthenticationToken"
    status = 403
    message = "Request is missing Authentication Token"


class AccessDenied(ServiceError):
    code = "AccessDenied"
    status = 403
    message = "Access Denied"
