"""How each service says "authentication failed".

AWS services fall in four families with their own codes for the same failure: S3, EC2,
the query services (IAM, STS, RDS, SNS, CloudWatch) and the JSON services (Logs,
Lambda). `auth_error(service, kind, ...)` builds the `ServiceError` for one failure
`kind` in the words of `service`'s family; the codec of the request renders it.
"""

from __future__ import annotations

from cloudlet.errors import ServiceError

FAMILY = {
    "s3": "s3",
    "ec2": "ec2",
    "iam": "query",
    "sts": "query",
    "rds": "query",
    "sns": "query",
    "cloudwatch": "query",
    "logs": "json",
    "lambda": "json",
    "cloudlet": "query",  # Cloudlet's own control calls (auth/control.py)
}

_MISMATCH = (
    "The request signature we calculated does not match the signature you provided. "
    "Check your AWS Secret Access Key and signing method. "
    "Consult the service documentation for details."
)
_S3_MISMATCH = (
    "The request signature we calculated does not match the signature you provided. "
    "Check your key and signing method."
)
_INVALID_TOKEN = "The security token included in the request is invalid."
_EXPIRED_TOKEN = "The security token included in the request is expired"
_EC2_AUTH = "AWS was not able to validate the provided access credentials"
_INCOMPLETE = "The request signature does not conform to AWS standards."

# kind -> (code, HTTP status, default message), per family.
ERRORS: dict[str, dict[str, tuple[str, int, str]]] = {
    "s3": {
        "missing": ("AccessDenied", 403, "Access Denied"),
        "unknown_key": (
            "InvalidAccessKeyId", 403,
            "The AWS Access Key Id you provided does not exist in our records.",
        ),
        "mismatch": ("SignatureDoesNotMatch", 403, _S3_MISMATCH),
        "skewed": (
            "RequestTimeTooSkewed", 403,
            "The difference between the request time and the current time is too large.",
        ),
        "expired": ("AccessDenied", 403, "Request has expired"),
        "not_yet_valid": ("AccessDenied", 403, "Request is not valid yet"),
        "invalid_token": (
            "InvalidToken", 400, "The provided token is malformed or otherwise invalid.",
        ),
        "expired_token": ("ExpiredToken", 400, "The provided token has expired."),
        "malformed": ("AuthorizationHeaderMalformed", 400, "The authorization header is malformed."),
        "malformed_query": (
            "AuthorizationQueryParametersError", 400,
            "Query-string authentication requires the Signature, Expires and AWSAccessKeyId parameters",
        ),
        "unsupported": ("InvalidArgument", 400, "Unsupported Authorization Type"),
    },
    "ec2": {
        "missing": (
            "MissingAuthenticationToken", 401,
            "The request must contain either a valid (registered) AWS access key ID "
            "or X.509 certificate.",
        ),
        "unknown_key": ("AuthFailure", 401, _EC2_AUTH),
        "mismatch": ("AuthFailure", 401, _EC2_AUTH),
        "skewed": ("RequestExpired", 400, "Request has expired."),
        "expired": ("RequestExpired", 400, "Request has expired."),
        "not_yet_valid": ("RequestExpired", 400, "Request is not yet valid."),
        "invalid_token": ("AuthFailure", 401, _EC2_AUTH),
        "expired_token": ("RequestExpired", 400, "Request has expired."),
        "malformed": ("IncompleteSignature", 400, _INCOMPLETE),
        "unsupported": ("AuthFailure", 401, _EC2_AUTH),
    },
    "query": {
        "missing": ("MissingAuthenticationToken", 403, "Request is missing Authentication Token"),
        "unknown_key": ("InvalidClientTokenId", 403, _INVALID_TOKEN),
        "mismatch": ("SignatureDoesNotMatch", 403, _MISMATCH),
        "skewed": ("SignatureDoesNotMatch", 403, "Signature expired"),
        "expired": ("SignatureDoesNotMatch", 403, "Signature expired"),
        "not_yet_valid": ("SignatureDoesNotMatch", 403, "Signature not yet current"),
        "invalid_token": ("InvalidClientTokenId", 403, _INVALID_TOKEN),
        "expired_token": ("ExpiredToken", 403, _EXPIRED_TOKEN),
        "malformed": ("IncompleteSignature", 400, _INCOMPLETE),
        "unsupported": ("IncompleteSignature", 400, _INCOMPLETE),
    },
    "json": {
        "missing": ("MissingAuthenticationTokenException", 403, "Missing Authentication Token"),
        "unknown_key": ("UnrecognizedClientException", 403, _INVALID_TOKEN),
        "mismatch": ("InvalidSignatureException", 403, _MISMATCH),
        "skewed": ("InvalidSignatureException", 403, "Signature expired"),
        "expired": ("InvalidSignatureException", 403, "Signature expired"),
        "not_yet_valid": ("InvalidSignatureException", 403, "Signature not yet current"),
        "invalid_token": ("UnrecognizedClientException", 403, _INVALID_TOKEN),
        "expired_token": ("ExpiredTokenException", 403, _EXPIRED_TOKEN),
        "malformed": ("IncompleteSignatureException", 403, _INCOMPLETE),
        "unsupported": ("IncompleteSignatureException", 403, _INCOMPLETE),
    },
}


def family(service: str) -> str:
    return FAMILY.get(service, "query")


def auth_error(
    service: str, kind: str, message: str | None = None, fields: dict | None = None
) -> ServiceError:
    """The error for failure `kind` as `service` words it. Only S3 carries `fields`."""
    name = family(service)
    code, status, default = ERRORS[name].get(kind) or ERRORS[name]["malformed"]
    return ServiceError(
        message or default, code=code, status=status, sender_fault=True,
        fields=(fields or {}) if name == "s3" else {},
    )


def s3_error(code: str, message: str, status: int = 400, **fields) -> ServiceError:
    """An S3 error outside the table (body integrity: BadDigest, IncompleteBody, ...)."""
    return ServiceError(message, code=code, status=status, sender_fault=True, fields=fields)


# -- Cloudlet's control calls (auth/control.py) ----------------------------------------

class ControlAccessDenied(ServiceError):
    code = "AccessDenied"
    status = 403


class BrowserRefused(ControlAccessDenied):
    message = ("Cloudlet's control endpoints do not answer browsers: the request carries "
               "Origin or Sec-Fetch-* headers.")


class HeaderSignatureRequired(ControlAccessDenied):
    message = ("A control call is signed with SigV4 in the Authorization header; a presigned "
               "URL is not accepted.")


class RootRequired(ControlAccessDenied):
    def __init__(self, arn: str):
        super().__init__(f"User: {arn} is not authorized to call Cloudlet's control endpoints: "
                         "only the root of an account may.")


class WrongSigningService(ServiceError):
    code = "SignatureDoesNotMatch"
    status = 403

    def __init__(self, expected: str):
        super().__init__(f"Credential should be scoped to correct service: '{expected}'. ")


def hex_bytes(text: str) -> str:
    """AWS's `StringToSignBytes` form: each byte as two hex digits, separated by spaces."""
    return " ".join(f"{b:02x}" for b in text.encode("utf-8", "surrogatepass"))
