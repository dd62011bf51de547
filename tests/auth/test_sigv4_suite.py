"""AWS's SigV4 test suite (shared/conformance/aws4_testsuite), run server-side.

Every case's `.req` is parsed as a server would receive it, given the Authorization of
its `.authz`, and must authenticate; the canonical request and string to sign must equal
`.creq` and `.sts`; and changing any signed part of the request must fail.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from pathlib import Path

import pytest

from cloudlet.auth import authenticate, sigv4
from cloudlet.auth.credentials import Credential, CredentialStore
from cloudlet.errors import ServiceError
from cloudlet.protocols.base import Headers, HttpRequest

SUITE = Path(__file__).resolve().parents[2].parent / "shared" / "conformance" / "aws4_testsuite"
ACCESS_KEY = "AKIDEXAMPLE"
SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
NOW = datetime(2015, 8, 30, 12, 36, 0, tzinfo=UTC)
CASES = sorted(SUITE.rglob("*.req"))


def store() -> CredentialStore:
    credential = Credential(ACCESS_KEY, SECRET, "111122223333", "arn:aws:iam::111122223333:root")
    s = CredentialStore(defaults=False)
    s.add_resolver(lambda key: credential if key == ACCESS_KEY else None)
    return s


def parse_req(path: Path) -> HttpRequest:
    """A raw `.req` file as a server sees it: request line (decoded as latin-1, as the
    gateway decodes paths), headers (UTF-8, folded), body."""
    raw = path.read_bytes()
    first, _, _ = raw.partition(b"\n")
    text = raw.decode("utf-8")
    head, _, body = text.partition("\n\n")
    lines = head.split("\n")
    request_line = first.decode("latin-1")
    method, _, rest = request_line.partition(" ")
    target = rest[: rest.rfind(" HTTP/")]
    headers: list[list[str]] = []
    for line in lines[1:]:
        if line[:1] in (" ", "\t") and headers:
            headers[-1][1] += " " + line.strip()
        elif line:
            name, _, value = line.partition(":")
            headers.append([name, value])
    target_path, _, query = target.partition("?")
    return HttpRequest(
        method=method, path=target_path, query=query,
        headers=Headers((n, v) for n, v in headers), body=body.encode("utf-8"),
    )


def sibling(req: Path, ext: str) -> str:
    return req.with_suffix(ext).read_text(encoding="utf-8")


def signed(req: Path) -> HttpRequest:
    """`.req` with the `.authz` Authorization, plus the headers `.sreq` adds (the session
    token of the post-sts-token cases; get-vanilla-with-session-token's `.req` omits the
    token its `.creq` signs, and its `.sreq` carries a garbled signature)."""
    request = parse_req(req)
    names = {name.lower() for name, _ in request.headers.raw}
    added = [
        (name, value) for name, value in parse_req(req.with_suffix(".sreq")).headers.raw
        if name.lower() not in names and name.lower() != "authorization"
    ]
    authz = ("Authorization", sibling(req, ".authz").strip())
    return HttpRequest(
        request.method, request.path, request.query,
        Headers([*request.headers.raw, *added, authz]), request.body,
    )


def case_id(path: Path) -> str:
    return path.stem


@pytest.mark.parametrize("req", CASES, ids=case_id)
def test_suite_request_authenticates(req):
    result = authenticate(signed(req), "service", store(), now=NOW)
    assert result.credential.access_key_id == ACCESS_KEY
    assert result.method == "sigv4-header"
    assert (result.region, result.service) == ("us-east-1", "service")


@pytest.mark.parametrize("req", CASES, ids=case_id)
def test_suite_canonical_request_and_string_to_sign(req):
    request = signed(req)
    parts = sigv4.parse_authorization(
        sibling(req, ".authz").strip(), request.headers["x-amz-date"]
    )
    attempt = sigv4.compute(
        request.method, request.path, request.query, request.headers.raw, parts,
        hashlib.sha256(request.body).hexdigest(), SECRET, s3=False, presigned=False,
    )
    assert attempt.canonical_request == sibling(req, ".creq")
    assert attempt.string_to_sign == sibling(req, ".sts")
    assert attempt.signature == parts.signature


def tampered(req: Path):
    """Each request with one signed part changed: (what changed, request)."""
    base = signed(req)
    parts = sigv4.parse_authorization(sibling(req, ".authz").strip())
    raw = base.headers.raw

    def with_headers(new_raw):
        return HttpRequest(base.method, base.path, base.query, Headers(new_raw), base.body)

    for name in parts.signed_headers:
        index = next(i for i, (n, _) in enumerate(raw) if n.lower() == name)
        changed = list(raw)
        changed[index] = (raw[index][0], raw[index][1] + "x")
        yield f"header {name}", with_headers(changed)
    yield "method", HttpRequest("PUT" if base.method != "PUT" else "GET", base.path,
                                base.query, base.headers, base.body)
    yield "path", HttpRequest(base.method, base.path + "x", base.query, base.headers, base.body)
    query = base.query + "x" if base.query else "extra=1"
    yield "query", HttpRequest(base.method, base.path, query, base.headers, base.body)
    yield "body", HttpRequest(base.method, base.path, base.query, base.headers, base.body + b"x")
    date = next(i for i, (n, _) in enumerate(raw) if n.lower() == "x-amz-date")
    changed = list(raw)
    changed[date] = (raw[date][0], "20150830T123601Z")
    yield "date", with_headers(changed)


TAMPERED = [
    pytest.param(request, id=f"{case_id(req)}:{what}")
    for req in CASES for what, request in tampered(req)
]


@pytest.mark.parametrize("request_", TAMPERED)
def test_suite_request_rejected_when_a_signed_part_changes(request_):
    with pytest.raises(ServiceError) as info:
        authenticate(request_, "service", store(), now=NOW)
    # A changed X-Amz-Date is no timestamp any more: the signature is then incomplete.
    assert (info.value.code, info.value.status) in {
        ("SignatureDoesNotMatch", 403), ("IncompleteSignature", 400)
    }


@pytest.mark.parametrize("req", CASES[:3], ids=case_id)
def test_suite_request_rejected_with_another_secret(req):
    other = CredentialStore(defaults=False)
    other.add_resolver(lambda key: Credential(key, SECRET + "x", "1", "arn:aws:iam::1:root"))
    with pytest.raises(ServiceError) as info:
        authenticate(signed(req), "sts", other, now=NOW)
    assert info.value.code == "SignatureDoesNotMatch"


TOKEN_CASES = [req for req in CASES if "x-amz-security-token" in signed(req).headers]


@pytest.mark.parametrize("req", TOKEN_CASES, ids=case_id)
def test_suite_session_token_must_match_the_credential(req):
    request = signed(req)
    token = request.headers["x-amz-security-token"]

    def session(other_token):
        s = CredentialStore(defaults=False)
        s.add_resolver(lambda key: Credential(
            key, SECRET, "111122223333", "arn:aws:sts::111122223333:assumed-role/r/s",
            session_token=other_token, kind="assumed-role"))
        return s

    assert authenticate(request, "sts", session(token), now=NOW).credential.session_token == token
    with pytest.raises(ServiceError) as info:
        authenticate(request, "sts", session(token + "x"), now=NOW)
    assert info.value.code == "InvalidClientTokenId"


def test_suite_is_present():
    assert len(CASES) >= 25
