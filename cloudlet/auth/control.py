"""Who may make a control call: move the clock, stop the server, read the mailbox, mint
an OIDC token (the endpoints under /_cloudlet/ that change or reveal state).

    credential = authenticate_control(request, store)   # an account's root, or raises

A control call is an ordinary SigV4 request for the signing name `cloudlet` (credential
scope `<date>/<region>/cloudlet/aws4_request`, any region), signed in the Authorization
header by the root of an account: key `test` (account 000000000000) or a 12-digit key id,
with secret `test`. Refused, with a 403:

- a request a browser sent (it carries `Origin` or `Sec-Fetch-*`): everyone knows
  `test`/`test`, so a web page could sign; no browser may make a control call;
- a presigned signature (in the query): a link, an image or a form can carry one, and
  would be a request no preflight stops;
- a signature scoped to another service, or by anyone but an account's root.
"""

from __future__ import annotations

from cloudlet.auth import sigv4
from cloudlet.auth.credentials import Credential, CredentialStore
from cloudlet.auth.errors import (
    BrowserRefused,
    HeaderSignatureRequired,
    RootRequired,
    WrongSigningService,
    auth_error,
)
from cloudlet.auth.schemes import authenticate
from cloudlet.config import CONTROL_SIGNING_NAME
from cloudlet.protocols.base import HttpRequest

BROWSER_HEADERS = ("origin", "sec-fetch-site", "sec-fetch-mode", "sec-fetch-dest")


def authenticate_control(request: HttpRequest, store: CredentialStore) -> Credential:
    if any(name in request.headers for name in BROWSER_HEADERS):
        raise BrowserRefused()
    authorization = request.headers.get("authorization") or ""
    if not authorization.startswith(sigv4.ALGORITHM + " "):
        if "X-Amz-Signature=" in request.query or "X-Amz-Credential=" in request.query:
            raise HeaderSignatureRequired()
        raise auth_error(CONTROL_SIGNING_NAME, "missing" if not authorization else "unsupported")
    auth = authenticate(request, CONTROL_SIGNING_NAME, store)
    if auth.service != CONTROL_SIGNING_NAME:
        raise WrongSigningService(CONTROL_SIGNING_NAME)
    if not auth.credential.is_root:
        raise RootRequired(auth.credential.arn)
    return auth.credential
