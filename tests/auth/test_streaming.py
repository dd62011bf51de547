"""aws-chunked bodies: botocore's encoder and AWS's documented example as the oracles."""

from __future__ import annotations

import hashlib
import hmac
import io
from datetime import UTC, datetime

import botocore.session
import pytest
from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials
from botocore.httpchecksum import (
    AwsChunkedWrapper,
    Crc32Checksum,
    CrtCrc32cChecksum,
    CrtCrc64NvmeChecksum,
    Sha1Checksum,
    Sha256Checksum,
)

from cloudlet.auth import authenticate, checksums, sigv4, streaming
from cloudlet.auth.credentials import Credential, CredentialStore
from cloudlet.errors import ServiceError
from cloudlet.protocols.base import Headers, HttpRequest

CHECKSUMS = {
    "crc32": Crc32Checksum, "crc32c": CrtCrc32cChecksum, "crc64nvme": CrtCrc64NvmeChecksum,
    "sha1": Sha1Checksum, "sha256": Sha256Checksum,
}
PAYLOADS = [b"", b"x", b"hello world" * 1000, bytes(range(256)) * 300]


def botocore_chunked(payload: bytes, algorithm: str, chunk_size: int = 1024) -> bytes:
    wrapper = AwsChunkedWrapper(
        io.BytesIO(payload), checksum_cls=CHECKSUMS[algorithm],
        checksum_name=f"x-amz-checksum-{algorithm}", chunk_size=chunk_size,
    )
    return wrapper.read()


@pytest.mark.parametrize("algorithm", sorted(CHECKSUMS))
@pytest.mark.parametrize("payload", PAYLOADS, ids=lambda p: f"{len(p)}B")
def test_botocore_aws_chunked_decodes_and_verifies(algorithm, payload):
    body = botocore_chunked(payload, algorithm)
    name = f"x-amz-checksum-{algorithm}"
    decoded, trailers = streaming.decode(
        body, decoded_length=len(payload), trailer_names=[name]
    )
    assert decoded == payload
    assert trailers[name] == checksums.b64digest(algorithm, payload)


@pytest.mark.parametrize("algorithm", ["crc32", "crc32c", "sha256"])
def test_decoder_is_incremental(algorithm):
    payload = bytes(range(256)) * 40
    body = botocore_chunked(payload, algorithm, chunk_size=777)
    for step in (1, 7, 1000):
        decoder = streaming.AwsChunkedDecoder(
            decoded_length=len(payload), trailer_names=[f"x-amz-checksum-{algorithm}"]
        )
        out = b"".join(decoder.feed(body[i:i + step]) for i in range(0, len(body), step))
        assert out == payload
        assert f"x-amz-checksum-{algorithm}" in decoder.finish()


@pytest.mark.parametrize("algorithm", ["crc32", "crc32c", "sha256"])
def test_corrupted_payload_byte_fails_the_checksum(algorithm):
    payload = b"hello world" * 500
    body = bytearray(botocore_chunked(payload, algorithm))
    body[body.index(b"hello") + 3] ^= 0x01
    with pytest.raises(ServiceError) as info:
        streaming.decode(bytes(body), decoded_length=len(payload),
                         trailer_names=[f"x-amz-checksum-{algorithm}"])
    assert (info.value.code, info.value.status) == ("BadDigest", 400)
    assert algorithm.upper() in info.value.message


def test_wrong_trailer_value_fails():
    payload = b"abc" * 100
    body = botocore_chunked(payload, "crc32")
    wrong = checksums.b64digest("crc32", b"other")
    body = body.replace(checksums.b64digest("crc32", payload).encode(), wrong.encode())
    with pytest.raises(ServiceError) as info:
        streaming.decode(body, trailer_names=["x-amz-checksum-crc32"])
    assert info.value.code == "BadDigest"


def test_malformed_trailer_value_fails():
    body = botocore_chunked(b"abc", "crc32")
    body = body.replace(checksums.b64digest("crc32", b"abc").encode(), b"!!!")
    with pytest.raises(ServiceError) as info:
        streaming.decode(body, trailer_names=["x-amz-checksum-crc32"])
    assert info.value.code == "InvalidRequest"


def test_declared_trailer_missing_fails():
    with pytest.raises(ServiceError):
        streaming.decode(b"3\r\nabc\r\n0\r\n\r\n", trailer_names=["x-amz-checksum-crc32"])


@pytest.mark.parametrize("body", [
    b"3\r\nabc\r\n",  # no final chunk
    b"3\r\nab",  # truncated data
    b"3\r\nabc\r\n0\r\n",  # no final blank line
])
def test_truncated_body_is_incomplete(body):
    with pytest.raises(ServiceError) as info:
        streaming.decode(body)
    assert info.value.code == "IncompleteBody"


@pytest.mark.parametrize("body", [b"zz\r\nabc\r\n0\r\n\r\n", b"3\r\nabcX\r\n0\r\n\r\n",
                                  b"3\r\nabc\r\n0\r\nno-colon\r\n\r\n"])
def test_malformed_framing_is_rejected(body):
    with pytest.raises(ServiceError) as info:
        streaming.decode(body)
    assert info.value.code == "InvalidRequest"


def test_decoded_length_must_match():
    with pytest.raises(ServiceError) as info:
        streaming.decode(b"3\r\nabc\r\n0\r\n\r\n", decoded_length=4)
    assert info.value.code == "IncompleteBody"
    with pytest.raises(ServiceError):
        streaming.decode(b"3\r\nabc\r\n0\r\n\r\n", decoded_length=2)


# -- a real client's streaming upload ---------------------------------------------------

def captured_put(body, **params) -> HttpRequest:
    client = botocore.session.get_session().create_client(
        "s3", region_name="us-east-1", endpoint_url="https://127.0.0.1:4566",
        aws_access_key_id="test", aws_secret_access_key="test",
        config=Config(retries={"total_max_attempts": 1}),
    )
    sent = []

    def before_send(request, **kwargs):
        sent.append(request)
        raise RuntimeError("captured")

    client.meta.events.register("before-send", before_send)
    with pytest.raises(RuntimeError):
        client.put_object(Bucket="b", Key="k", Body=io.BytesIO(body), **params)
    request = sent[0]
    headers = [(n, v.decode() if isinstance(v, bytes) else v) for n, v in request.headers.items()]
    path, _, query = request.url.split("4566", 1)[1].partition("?")
    return HttpRequest(request.method, path, query, Headers(headers), request.body.read())


@pytest.mark.parametrize("algorithm", ["CRC32", "CRC32C", "SHA256", "CRC64NVME"])
def test_client_streaming_unsigned_trailer_upload(algorithm):
    payload = b"0123456789" * 20000
    request = captured_put(payload, ChecksumAlgorithm=algorithm)
    assert request.headers["x-amz-content-sha256"] == sigv4.STREAMING_UNSIGNED_TRAILER
    result = authenticate(request, "s3", CredentialStore())
    assert result.body == payload
    assert result.trailers == {
        f"x-amz-checksum-{algorithm.lower()}": checksums.b64digest(algorithm.lower(), payload)
    }
    corrupted = bytearray(request.body)
    corrupted[len(corrupted) // 2] ^= 0x20
    bad = HttpRequest(request.method, request.path, request.query, request.headers,
                      bytes(corrupted))
    with pytest.raises(ServiceError) as info:
        authenticate(bad, "s3", CredentialStore())
    assert info.value.code in ("BadDigest", "InvalidRequest")


# -- STREAMING-AWS4-HMAC-SHA256-PAYLOAD: AWS's documented example ------------------------
# S3 API reference, "Signature Calculations for the Authorization Header: Transferring
# Payload in Multiple Chunks": PUT of 66560 bytes of 'a' in chunks of 65536 and 1024.

DOC_KEY = "AKIAIOSFODNN7EXAMPLE"
DOC_SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
DOC_NOW = datetime(2013, 5, 24, tzinfo=UTC)
DOC_SEED = "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9"
DOC_CHUNKS = [
    (65536, "ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648"),
    (1024, "0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497"),
    (0, "b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9"),
]


def doc_store() -> CredentialStore:
    store = CredentialStore(defaults=False)
    store.add_resolver(lambda key: Credential(key, DOC_SECRET, "111122223333",
                                              "arn:aws:iam::111122223333:root")
                       if key == DOC_KEY else None)
    return store


def doc_body(chunks=DOC_CHUNKS) -> bytes:
    parts = [b"%x;chunk-signature=%s\r\n%s\r\n" % (size, sig.encode(), b"a" * size)
             for size, sig in chunks[:-1]]
    size, sig = chunks[-1]
    parts.append(b"%x;chunk-signature=%s\r\n\r\n" % (size, sig.encode()))
    return b"".join(parts)


def doc_request(body: bytes | None = None) -> HttpRequest:
    body = doc_body() if body is None else body
    signed = ("content-encoding;content-length;host;x-amz-content-sha256;x-amz-date;"
              "x-amz-decoded-content-length;x-amz-storage-class")
    headers = [
        ("Host", "s3.amazonaws.com"),
        ("x-amz-date", "20130524T000000Z"),
        ("x-amz-storage-class", "REDUCED_REDUNDANCY"),
        ("Authorization", f"AWS4-HMAC-SHA256 Credential={DOC_KEY}/20130524/us-east-1/s3/"
                          f"aws4_request,SignedHeaders={signed},Signature={DOC_SEED}"),
        ("x-amz-content-sha256", sigv4.STREAMING_PAYLOAD),
        ("Content-Encoding", "aws-chunked"),
        ("x-amz-decoded-content-length", "66560"),
        ("Content-Length", "66824"),
    ]
    return HttpRequest("PUT", "/examplebucket/chunkObject.txt", "", Headers(headers), body)


def test_documented_chunked_upload_verifies():
    assert len(doc_body()) == 66824
    result = authenticate(doc_request(), "s3", doc_store(), now=DOC_NOW)
    assert result.body == b"a" * 66560
    assert result.credential.access_key_id == DOC_KEY


def test_documented_chunk_signatures_chain_from_the_seed():
    key = sigv4.signing_key(DOC_SECRET, "20130524", "us-east-1", "s3")
    signer = streaming.ChunkSigner(key, "20130524T000000Z", "20130524/us-east-1/s3/aws4_request",
                                   DOC_SEED)
    for size, expected in DOC_CHUNKS:
        assert signer.chunk_signature(hashlib.sha256(b"a" * size).hexdigest()) == expected
        signer.previous = expected


def doc_rejects(body: bytes) -> ServiceError:
    with pytest.raises(ServiceError) as info:
        authenticate(doc_request(body), "s3", doc_store(), now=DOC_NOW)
    return info.value


def test_documented_upload_with_a_changed_byte_is_rejected():
    body = bytearray(doc_body())
    body[1000] = ord("b")
    assert doc_rejects(bytes(body)).code == "SignatureDoesNotMatch"


def test_documented_upload_with_a_changed_chunk_signature_is_rejected():
    chunks = list(DOC_CHUNKS)
    chunks[1] = (1024, "0" * 64)
    assert doc_rejects(doc_body(chunks)).code == "SignatureDoesNotMatch"


def test_documented_upload_with_swapped_chunks_is_rejected():
    chunks = [DOC_CHUNKS[1], DOC_CHUNKS[0], DOC_CHUNKS[2]]
    assert doc_rejects(doc_body(chunks)).code == "SignatureDoesNotMatch"


def test_documented_upload_without_its_final_chunk_is_rejected():
    body = doc_body()
    assert doc_rejects(body[: body.rindex(b"0;chunk-signature")]).code == "IncompleteBody"


def test_documented_upload_with_a_wrong_seed_is_rejected():
    request = doc_request()
    raw = [(n, v.replace(DOC_SEED, "1" * 64)) for n, v in request.headers.raw]
    with pytest.raises(ServiceError) as info:
        authenticate(HttpRequest("PUT", request.path, "", Headers(raw), request.body), "s3",
                     doc_store(), now=DOC_NOW)
    assert info.value.code == "SignatureDoesNotMatch"


# -- STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER ------------------------------------------
# The seed comes from botocore's S3 signer; the chunk and trailer signatures from the
# formulas of AWS's document, written out here independently of the verifier.

def _hmac(key: bytes, text: str) -> str:
    return hmac.new(key, text.encode(), hashlib.sha256).hexdigest()


def signed_trailer_request(payload: bytes, chunk: int = 8192, tamper_trailer: bool = False):
    class StreamingSigner(S3SigV4Auth):
        def payload(self, request):
            return sigv4.STREAMING_PAYLOAD_TRAILER

    crc = checksums.b64digest("crc32c", payload)
    request = AWSRequest(method="PUT", url="http://127.0.0.1:4566/b/k", headers={
        "Content-Encoding": "aws-chunked", "x-amz-trailer": "x-amz-checksum-crc32c",
        "x-amz-decoded-content-length": str(len(payload)),
    })
    StreamingSigner(Credentials("test", "test"), "s3", "us-east-1").add_auth(request)
    prepared = request.prepare()
    headers = [(n, v.decode() if isinstance(v, bytes) else v) for n, v in prepared.headers.items()]
    headers.append(("Host", "127.0.0.1:4566"))
    seed = prepared.headers["Authorization"].rsplit("Signature=", 1)[1]
    timestamp = prepared.headers["X-Amz-Date"]
    scope = f"{timestamp[:8]}/us-east-1/s3/aws4_request"
    key = sigv4.signing_key("test", timestamp[:8], "us-east-1", "s3")
    empty = hashlib.sha256(b"").hexdigest()
    previous, body = seed, b""
    pieces = [payload[i:i + chunk] for i in range(0, len(payload), chunk)] + [b""]
    for piece in pieces:
        previous = _hmac(key, f"AWS4-HMAC-SHA256-PAYLOAD\n{timestamp}\n{scope}\n{previous}\n"
                              f"{empty}\n{hashlib.sha256(piece).hexdigest()}")
        body += b"%x;chunk-signature=%s\r\n" % (len(piece), previous.encode())
        body += piece + b"\r\n" if piece else b""
    trailer = f"x-amz-checksum-crc32c:{crc}\n"
    signature = _hmac(key, f"AWS4-HMAC-SHA256-TRAILER\n{timestamp}\n{scope}\n{previous}\n"
                           f"{hashlib.sha256(trailer.encode()).hexdigest()}")
    if tamper_trailer:
        crc = checksums.b64digest("crc32c", payload + b"!")
    body += f"x-amz-checksum-crc32c:{crc}\r\nx-amz-trailer-signature:{signature}\r\n\r\n".encode()
    return HttpRequest("PUT", "/b/k", "", Headers(headers), body)


def test_signed_chunks_with_signed_trailer_verify():
    payload = bytes(range(256)) * 100
    result = authenticate(signed_trailer_request(payload), "s3", CredentialStore())
    assert result.body == payload
    assert result.trailers == {"x-amz-checksum-crc32c": checksums.b64digest("crc32c", payload)}


def test_tampered_signed_trailer_is_rejected():
    with pytest.raises(ServiceError) as info:
        authenticate(signed_trailer_request(b"x" * 20000, tamper_trailer=True), "s3",
                     CredentialStore())
    assert info.value.code == "SignatureDoesNotMatch"


def test_deferred_body_streams_through_the_decoder():
    request = doc_request()
    headers_only = HttpRequest(request.method, request.path, "", request.headers, b"")
    result = authenticate(headers_only, "s3", doc_store(), now=DOC_NOW, defer_body=True)
    assert result.body == b"" and result.decoder is not None
    out = b"".join(result.decoder.feed(request.body[i:i + 4096])
                   for i in range(0, len(request.body), 4096))
    assert out == b"a" * 66560
    assert result.decoder.finish() == {}
