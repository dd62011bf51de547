"""The IAM provider: one class composed of its operation families.

    identities.py      IdentityOperations: users, groups, roles, instance profiles, tags
    credentials.py     CredentialOperations: access keys, login profiles, the credential
                       report
    mfa.py             MfaOperations: virtual MFA devices (TOTP)
    policies.py        PolicyOperations: managed (customer and AWS) and inline policies,
                       versions, permissions boundaries
    simulator.py       SimulatorOperations: SimulatePrincipalPolicy, SimulateCustomPolicy,
                       GetContextKeysFor*
    oidc_providers.py  OidcProviderOperations: OpenID Connect providers (what
                       AssumeRoleWithWebIdentity trusts)
    account.py         AccountOperations: the account alias and the password policy
    service_linked.py  ServiceLinkedRoleOperations: service-linked roles
    provider.py        GetUser and GetRole, which also serve other components' reads, then
                       pass to identities.py

Shared by the families: `IamBase` (identities.py: the store and NoSuchEntity lookups),
store.py (the iam_ tables), errors.py, managed/ (the AWS-managed policy catalog).

Besides the operations, the provider answers other components' questions about identities
(the gateway's credential lookup, the authorizer's policies) through the read methods at
the bottom: `credential_for`, `principal_policies`, `role_record`, `user_record`, and the
usage notes `record_key_use` and `record_role_use`. Other services (STS, Lambda) read them
only through `reads.py`, the one module of IAM they may import.
"""

from __future__ import annotations

import threading

from cloudlet.events import Bus
from cloudlet.principals import Credential
from cloudlet.services.base import Provider
from cloudlet.services.iam import managed
from cloudlet.services.iam.account import AccountOperations
from cloudlet.services.iam.credentials import CredentialOperations
from cloudlet.services.iam.errors import NoSuchEntity
from cloudlet.services.iam.identities import IdentityOperations, arn, now, tag_list
from cloudlet.services.iam.mfa import MfaOperations
from cloudlet.services.iam.oidc_providers import OidcProviderOperations
from cloudlet.services.iam.policies import PolicyOperations
from cloudlet.services.iam.service_linked import ServiceLinkedRoleOperations
from cloudlet.services.iam.simulator import SimulatorOperations
from cloudlet.services.iam.store import IamStore
from cloudlet.store import Store
from cloudlet.store.sealing import where


class IamProvider(SimulatorOperations, OidcProviderOperations, AccountOperations,
                  ServiceLinkedRoleOperations, MfaOperations, CredentialOperations,
                  IdentityOperations, PolicyOperations, Provider):
    service = "iam"

    def __init__(self, store: Store, bus: Bus | None = None):
        super().__init__(store, bus)
        self.iam = IamStore(store)
        self._credentials: dict[str, tuple[int, Credential | None]] = {}

    def start(self) -> None:
        # Load the AWS-managed policy catalog off the request path.
        threading.Thread(target=managed.catalog, name="iam-catalog", daemon=True).start()

    # GetRole and GetUser are operations, and also (called with an account id and a name)
    # the read methods other components were promised; both spellings lead to one place.

    def get_role(self, ctx, params):
        if isinstance(ctx, str):
            return self.role_record(ctx, params)
        return super().get_role(ctx, params)

    def get_user(self, ctx, params):
        if isinstance(ctx, str):
            return self.user_record(ctx, params)
        return super().get_user(ctx, params)

    # -- for the gateway: IAM users' access keys --------------------------------------------

    def credential_for(self, access_key_id: str) -> Credential | None:
        """The user behind an active access key; None for unknown or inactive keys, so a
        deactivated or deleted key stops working on the next request."""
        if not access_key_id.startswith("AKIA"):
            return None
        generation = self.iam.generation
        cached = self._credentials.get(access_key_id)
        if cached is not None and cached[0] == generation:
            return cached[1]
        credential = self._load_credential(access_key_id)
        if len(self._credentials) > 10_000:
            self._credentials.clear()
        self._credentials[access_key_id] = (generation, credential)
        return credential

    def _load_credential(self, access_key_id: str) -> Credential | None:
        key = self.iam.access_key(access_key_id)
        if key is None or key["status"] != "Active":
            return None
        user = self.iam.entity("user", key["account"], key["user_name"])
        if user is None:
            return None
        secret = self.store.sealer.open(key["secret"], where("iam_access_keys", "secret",
                                                             access_key_id))
        return Credential(
            access_key_id=access_key_id, secret_access_key=secret,
            account_id=key["account"], arn=arn(key["account"], "user", user["path"], user["name"]),
            kind="user", user_id=user["id"], name=user["name"])

    def record_key_use(self, access_key_id: str, service: str, region: str) -> None:
        with self.iam.transaction() as conn:
            conn.execute("UPDATE iam_access_keys SET last_used=?, last_used_service=?, "
                         "last_used_region=? WHERE access_key_id=?",
                         (now(), service, region, access_key_id))

    def record_role_use(self, account_id: str, role_name: str, region: str) -> None:
        """For STS: a role was assumed (GetRole's RoleLastUsed)."""
        with self.iam.transaction() as conn:
            conn.execute("UPDATE iam_roles SET last_used=?, last_used_region=? "
                         "WHERE account=? AND name=?", (now(), region, account_id, role_name))

    # -- for STS and the authorizer ---------------------------------------------------------

    def _document_of(self, account: str, policy_arn: str) -> tuple[dict, str] | None:
        try:
            policy = self._managed(account, policy_arn)
        except NoSuchEntity:
            return None
        version = self._version(account, policy, policy["default_version"])
        return policy, version["document"]

    def _sources(self, account: str, kind: str, name: str) -> list[dict]:
        sources = [{"id": r["name"], "type": kind, "name": r["name"], "arn": None,
                    "document": r["document"], "owner": name}
                   for r in self.iam.inline_policies(account, kind, name)]
        for policy_arn in self.iam.attached(account, kind, name):
            found = self._document_of(account, policy_arn)
            if found:
                policy, text = found
                sources.append({"id": policy["name"], "type": "aws-managed" if policy["aws"]
                                else "managed", "name": policy["name"], "arn": policy["arn"],
                                "document": text, "owner": name})
        return sources

    def _boundary_of(self, account: str, row) -> tuple[str, str] | None:
        if not row["boundary"]:
            return None
        found = self._document_of(account, row["boundary"])
        return (found[0]["name"], found[1]) if found else None

    def principal_policies(self, account_id: str, principal_arn: str) -> dict:
        """The policies that apply to a user or role (a role session: its role).

        identity: [(policy_id, document_text)], the user's inline and attached policies and
        its groups', or the role's; boundary: (policy_id, document_text) or None; tags: the
        principal's tags; sources: the same identity policies with their kind (user, group,
        role, managed, aws-managed), name, ARN and owner, for the simulator."""
        resource = principal_arn.split(":", 5)[-1]
        kind, _, rest = resource.partition("/")
        if kind == "assumed-role":
            kind, name = "role", rest.split("/")[0]
        else:
            name = rest.rsplit("/", 1)[-1]
        empty = {"identity": [], "boundary": None, "tags": {}, "sources": []}
        if kind not in ("user", "role"):
            return empty
        row = self.iam.entity(kind, account_id, name)
        if row is None:
            return empty
        sources = self._sources(account_id, kind, row["name"])
        if kind == "user":
            for group in self.iam.group_names_of(account_id, row["name"]):
                sources += self._sources(account_id, "group", group)
        return {
            "identity": [(s["id"], s["document"]) for s in sources],
            "boundary": self._boundary_of(account_id, row),
            "tags": {t["Key"]: t["Value"] for t in tag_list(self.iam.tags(account_id, kind, row["name"]))},
            "sources": sources,
        }

    def role_record(self, account_id: str, role_name: str) -> dict | None:
        row = self.iam.entity("role", account_id, role_name)
        if row is None:
            return None
        return {
            "name": row["name"], "arn": arn(account_id, "role", row["path"], row["name"]),
            "role_id": row["id"], "path": row["path"], "trust_policy": row["trust_policy"],
            "max_session_duration": row["max_session_duration"],
            "tags": {t["Key"]: t["Value"] for t in tag_list(self.iam.tags(account_id, "role", row["name"]))},
            "boundary": self._boundary_of(account_id, row), "boundary_arn": row["boundary"],
        }

    def user_record(self, account_id: str, user_name: str) -> dict | None:
        row = self.iam.entity("user", account_id, user_name)
        if row is None:
            return None
        return {
            "name": row["name"], "arn": arn(account_id, "user", row["path"], row["name"]),
            "user_id": row["id"], "path": row["path"],
            "tags": {t["Key"]: t["Value"] for t in tag_list(self.iam.tags(account_id, "user", row["name"]))},
            "boundary": self._boundary_of(account_id, row), "boundary_arn": row["boundary"],
        }

