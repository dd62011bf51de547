"""What STS reads of IAM: roles (trust policy, maximum session duration, tags) through the
IAM provider's read methods, and managed policy documents for session PolicyArns."""

from __future__ import annotations

from cloudlet.services.iam import managed
from cloudlet.services.iam.store import IamStore
from cloudlet.store import Store


class IamData:
    def __init__(self, store: Store):
        self.store = IamStore(store)
        self.provider = None  # the IAM provider, once attached

    def role(self, account_id: str, name: str) -> dict | None:
        """{name, arn, role_id, trust_policy, max_session_duration, tags, ...} or None."""
        return self.provider.role_record(account_id, name) if self.provider else None

    def user_tags(self, account_id: str, name: str) -> dict[str, str]:
        user = self.provider.user_record(account_id, name) if self.provider else None
        return dict(user["tags"]) if user else {}

    def policy_document(self, account_id: str, arn: str) -> str | None:
        """The default version's document of a managed policy: AWS's, or the account's."""
        if arn.startswith("arn:aws:iam::aws:policy/"):
            policy = managed.get(arn)
            return policy.document if policy else None
        owner = arn.split(":")[4] if arn.count(":") >= 5 else ""
        if owner != account_id:
            return None
        row = self.store.policy(owner, arn)
        if row is None:
            return None
        version = self.store.policy_version(owner, arn, row["default_version"])
        return version["document"] if version else None
