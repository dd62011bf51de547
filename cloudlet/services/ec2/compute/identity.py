"""Signing the instance identity document (`dynamic/instance-identity/`), as AWS's IMDS does:

    signature   base64 of the document's SHA256withRSA signature (PKCS#1 v1.5)
    pkcs7       base64 of a detached PKCS#7 (CMS) SignedData over the document, SHA-256
    rsa2048     the same, as AWS's RSA-2048 variant

One RSA-2048 key signs all three, in every region (AWS uses a DSA key for `pkcs7` and a key
per region; a verifier only needs our certificate). The key and its self-signed certificate
are made once under `<data dir>/ec2/identity/` (files 0600) and the certificate is public at
`CERT_PATH` on Cloudlet's endpoint, so AWS's own verification steps work unchanged:

    openssl dgst -sha256 -verify <(openssl x509 -pubkey -noout -in cert.pem) \\
        -signature <(base64 -d signature) document
    openssl smime -verify -in rsa2048.pem -inform PEM -content document \\
        -certfile cert.pem -noverify          # rsa2048 wrapped in BEGIN/END PKCS7 lines
"""

from __future__ import annotations

import base64
import os
import threading
from functools import lru_cache
from pathlib import Path

from cloudlet.tls import self_signed, write_private

CERT_PATH = "/_cloudlet/ec2/instance-identity.pem"


def _mime(raw: bytes) -> str:
    """Base64 in 76-character lines, as IMDS serves its signatures."""
    return base64.encodebytes(raw).decode().rstrip("\n")


class IdentitySigner:
    def __init__(self, directory: Path):
        self.directory = Path(directory)
        self._key = None
        self._cert = None
        self._cert_pem: bytes | None = None
        self._lock = threading.Lock()
        self.sign = lru_cache(maxsize=512)(self._sign)

    def certificate(self) -> bytes:
        self._load()
        return self._cert_pem

    def _sign(self, document: str) -> dict[str, str]:
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import padding
        from cryptography.hazmat.primitives.serialization import pkcs7

        self._load()
        data = document.encode()
        signature = self._key.sign(data, padding.PKCS1v15(), hashes.SHA256())
        signed = (pkcs7.PKCS7SignatureBuilder().set_data(data)
                  .add_signer(self._cert, self._key, hashes.SHA256())
                  .sign(serialization.Encoding.DER, [pkcs7.PKCS7Options.DetachedSignature,
                                                     pkcs7.PKCS7Options.NoCerts,
                                                     pkcs7.PKCS7Options.Binary]))
        return {"signature": _mime(signature), "pkcs7": _mime(signed), "rsa2048": _mime(signed)}

    def _load(self) -> None:
        with self._lock:
            if self._key is not None:
                return
            from cryptography import x509
            from cryptography.hazmat.primitives import serialization

            cert_path, key_path = self.directory / "cert.pem", self.directory / "key.pem"
            try:
                key = serialization.load_pem_private_key(key_path.read_bytes(), None)
                cert_pem = cert_path.read_bytes()
                cert = x509.load_pem_x509_certificate(cert_pem)
            except (OSError, ValueError):  # none yet, or a crash left half of them
                key, cert, cert_pem = _generate(self.directory, cert_path, key_path)
            self._key, self._cert, self._cert_pem = key, cert, cert_pem


def _generate(directory: Path, cert_path: Path, key_path: Path):
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import NameOID

    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([
        x509.NameAttribute(NameOID.COUNTRY_NAME, "US"),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Cloudlet"),
        x509.NameAttribute(NameOID.COMMON_NAME, "ec2.instance-identity.cloudlet.localhost")])
    cert = self_signed(name, key, days=3650).sign(key, hashes.SHA256())
    cert_pem = cert.public_bytes(serialization.Encoding.PEM)
    for path, data in ((key_path, key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption())), (cert_path, cert_pem)):
        partial = path.with_name(path.name + ".tmp")
        write_private(partial, data)
        with open(partial, "rb") as f:
            os.fsync(f.fileno())
        os.replace(partial, path)
    return key, cert, cert_pem
