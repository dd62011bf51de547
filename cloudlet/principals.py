"""Who is calling: the credential a request was signed with, and the principal behind it.

Shared by every layer: authentication finds it, authorization judges it, providers read it
(STS's GetCallerIdentity, S3's owner, ...).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True)
class Credential:
    access_key_id: str
    secret_access_key: str
    account_id: str
    arn: str  # the principal's ARN: ...:root, ...:user/alice, ...:assumed-role/r/session
    session_token: str | None = None
    expiration: datetime | None = None
    kind: str = "root"  # root | user | assumed-role | federated-user
    user_id: str | None = None  # AIDA... for a user, AROA...:session for a role session
    name: str | None = None  # the user's or role's name
    # For sessions: role ARN, session name, session policies, tags, source identity, ...
    session: dict = field(default_factory=dict, compare=False, hash=False)

    @property
    def is_root(self) -> bool:
        return self.kind == "root"
