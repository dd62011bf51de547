"""A self-signed certificate for serving HTTPS on loopback (`cloudlet up --tls`)."""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
from pathlib import Path


def ensure_certificate(directory: Path) -> tuple[Path, Path]:
    directory.mkdir(parents=True, exist_ok=True)
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    if cert_path.exists() and key_path.exists():
        return cert_path, key_path
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "cloudlet.localhost")])
    sans = [x509.DNSName("localhost"), x509.DNSName("*.localhost"),
            x509.DNSName("*.s3.localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
    cert = (
        self_signed(name, key, days=825)
        .add_extension(x509.SubjectAlternativeName(sans), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    write_private(key_path, key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()))
    write_private(cert_path, cert.public_bytes(serialization.Encoding.PEM))
    return cert_path, key_path


def write_private(path: Path, data: bytes) -> None:
    """Write a file born 0600 (a key never exists with looser modes, whatever the umask)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with open(fd, "wb") as f:
        os.fchmod(fd, 0o600)
        f.write(data)


def self_signed(name, key, days: int):
    """A certificate builder for a certificate of `name` issued by itself, for `key`'s public
    key, with a random serial, valid from a day ago for `days` days; the caller adds
    extensions and signs."""
    from cryptography import x509

    now = dt.datetime.now(dt.UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=days))
    )
