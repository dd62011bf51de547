"""What other services may read of IAM: the one module of IAM that another service imports.

    iam = IamReads(providers.get("iam"))         # in the reader's attach()
    iam.role(account, name)                  # a role's record, or None
    iam.user_tags(account, name)             # {key: value}; {} for no such user
    iam.principal_policies(account, arn)     # the policies that apply to a user or role
    iam.policy_document(account, arn)        # a managed policy's default version, or None
    iam.oidc_provider(account, issuer_url)   # the OIDC provider for an issuer, or None
    iam.credential_for(access_key_id)        # the user behind an active key, or None
    iam.instance_profile(account, name)      # GetInstanceProfile's InstanceProfile, or None

STS reads roles, users' tags, session policies' documents and OIDC providers; Lambda reads
execution roles and callers' policies; EC2 reads instance profiles (RunInstances, IMDS). Every answer is a plain record, never a row or the
provider itself. Built on None (no IAM provider), it answers that nothing exists.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from cloudlet.principals import Credential
from cloudlet.services.iam import managed
from cloudlet.services.iam.oidc_providers import find_provider

if TYPE_CHECKING:
    from cloudlet.services.iam.provider import IamProvider

class IamReads:
    def __init__(self, provider: IamProvider | None):
        self._provider = provider

    def role(self, account_id: str, name: str) -> dict | None:
        """{name, arn, role_id, path, trust_policy, max_session_duration, tags, boundary,
        boundary_arn}, or None."""
        return self._provider.role_record(account_id, name) if self._provider else None

    def instance_profile(self, account_id: str, name: str) -> dict | None:
        """{Path, InstanceProfileName, InstanceProfileId, Arn, CreateDate, Roles: [role
        shapes with RoleName, Arn, ...]} as GetInstanceProfile answers, or None."""
        if self._provider is None:
            return None
        row = self._provider.iam.entity("instance-profile", account_id, name)
        return self._provider.profile_shape(row) if row is not None else None

    def user_tags(self, account_id: str, name: str) -> dict[str, str]:
        user = self._provider.user_record(account_id, name) if self._provider else None
        return dict(user["tags"]) if user else {}

    def principal_policies(self, account_id: str, principal_arn: str) -> dict:
        """{identity: [(policy_id, text)], boundary: (policy_id, text) | None, tags, sources}
        of a user or role (a role session: its role)."""
        if self._provider is None:
            return {"identity": [], "boundary": None, "tags": {}, "sources": []}
        return self._provider.principal_policies(account_id, principal_arn)

    def policy_document(self, account_id: str, arn: str) -> str | None:
        """The default version's document of a managed policy: AWS's, or the account's."""
        if arn.startswith("arn:aws:iam::aws:policy/"):
            policy = managed.get(arn)
            return policy.document if policy else None
        owner = arn.split(":")[4] if arn.count(":") >= 5 else ""
        if owner != account_id or self._provider is None:
            return None
        store = self._provider.iam
        row = store.policy(owner, arn)
        if row is None:
            return None
        version = store.policy_version(owner, arn, row["default_version"])
        return version["document"] if version else None

    def oidc_provider(self, account_id: str, issuer_url: str) -> dict | None:
        """{arn, path, url, account, client_ids, thumbprints, tags, created}, or None."""
        if self._provider is None:
            return None
        return find_provider(self._provider.store.db, account_id, issuer_url)

    def credential_for(self, access_key_id: str) -> Credential | None:
        return self._provider.credential_for(access_key_id) if self._provider else None
