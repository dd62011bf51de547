"""Secrets at rest, sealed with AES-256-GCM under the data directory's key.

The key is 32 random bytes in `<data dir>/secrets.key` (0600), made on first use. A
sealed value is text that stays in the same TEXT column or JSON field the plaintext had:

    sealed:1:<base64url(12-byte nonce + ciphertext + 16-byte tag)>

The associated data names where the value belongs (`where(table, field, *key)`:
`iam_access_keys.secret/AKIA...`), so a sealed value copied into another row does not open. What is sealed, and by whom, is listed
in migration m0017, which seals what older data directories hold in plaintext.

The key beside the database protects the database file and its copies (a backup, a
`sqlite3` dump, a file attached to a bug report), not the directory as a whole: that is the
job of the directory's modes (store/private.py), which keep the key from other users too.
"""

from __future__ import annotations

import base64
import os
import secrets
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

KEY_FILE = "secrets.key"
PREFIX = "sealed:1:"
_NONCE = 12


class SealError(Exception):
    """A sealed value that does not open with this key (another key, or tampered with)."""


class Sealer:
    def __init__(self, key: bytes):
        self._aead = AESGCM(key)

    @classmethod
    def for_directory(cls, root: Path) -> Sealer:
        return cls(_load_or_create(Path(root) / KEY_FILE))

    def seal(self, plaintext: str, where: str) -> str:
        nonce = secrets.token_bytes(_NONCE)
        sealed = self._aead.encrypt(nonce, plaintext.encode(), where.encode())
        return PREFIX + base64.urlsafe_b64encode(nonce + sealed).decode()

    def open(self, value: str, where: str) -> str:
        if not is_sealed(value):
            raise SealError(f"{where}: not a sealed value")
        try:
            raw = base64.urlsafe_b64decode(value[len(PREFIX):])
            return self._aead.decrypt(raw[:_NONCE], raw[_NONCE:], where.encode()).decode()
        except (InvalidTag, ValueError) as error:
            raise SealError(f"{where}: does not open with {KEY_FILE}") from error


def where(table: str, field: str, *key: str) -> str:
    """The associated data of a sealed value: its table, its field and its row's key."""
    return "/".join((f"{table}.{field}", *key))


def is_sealed(value) -> bool:
    return isinstance(value, str) and value.startswith(PREFIX)


def _load_or_create(path: Path) -> bytes:
    """The key, or a new one: written to a private temporary file, fsynced and linked into
    place (link, not rename: a key some other start made first is never replaced)."""
    try:
        key = path.read_bytes()
    except FileNotFoundError:
        tmp = path.with_name(f"{path.name}.{secrets.token_hex(4)}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            os.write(fd, AESGCM.generate_key(bit_length=256))
            os.fsync(fd)
        finally:
            os.close(fd)
        try:
            os.link(tmp, path)
        except FileExistsError:
            pass
        finally:
            tmp.unlink()
        directory = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(directory)
        finally:
            os.close(directory)
        key = path.read_bytes()
    if len(key) != 32:
        raise SealError(f"{path} is not a 32-byte key")
    return key
