"""Users' security credentials: access keys (at most two, Active or Inactive, with their
last use) and login profiles (console passwords, checked against the password policy)."""

from __future__ import annotations

import hashlib
import secrets
import string

from cloudlet.services.base import RequestContext
from cloudlet.services.iam.errors import (
    EntityAlreadyExists,
    LimitExceeded,
    NoSuchEntity,
    ValidationError,
)
from cloudlet.services.iam.identities import IamBase, now, paginate, when
from cloudlet.services.iam.store import IamStore
from cloudlet.services.sts.sessions import new_key_id

_SECRET_CHARS = string.ascii_letters + string.digits + "+/"
KEYS_PER_USER = 2


class CredentialOperations(IamBase):
    # -- access keys ------------------------------------------------------------------------

    def _key_owner(self, ctx: RequestContext, params: dict) -> str:
        name = params.get("UserName")
        if name is None:
            caller = ctx.caller
            if caller is not None and caller.kind == "user":
                name = caller.name
            else:
                raise ValidationError("Must specify userName when calling with non-User credentials")
        return self._user(ctx.account_id, name)["name"]

    def _key(self, account: str, user: str, key_id: str):
        row = self.iam.access_key(key_id)
        if row is None or row["account"] != account or row["user_name"].lower() != user.lower():
            raise NoSuchEntity(f"The Access Key with id {key_id} cannot be found.")
        return row

    def create_access_key(self, ctx: RequestContext, params: dict) -> dict:
        account, user = ctx.account_id, self._key_owner(ctx, params)
        key_id = new_key_id(account, "AKIA")  # AWS's shape: the account is encoded in the id
        secret = "".join(secrets.choice(_SECRET_CHARS) for _ in range(40))
        with self.iam.transaction() as conn:
            count = conn.execute("SELECT count(*) FROM iam_access_keys WHERE account=? "
                                 "AND user_name=?", (account, user)).fetchone()[0]
            if count >= KEYS_PER_USER:
                raise LimitExceeded(f"Cannot exceed quota for AccessKeysPerUser: {KEYS_PER_USER}")
            IamStore.insert(conn, "iam_access_keys", {
                "access_key_id": key_id, "account": account, "user_name": user, "secret": secret,
                "status": "Active", "created": now()})
        row = self.iam.access_key(key_id)
        return {"AccessKey": {"UserName": user, "AccessKeyId": key_id, "Status": "Active",
                              "SecretAccessKey": secret, "CreateDate": when(row["created"])}}

    def update_access_key(self, ctx: RequestContext, params: dict) -> dict:
        user = self._key_owner(ctx, params)
        key = self._key(ctx.account_id, user, params["AccessKeyId"])
        with self.iam.transaction() as conn:
            conn.execute("UPDATE iam_access_keys SET status=? WHERE access_key_id=?",
                         (params["Status"], key["access_key_id"]))
        return {}

    def delete_access_key(self, ctx: RequestContext, params: dict) -> dict:
        user = self._key_owner(ctx, params)
        key = self._key(ctx.account_id, user, params["AccessKeyId"])
        with self.iam.transaction() as conn:
            conn.execute("DELETE FROM iam_access_keys WHERE access_key_id=?", (key["access_key_id"],))
        return {}

    def list_access_keys(self, ctx: RequestContext, params: dict) -> dict:
        user = self._key_owner(ctx, params)
        keys = [{"UserName": user, "AccessKeyId": r["access_key_id"], "Status": r["status"],
                 "CreateDate": when(r["created"])} for r in self.iam.access_keys(ctx.account_id, user)]
        return paginate(keys, params, "AccessKeyMetadata")

    def get_access_key_last_used(self, ctx: RequestContext, params: dict) -> dict:
        row = self.iam.access_key(params["AccessKeyId"])
        if row is None or row["account"] != ctx.account_id:
            raise NoSuchEntity(f"The Access Key with id {params['AccessKeyId']} cannot be found.")
        if row["last_used"] is None:
            last = {"ServiceName": "N/A", "Region": "N/A"}
        else:
            last = {"LastUsedDate": when(row["last_used"]), "ServiceName": row["last_used_service"],
                    "Region": row["last_used_region"]}
        return {"UserName": row["user_name"], "AccessKeyLastUsed": last}

    # -- login profiles ---------------------------------------------------------------------

    @staticmethod
    def _password_hash(password: str) -> str:
        salt = secrets.token_hex(8)
        return salt + ":" + hashlib.sha256((salt + password).encode()).hexdigest()

    def create_login_profile(self, ctx: RequestContext, params: dict) -> dict:
        account = ctx.account_id
        user = self._user(account, params["UserName"])["name"]
        if self.iam.login_profile(account, user):
            raise EntityAlreadyExists(f"Login Profile for user {user} already exists.")
        self._check_password(account, params["Password"])
        reset = bool(params.get("PasswordResetRequired"))
        with self.iam.transaction() as conn:
            IamStore.insert(conn, "iam_login_profiles", {
                "account": account, "user_name": user,
                "password": self._password_hash(params["Password"]),
                "reset_required": int(reset), "created": now()})
        return {"LoginProfile": self._login_shape(self.iam.login_profile(account, user))}

    @staticmethod
    def _login_shape(row) -> dict:
        return {"UserName": row["user_name"], "CreateDate": when(row["created"]),
                "PasswordResetRequired": bool(row["reset_required"])}

    def _login(self, account: str, name: str):
        user = self._user(account, name)["name"]
        row = self.iam.login_profile(account, user)
        if row is None:
            raise NoSuchEntity(f"Login Profile for User {user} cannot be found.")
        return row

    def get_login_profile(self, ctx: RequestContext, params: dict) -> dict:
        return {"LoginProfile": self._login_shape(self._login(ctx.account_id, params["UserName"]))}

    def update_login_profile(self, ctx: RequestContext, params: dict) -> dict:
        row = self._login(ctx.account_id, params["UserName"])
        if params.get("Password"):
            self._check_password(ctx.account_id, params["Password"])
        password = (self._password_hash(params["Password"]) if params.get("Password")
                    else row["password"])
        reset = params.get("PasswordResetRequired")
        reset = row["reset_required"] if reset is None else int(reset)
        with self.iam.transaction() as conn:
            conn.execute("UPDATE iam_login_profiles SET password=?, reset_required=? "
                         "WHERE account=? AND user_name=?",
                         (password, reset, ctx.account_id, row["user_name"]))
        return {}

    def delete_login_profile(self, ctx: RequestContext, params: dict) -> dict:
        row = self._login(ctx.account_id, params["UserName"])
        with self.iam.transaction() as conn:
            conn.execute("DELETE FROM iam_login_profiles WHERE account=? AND user_name=?",
                         (ctx.account_id, row["user_name"]))
        return {}
