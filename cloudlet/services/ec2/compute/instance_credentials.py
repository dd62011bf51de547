"""An instance profile's role credentials, as `iam/security-credentials/<role>` hands them out.

    sessions = RoleSessions(mint)   # mint(role_arn, session_name, seconds) -> Credential
    sessions.current(account, instance_id, role_arn) -> {"Code": "Success", "LastUpdated",
        "Type": "AWS-HMAC", "AccessKeyId", "SecretAccessKey", "Token", "Expiration"}

Each is a real STS session of the role (assumed by ec2.amazonaws.com, so the role must trust
it), named after the instance: GetCallerIdentity says `assumed-role/<role>/<instance-id>`.
One session per instance and role is kept and handed out until `ROTATE_BEFORE` its
expiry (on the service clock); then a new one is minted, so a client always holds
credentials with more than that left (AWS: at least five minutes; botocore refreshes 15
minutes ahead, and would otherwise be handed the same ones again). A role that does not
trust EC2 (or is gone) answers `AssumeRoleUnauthorizedAccess`, retried after `RETRY_FAILED`.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass

from cloudlet import clock
from cloudlet.errors import ServiceError
from cloudlet.principals import Credential
from cloudlet.services.ec2.compute.metadata_tree import iso

SESSION_SECONDS = 6 * 3600      # asked for; STS caps it at the role's MaxSessionDuration
ROTATE_BEFORE = 20 * 60
RETRY_FAILED = 10.0
TROUBLESHOOTING = ("https://docs.aws.amazon.com/IAM/latest/UserGuide/"
                   "id_roles_providers_iam-roles-with-ec2.html#troubleshoot_iam-ec2_errors-info-doc")

Mint = Callable[[str, str, int], Credential]


@dataclass
class _Held:
    answer: dict
    renew_at: float   # service-clock seconds


class RoleSessions:
    def __init__(self, mint: Mint):
        self._mint = mint
        self._held: dict[tuple[str, str, str], _Held] = {}
        self._locks: dict[tuple[str, str, str], threading.Lock] = {}
        self._lock = threading.Lock()

    def current(self, account: str, instance_id: str, role_arn: str) -> dict:
        key = (account, instance_id, role_arn)
        with self._lock:
            lock = self._locks.setdefault(key, threading.Lock())
        with lock:
            held = self._held.get(key)
            now = clock.timestamp()
            if held is None or now >= held.renew_at:
                held = self._held[key] = self._renew(instance_id, role_arn, now)
                self._prune(now)
            return dict(held.answer)

    def forget(self, instance_id: str) -> None:
        with self._lock:
            for key in [k for k in self._held if k[1] == instance_id]:
                self._held.pop(key, None)
                self._locks.pop(key, None)

    def _renew(self, instance_id: str, role_arn: str, now: float) -> _Held:
        try:
            credential = self._mint(role_arn, instance_id, SESSION_SECONDS)
        except ServiceError:
            role = role_arn.rsplit("/", 1)[-1]
            return _Held({"Code": "AssumeRoleUnauthorizedAccess",
                          "Message": f'EC2 cannot assume the role "{role}".  Please see '
                                     f"documentation at {TROUBLESHOOTING}.",
                          "LastUpdated": iso(now)}, now + RETRY_FAILED)
        expires = credential.expiration.timestamp() if credential.expiration else now + 3600
        return _Held({"Code": "Success", "LastUpdated": iso(now), "Type": "AWS-HMAC",
                      "AccessKeyId": credential.access_key_id,
                      "SecretAccessKey": credential.secret_access_key,
                      "Token": credential.session_token or "",
                      "Expiration": iso(expires)},
                     max(now + 1, expires - ROTATE_BEFORE))

    def _prune(self, now: float) -> None:
        """Drop sessions long past renewal (instances gone)."""
        with self._lock:
            for key in [k for k, h in self._held.items() if now - h.renew_at > 2 * 3600]:
                self._held.pop(key, None)
                self._locks.pop(key, None)
