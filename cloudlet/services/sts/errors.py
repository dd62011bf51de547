"""STS's errors, in AWS's words. Each is a `ServiceError` the query codec renders."""

from __future__ import annotations

from cloudlet.errors import ServiceError


def access_denied(message: str) -> ServiceError:
    return ServiceError(message, code="AccessDenied", status=403)


def not_authorized(caller_arn: str, action: str, resource: str) -> ServiceError:
    return access_denied(
        f"User: {caller_arn} is not authorized to perform: {action} on resource: {resource}"
    )


def validation(message: str) -> ServiceError:
    return ServiceError(message, code="ValidationError", status=400)


def invalid_identity_token(message: str) -> ServiceError:
    return ServiceError(message, code="InvalidIdentityToken", status=400)


def expired_web_token(message: str) -> ServiceError:
    return ServiceError(message, code="ExpiredTokenException", status=400)


def packed_policy_too_large(percent: int) -> ServiceError:
    return ServiceError(
        f"Packed policy consumes {percent}% of allotted space, please use smaller policy.",
        code="PackedPolicyTooLarge", status=400,
    )


def invalid_authorization_message(message: str) -> ServiceError:
    return ServiceError(message, code="InvalidAuthorizationMessageException", status=400)


WEB_IDENTITY_DENIED = "Not authorized to perform sts:AssumeRoleWithWebIdentity"
KEY_NOT_RETRIEVED = (
    "Couldn't retrieve verification key from your identity provider,  please reference "
    "AssumeRoleWithWebIdentity documentation for requirements"
)
TOKEN_NOT_VALID = (
    "The web identity token that was passed could not be validated by AWS. Get a new "
    "identity token from the identity provider and then retry the request."
)
