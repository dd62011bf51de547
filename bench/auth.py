"""Cost of verifying one signed request (SigV4 header), in-process: no timing is asserted
in the test suite, so the figure lives here. Run: .venv/bin/python bench/auth.py

Besides the default credentials: an IAM user's access key and an STS session, whose
secrets are looked up in the store (sealed at rest since m0017). "cached" is every request
after the first; "cold" empties the resolver's cache before each request, so each one reads
the row and opens the sealed secret."""

from __future__ import annotations

import tempfile
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


def sts_request(credentials: Credentials) -> HttpRequest:
    return signed(SigV4Auth(credentials, "sts", "us-east-1"), "http://127.0.0.1:4566/",
                  b"Action=GetCallerIdentity&Version=2011-06-15",
                  {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"})


def stored_credentials(root: str):
    """A store with an IAM user's key and an STS session, the resolvers that find them, and
    what empties their caches."""
    from cloudlet.services.base import RequestContext
    from cloudlet.services.iam.provider import IamProvider
    from cloudlet.services.sts.provider import StsProvider
    from cloudlet.store import Store

    store = Store.open(root)
    iam, sts = IamProvider(store), StsProvider(store)
    iam.attach({"iam": iam, "sts": sts})
    sts.attach({"iam": iam, "sts": sts})
    ctx = RequestContext("iam", "CreateUser", "us-east-1", "000000000000", "bench",
                         caller=STORE.lookup("test"))
    iam.create_user(ctx, {"UserName": "bench"})
    key = iam.create_access_key(ctx, {"UserName": "bench"})["AccessKey"]
    session = sts.sessions.create(account_id="000000000000", kind="user", arn="arn:bench",
                                  user_id="bench", name=None, duration=3600, session={})
    store_ = CredentialStore()
    store_.add_resolver(iam.credential_for)
    store_.add_resolver(sts.credential_for)

    def forget():
        iam._credentials.clear()
        sts.sessions._cache.clear()

    user = Credentials(key["AccessKeyId"], key["SecretAccessKey"])
    temporary = Credentials(session.access_key_id, session.secret_access_key,
                            session.session_token)
    return store_, forget, user, temporary


def main() -> None:
    credentials = Credentials("test", "test")
    sts = sts_request(credentials)
    s3 = signed(S3SigV4Auth(credentials, "s3", "us-east-1"),
                "http://127.0.0.1:4566/bucket/some/key.txt?uploadId=abc&partNumber=2",
                b"", {"Content-Type": "text/plain", "x-amz-meta-a": "b"})
    for request, service in ((sts, "sts"), (s3, "s3")):
        cost = per_call(lambda request=request, service=service:
                        authenticate(request, service, STORE))
        print(f"SigV4 verification, {service}: {cost * 1e6:.1f} µs per request")
    with tempfile.TemporaryDirectory(prefix="cloudlet-bench-auth-") as root:
        store, forget, user, temporary = stored_credentials(root)
        for label, creds in (("IAM user's key", user), ("STS session", temporary)):
            request = sts_request(creds)
            cached = per_call(lambda request=request: authenticate(request, "sts", store))

            def cold(request=request):
                forget()
                authenticate(request, "sts", store)

            print(f"SigV4 verification, sts, {label}: {cached * 1e6:.1f} µs cached, "
                  f"{per_call(cold, n=1000) * 1e6:.1f} µs cold (row read, secret opened)")


if __name__ == "__main__":
    main()
