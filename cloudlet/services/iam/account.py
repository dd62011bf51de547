"""Account-wide IAM settings: the account alias and the password policy (which login
profiles' passwords must satisfy). Both live in the core `records` table, per account."""

from __future__ import annotations

import json

from cloudlet.services.base import RequestContext
from cloudlet.services.iam.errors import (
    EntityAlreadyExists,
    LimitExceeded,
    NoSuchEntity,
    PasswordPolicyViolation,
)
from cloudlet.services.iam.identities import IamBase, check_pattern, paginate

_ALIAS_PATTERN = r"^[a-z0-9]([a-z0-9]|-(?!-)){1,61}[a-z0-9]$"
_SYMBOLS = set("!@#$%^&*()_+-=[]{}|'")
# UpdateAccountPasswordPolicy: a parameter left out takes its default.
_POLICY_DEFAULTS = {"MinimumPasswordLength": 6, "RequireSymbols": False,
                    "RequireNumbers": False, "RequireUppercaseCharacters": False,
                    "RequireLowercaseCharacters": False, "AllowUsersToChangePassword": False,
                    "HardExpiry": False}


class AccountOperations(IamBase):
    def _record(self, account: str, kind: str) -> dict | None:
        rows = self.iam.db.query("SELECT value FROM records WHERE service='iam' AND account=? "
                                 "AND region='' AND kind=? AND key=''", (account, kind))
        return json.loads(rows[0]["value"]) if rows else None

    def _put_record(self, conn, account: str, kind: str, value: dict | None) -> None:
        conn.execute("DELETE FROM records WHERE service='iam' AND account=? AND region='' "
                     "AND kind=? AND key=''", (account, kind))
        if value is not None:
            conn.execute("INSERT INTO records (service, account, region, kind, key, value) "
                         "VALUES ('iam', ?, '', ?, '', ?)", (account, kind, json.dumps(value)))

    # -- the account alias (unique across all accounts, one per account) -------------------

    def create_account_alias(self, ctx: RequestContext, params: dict) -> dict:
        alias = params["AccountAlias"]
        check_pattern("AccountAlias", alias, _ALIAS_PATTERN)
        with self.iam.transaction() as conn:
            owner = conn.execute("SELECT account FROM records WHERE service='iam' AND "
                                 "kind='account-alias' AND json_extract(value, '$.alias')=?",
                                 (alias,)).fetchone()
            if owner is not None and owner[0] == ctx.account_id:
                return {}
            if owner is not None:
                raise EntityAlreadyExists(f"The account alias {alias} already exists.")
            if conn.execute("SELECT 1 FROM records WHERE service='iam' AND account=? AND "
                            "kind='account-alias'", (ctx.account_id,)).fetchone():
                raise LimitExceeded("Cannot exceed quota for AccountAliasesPerAccount: 1")
            self._put_record(conn, ctx.account_id, "account-alias", {"alias": alias})
        return {}

    def list_account_aliases(self, ctx: RequestContext, params: dict) -> dict:
        record = self._record(ctx.account_id, "account-alias")
        return paginate([record["alias"]] if record else [], params, "AccountAliases")

    def delete_account_alias(self, ctx: RequestContext, params: dict) -> dict:
        record = self._record(ctx.account_id, "account-alias")
        if record is None or record["alias"] != params["AccountAlias"]:
            raise NoSuchEntity(f"The account alias {params['AccountAlias']} cannot be found.")
        with self.iam.transaction() as conn:
            self._put_record(conn, ctx.account_id, "account-alias", None)
        return {}

    # -- the password policy ----------------------------------------------------------------

    def update_account_password_policy(self, ctx: RequestContext, params: dict) -> dict:
        policy = {**_POLICY_DEFAULTS, **{k: v for k, v in params.items() if v is not None}}
        with self.iam.transaction() as conn:
            self._put_record(conn, ctx.account_id, "password-policy", policy)
        return {}

    def get_account_password_policy(self, ctx: RequestContext, params: dict) -> dict:
        policy = self._record(ctx.account_id, "password-policy")
        if policy is None:
            raise NoSuchEntity(
                f"The Password Policy with domain name {ctx.account_id} cannot be found.")
        shape = dict(policy)
        shape["ExpirePasswords"] = bool(policy.get("MaxPasswordAge"))
        return {"PasswordPolicy": shape}

    def delete_account_password_policy(self, ctx: RequestContext, params: dict) -> dict:
        self.get_account_password_policy(ctx, params)
        with self.iam.transaction() as conn:
            self._put_record(conn, ctx.account_id, "password-policy", None)
        return {}

    def _check_password(self, account: str, password: str) -> None:
        """A login profile's password against the account's password policy, if it has one."""
        policy = self._record(account, "password-policy")
        if policy is None:
            return
        problems = []
        if len(password) < policy["MinimumPasswordLength"]:
            problems.append(f"Password should have a minimum length of "
                            f"{policy['MinimumPasswordLength']}")
        if policy["RequireLowercaseCharacters"] and not any(c.islower() for c in password):
            problems.append("Password should have at least one lowercase letter")
        if policy["RequireUppercaseCharacters"] and not any(c.isupper() for c in password):
            problems.append("Password should have at least one uppercase letter")
        if policy["RequireNumbers"] and not any(c.isdigit() for c in password):
            problems.append("Password should have at least one number")
        if policy["RequireSymbols"] and not any(c in _SYMBOLS for c in password):
            problems.append("Password should have at least one symbol")
        if problems:
            raise PasswordPolicyViolation("; ".join(problems))
