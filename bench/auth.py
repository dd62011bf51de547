"""Cost of verifying one signed request (SigV4 header), in-process: no timing is asserted
in the test suite, so the figure lives here. Run: .venv/bin/python bench/auth.py"""

from __future__ import annotations

import time

from botocore.auth import S3SigV4Auth, SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from cloudlet.auth import authenticate
from cloudlet.auth.credentials import CredentialStore
from cloudlet.protocols.base import Headers, HttpRequest

STORE = CredentialStore()


def per_call(fn, n=3000) -> float:
    fn()
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        for _ in range(n):
            fn()
        best = min(best, (time.perf_counter() - start) / n)
    return best


def signed(signer, url, body, headers) -> HttpRequest:
    request = AWSRequest(method="POST", url=url, data=body, headers=headers)
    signer.add_auth(request)
    prepared = request.prepare()
    raw = [(n, v.decode() if isinstance(v, bytes) else v) for n, v in prepared.headers.items()]
    raw.append(("Host", "127.0.0.1:4566"))
    path, _, query = url.split("4566", 1)[1].partition("?")
    return HttpRequest("POST", path, query, Headers(raw), body)


def main() -> None:
    credentials = Credentials("test", "test")
    sts = signed(SigV4Auth(credentials, "sts", "us-east-1"), "http://127.0.0.1:4566/",
                 b"Action=GetCallerIdentity&Version=2011-06-15",
                 {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"})
    s3 = signed(S3SigV4Auth(credentials, "s3", "us-east-1"),
                "http://127.0.0.1:4566/bucket/some/key.txt?uploadId=abc&partNumber=2",
                b"", {"Content-Type": "text/plain", "x-amz-meta-a": "b"})
    for request, service in ((sts, "sts"), (s3, "s3")):
        cost = per_call(lambda request=request, service=service:
                        authenticate(request, service, STORE))
        print(f"SigV4 verification, {service}: {cost * 1e6:.1f} µs per request")


if __name__ == "__main__":
    main()
