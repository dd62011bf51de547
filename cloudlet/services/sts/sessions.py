"""Temporary credentials: minting them, keeping them, and finding them again.

`SessionStore.create(...)` makes an `ASIA...` key, a 40-character secret and an opaque
session token, stores them with the session's facts and returns the `Credential`;
`SessionStore.lookup(key)` is the resolver the authentication layer asks. Expiry is judged
by the authentication layer against the service clock, so an expired session still resolves
(and the caller hears ExpiredToken rather than InvalidClientTokenId).

Key ids carry their account the way AWS's do (`cloudlet.key_ids`).
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import secrets
import threading

from cloudlet import clock
from cloudlet.key_ids import new_key_id
from cloudlet.principals import Credential
from cloudlet.store.db import Database
from cloudlet.store.sealing import Sealer, where

_TOKEN_PREFIX = "IQoJb3JpZ2luX2Vj"  # every AWS session token starts so
_CACHE_SIZE = 4096


def new_secret() -> str:
    return base64.b64encode(secrets.token_bytes(30)).decode()


def new_token() -> str:
    return _TOKEN_PREFIX + base64.b64encode(secrets.token_bytes(300)).decode()


class SessionStore:
    """The secret and the token are sealed at rest (store/sealing.py); a lookup opens them
    once, then serves the key from its cache."""

    def __init__(self, db: Database, sealer: Sealer):
        self.db = db
        self.sealer = sealer
        self._cache: dict[str, Credential] = {}
        self._lock = threading.Lock()

    def create(self, *, account_id: str, kind: str, arn: str, user_id: str, name: str | None,
               duration: int, session: dict) -> Credential:
        issued = clock.timestamp()
        expiration = float(int(issued) + int(duration))
        credential = Credential(
            access_key_id=new_key_id(account_id), secret_access_key=new_secret(),
            account_id=account_id, arn=arn, session_token=new_token(),
            expiration=dt.datetime.fromtimestamp(expiration, dt.UTC), kind=kind,
            user_id=user_id, name=name, session=session,
        )
        with self.db.transaction() as conn:
            conn.execute(
                "INSERT INTO sts_sessions (access_key_id, secret, token, account, kind, arn,"
                " user_id, name, issued, expiration, session)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (credential.access_key_id,
                 self.sealer.seal(credential.secret_access_key,
                                  where("sts_sessions", "secret", credential.access_key_id)),
                 self.sealer.seal(credential.session_token,
                                  where("sts_sessions", "token", credential.access_key_id)),
                 account_id, kind, arn, user_id, name, issued,
                 expiration, json.dumps(session)),
            )
        return credential

    def lookup(self, access_key_id: str) -> Credential | None:
        if not access_key_id.startswith("ASIA"):
            return None
        cached = self._cache.get(access_key_id)
        if cached is not None:
            return cached
        rows = self.db.query("SELECT * FROM sts_sessions WHERE access_key_id = ?",
                             (access_key_id,))
        if not rows:
            return None
        row = rows[0]
        credential = Credential(
            access_key_id=row["access_key_id"],
            secret_access_key=self.sealer.open(row["secret"], where("sts_sessions", "secret",
                                                                    access_key_id)),
            account_id=row["account"], arn=row["arn"],
            session_token=self.sealer.open(row["token"], where("sts_sessions", "token",
                                                               access_key_id)),
            expiration=dt.datetime.fromtimestamp(row["expiration"], dt.UTC),
            kind=row["kind"], user_id=row["user_id"], name=row["name"],
            session=json.loads(row["session"]),
        )
        with self._lock:
            if len(self._cache) >= _CACHE_SIZE:
                self._cache.pop(next(iter(self._cache)))
            self._cache[access_key_id] = credential
        return credential

    def sweep(self, keep_seconds: float = 7 * 86400) -> int:
        """Forget sessions that expired more than `keep_seconds` ago."""
        cutoff = clock.timestamp() - keep_seconds
        with self.db.transaction() as conn:
            gone = [r[0] for r in conn.execute(
                "SELECT access_key_id FROM sts_sessions WHERE expiration < ?", (cutoff,))]
            conn.execute("DELETE FROM sts_sessions WHERE expiration < ?", (cutoff,))
        with self._lock:
            for key in gone:
                self._cache.pop(key, None)
        return len(gone)
