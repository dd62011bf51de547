"""Request authentication: who signed this request, and is the signature right?

    auth = authenticate(request, "s3", store)       # -> Authenticated, or raises ServiceError
    scope_of(request)                               # -> (access key, date, region, service)

    schemes.py         which scheme a request uses, and VERIFIERS: scheme -> verifier
    authenticated.py   the result (`Authenticated`) and the verifiers' signature
    sigv4_verifier.py  sigv4-header and sigv4-query
    sigv2_verifier.py  sigv2-header and sigv2-query (S3)
    post_policy.py     post-policy: S3 browser uploads, their signature and policy
    checks.py          what every scheme checks: clock skew, the key, a mismatch's words
    sigv4.py, sigv2.py the signature algorithms, step by step as AWS documents them
    streaming.py       aws-chunked bodies and their chunk signatures
    checksums.py       S3's flexible checksums and Content-MD5
    credentials.py     who owns an access key (`CredentialStore`); the default root keys
                       only from the host, never from inside the cloud
    control.py         who may make a control call (/_cloudlet/clock, ...): an account's root
    errors.py          each service's words for "authentication failed"

This module only re-exports.
"""

from __future__ import annotations

from cloudlet.auth.authenticated import Authenticated
from cloudlet.auth.credentials import Credential, CredentialStore
from cloudlet.auth.post_policy import PostForm, check_post_policy, decode_policy
from cloudlet.auth.schemes import authenticate, scope_of

__all__ = [
    "Authenticated", "Credential", "CredentialStore", "PostForm", "authenticate",
    "check_post_policy", "decode_policy", "scope_of",
]
