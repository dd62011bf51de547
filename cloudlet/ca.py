"""Cloudlet's certificate authorities: a root certificate and key kept in a directory of the
data directory, and the server certificates they sign.

    rds_ca(data_dir)       <data dir>/rds/ca/: RDS instances' certificates, for their endpoint
                           names (`cloudlet rds ca-bundle` prints `rds-ca-bundle.pem`), so
                           that `sslmode=verify-full` and Node's `rejectUnauthorized` hold
    cloudlet_ca(data_dir)  <data dir>/ca/: everything else that serves TLS inside the cloud
                           (AWS's endpoint names inside a VPC); every EC2 instance trusts it,
                           and the RDS CA too
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import threading
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from cloudlet.tls import self_signed, write_private

CA_NAME = "Cloudlet RDS Root CA"
CA_IDENTIFIER = "cloudlet-rds-ca-ecc256-g1"
BUNDLE = "rds-ca-bundle.pem"
ROOT_NAME = "Cloudlet Root CA"
ROOT_BUNDLE = "ca-bundle.pem"


def rds_ca(data_dir: Path) -> CertificateAuthority:
    return CertificateAuthority(Path(data_dir) / "rds" / "ca")


def cloudlet_ca(data_dir: Path) -> CertificateAuthority:
    return CertificateAuthority(Path(data_dir) / "ca", ROOT_NAME, ROOT_BUNDLE)


def _pem_key(key) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


class CertificateAuthority:
    def __init__(self, directory: Path, name: str = CA_NAME, bundle: str = BUNDLE):
        self.directory = Path(directory)
        self.name, self.bundle_name = name, bundle
        self._lock = threading.Lock()
        self._cert: x509.Certificate | None = None
        self._key = None

    @property
    def bundle_path(self) -> Path:
        return self.directory / self.bundle_name

    def bundle(self) -> str:
        self._ensure()
        return self.bundle_path.read_text()

    @property
    def valid_till(self) -> dt.datetime:
        self._ensure()
        return self._cert.not_valid_after_utc

    def _ensure(self) -> None:
        with self._lock:
            if self._cert is not None:
                return
            key_path = self.directory / "ca-key.pem"
            if self.bundle_path.exists() and key_path.exists():
                self._cert = x509.load_pem_x509_certificate(self.bundle_path.read_bytes())
                self._key = serialization.load_pem_private_key(key_path.read_bytes(), None)
                return
            self.directory.mkdir(parents=True, exist_ok=True)
            key = ec.generate_private_key(ec.SECP256R1())
            name = x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Cloudlet"),
                              x509.NameAttribute(NameOID.COMMON_NAME, self.name)])
            cert = (
                self_signed(name, key, days=3650)
                .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
                .add_extension(x509.KeyUsage(
                    digital_signature=True, content_commitment=False, key_encipherment=False,
                    data_encipherment=False, key_agreement=False, key_cert_sign=True,
                    crl_sign=True, encipher_only=False, decipher_only=False), critical=True)
                .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()),
                               critical=False)
                .sign(key, hashes.SHA256())
            )
            write_private(key_path, _pem_key(key))
            write_private(self.bundle_path, cert.public_bytes(serialization.Encoding.PEM))
            self._cert, self._key = cert, key

    def issue(self, hosts: list[str], cert_path: Path, key_path: Path,
              addresses: tuple[str, ...] = ("127.0.0.1",)) -> None:
        """A server certificate for `hosts` (DNS names, wildcards allowed) and `addresses`,
        written as PEM to cert_path and key_path (mode 0600)."""
        self._ensure()
        key = ec.generate_private_key(ec.SECP256R1())
        names = list(dict.fromkeys([*hosts, "localhost"]))
        sans = [x509.DNSName(h) for h in names]
        sans += [x509.IPAddress(ipaddress.ip_address(a)) for a in addresses]
        now = dt.datetime.now(dt.UTC)
        cert = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0][:64])]))
            .issuer_name(self._cert.subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(min(now + dt.timedelta(days=395), self._cert.not_valid_after_utc))
            .add_extension(x509.SubjectAlternativeName(sans), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]),
                           critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(
                self._key.public_key()), critical=False)
            .sign(self._key, hashes.SHA256())
        )
        cert_path.parent.mkdir(parents=True, exist_ok=True)
        write_private(key_path, _pem_key(key))
        write_private(cert_path, cert.public_bytes(serialization.Encoding.PEM))
