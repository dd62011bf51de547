"""Who owns an access key.

A `CredentialStore` answers `lookup(access_key_id)` by asking its resolvers in turn: the
ones other components register (IAM users' keys, STS sessions) first, then the defaults
every local AWS knows: key `test` / secret `test` is the root of account 000000000000,
and a 12-digit key id is the root of that account, with secret `test`.

The defaults are the developer's, at the host: a request from inside the cloud (a
function, an instance: `origin="cloud"`) finds only real keys, IAM users' and STS
sessions', as code deployed to AWS would.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from cloudlet.principals import Credential

DEFAULT_ACCOUNT = "000000000000"
DEFAULT_SECRET = "test"

_ACCOUNT_ID = re.compile(r"\d{12}\Z")

Resolver = Callable[[str], Credential | None]

__all__ = ["Credential", "CredentialStore", "Resolver", "default_resolver", "root_credential"]


def root_credential(access_key_id: str, account_id: str, secret: str = DEFAULT_SECRET) -> Credential:
    return Credential(
        access_key_id=access_key_id,
        secret_access_key=secret,
        account_id=account_id,
        arn=f"arn:aws:iam::{account_id}:root",
        user_id=account_id,
    )


def default_resolver(access_key_id: str) -> Credential | None:
    if access_key_id == "test":
        return root_credential(access_key_id, DEFAULT_ACCOUNT)
    if _ACCOUNT_ID.match(access_key_id):
        return root_credential(access_key_id, access_key_id)
    return None


class CredentialStore:
    """Pluggable access-key lookup: registered resolvers first, then the defaults."""

    def __init__(self, *, defaults: bool = True):
        self._resolvers: list[Resolver] = []
        self._defaults = defaults

    def add_resolver(self, fn: Resolver) -> None:
        self._resolvers.append(fn)

    def lookup(self, access_key_id: str, origin: str = "host") -> Credential | None:
        for resolver in self._resolvers:
            credential = resolver(access_key_id)
            if credential is not None:
                return credential
        if not self._defaults or origin != "host":
            return None
        return default_resolver(access_key_id)
