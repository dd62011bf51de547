"""SNS's message signatures, as AWS documents them for HTTP/S endpoints to verify.

The string to sign is `Key\\nValue\\n` for each of a fixed list of keys, in byte order,
present in the message: for a Notification Message, MessageId, Subject (only if present),
Timestamp, TopicArn, Type; for a SubscriptionConfirmation or UnsubscribeConfirmation
Message, MessageId, SubscribeURL, Timestamp, Token, TopicArn, Type. SignatureVersion 1
signs it with SHA1withRSA, version 2 with SHA256withRSA; the signature is base64.

The key and a self-signed certificate are generated once under the data directory; the
certificate is served at `CERT_PATH`, which every message names as its SigningCertURL.
"""

from __future__ import annotations

import base64
import threading
from pathlib import Path

from cloudlet.tls import self_signed, write_private

CERT_PATH = "/_cloudlet/sns/SimpleNotificationService.pem"
NOTIFICATION_KEYS = ("Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type")
CONFIRMATION_KEYS = ("Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn",
                     "Type")


def string_to_sign(message: dict) -> str:
    keys = NOTIFICATION_KEYS if message["Type"] == "Notification" else CONFIRMATION_KEYS
    return "".join(f"{key}\n{message[key]}\n" for key in keys if key in message)


class Signer:
    def __init__(self, directory: Path):
        self.directory = Path(directory)
        self._key = None
        self._cert_pem: bytes | None = None
        self._lock = threading.Lock()

    def sign(self, message: dict, version: str = "1") -> str:
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import padding

        self._load()
        digest = hashes.SHA256() if version == "2" else hashes.SHA1()  # noqa: S303 (AWS's v1)
        signature = self._key.sign(string_to_sign(message).encode("utf-8"), padding.PKCS1v15(),
                                   digest)
        return base64.b64encode(signature).decode()

    def certificate(self) -> bytes:
        self._load()
        return self._cert_pem

    def _load(self) -> None:
        with self._lock:
            if self._key is not None:
                return
            from cryptography.hazmat.primitives import serialization

            cert_path, key_path = self.directory / "cert.pem", self.directory / "key.pem"
            if not (cert_path.exists() and key_path.exists()):
                _generate(self.directory, cert_path, key_path)
            self._key = serialization.load_pem_private_key(key_path.read_bytes(), None)
            self._cert_pem = cert_path.read_bytes()


def _generate(directory: Path, cert_path: Path, key_path: Path) -> None:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import NameOID

    directory.mkdir(parents=True, exist_ok=True)
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "sns.cloudlet.localhost")])
    cert = self_signed(name, key, days=3650).sign(key, hashes.SHA256())
    write_private(key_path, key.private_bytes(serialization.Encoding.PEM,
                                              serialization.PrivateFormat.PKCS8,
                                              serialization.NoEncryption()))
    write_private(cert_path, cert.public_bytes(serialization.Encoding.PEM))
