"""Users' security credentials: access keys (at most two, Active or Inactive, with their
last use), login profiles (console passwords, checked against the password policy) and the
credential report that lists them all."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import secrets
import string

from cloudlet.key_ids import new_key_id
from cloudlet.services.base import RequestContext
from cloudlet.services.iam.errors import (
    EntityAlreadyExists,
    LimitExceeded,
    NoSuchEntity,
    ReportExpired,
    ReportNotPresent,
    ValidationError,
)
from cloudlet.services.iam.identities import IamBase, now, paginate, when
from cloudlet.services.iam.store import IamStore
from cloudlet.store.sealing import where

_SECRET_CHARS = string.ascii_letters + string.digits + "+/"
KEYS_PER_USER = 2
REPORT_LIFETIME = 4 * 3600  # a credential report is fresh, then expired, after four hours
REPORT_COLUMNS = (
    "user", "arn", "user_creation_time", "password_enabled", "password_last_used",
    "password_last_changed", "password_next_rotation", "mfa_active", "access_key_1_active",
    "access_key_1_last_rotated", "access_key_1_last_used_date", "access_key_1_last_used_region",
    "access_key_1_last_used_service", "access_key_2_active", "access_key_2_last_rotated",
    "access_key_2_last_used_date", "access_key_2_last_used_region",
    "access_key_2_last_used_service", "cert_1_active", "cert_1_last_rotated", "cert_2_active",
    "cert_2_last_rotated",
)


def _iso(seconds: float | None) -> str:
    return "N/A" if seconds is None else when(seconds).isoformat()


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
                "access_key_id": key_id, "account": account, "user_name": user,
                "secret": self.store.sealer.seal(secret, where("iam_access_keys", "secret", key_id)),
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

    # -- the credential report --------------------------------------------------------------

    def _report(self, account: str) -> dict | None:
        rows = self.iam.db.query("SELECT value FROM records WHERE service='iam' AND account=? "
                                 "AND region='' AND kind='credential-report' AND key=''", (account,))
        return json.loads(rows[0]["value"]) if rows else None

    def _report_rows(self, account: str) -> list[dict]:
        root = dict.fromkeys(REPORT_COLUMNS, "N/A")
        root.update({"user": "<root_account>", "arn": f"arn:aws:iam::{account}:root",
                     "password_enabled": "not_supported", "password_last_changed": "not_supported",
                     "password_next_rotation": "not_supported", "mfa_active": "false",
                     "access_key_1_active": "false", "access_key_2_active": "false",
                     "cert_1_active": "false", "cert_2_active": "false"})
        rows = [root]
        for user in self.iam.entities("user", account):
            row = dict.fromkeys(REPORT_COLUMNS, "N/A")
            login = self.iam.login_profile(account, user["name"])
            row.update({"user": user["name"], "arn": self._user_shape(user)["Arn"],
                        "user_creation_time": _iso(user["created"]),
                        "password_enabled": "true" if login else "false",
                        "password_last_changed": _iso(login["created"]) if login else "N/A",
                        "mfa_active": "true" if self.mfa_devices_of(account, user["name"]) else "false",
                        "cert_1_active": "false", "cert_2_active": "false"})
            keys = self.iam.access_keys(account, user["name"])
            for n in (1, 2):
                key = keys[n - 1] if len(keys) >= n else None
                prefix = f"access_key_{n}_"
                row[prefix + "active"] = "true" if key and key["status"] == "Active" else "false"
                if key:
                    row[prefix + "last_rotated"] = _iso(key["created"])
                    row[prefix + "last_used_date"] = _iso(key["last_used"])
                    row[prefix + "last_used_region"] = key["last_used_region"] or "N/A"
                    row[prefix + "last_used_service"] = key["last_used_service"] or "N/A"
            rows.append(row)
        return rows

    def generate_credential_report(self, ctx: RequestContext, params: dict) -> dict:
        account = ctx.account_id
        existing = self._report(account)
        if existing and now() - existing["generated"] < REPORT_LIFETIME:
            return {"State": "COMPLETE"}
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=REPORT_COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(self._report_rows(account))
        report = {"generated": now(), "content": out.getvalue()}
        with self.iam.transaction() as conn:
            conn.execute("INSERT OR REPLACE INTO records (service, account, region, kind, key, value) "
                         "VALUES ('iam', ?, '', 'credential-report', '', ?)",
                         (account, json.dumps(report)))
        return {"State": "STARTED",
                "Description": "No report exists. Starting a new report generation task"}

    def get_credential_report(self, ctx: RequestContext, params: dict) -> dict:
        report = self._report(ctx.account_id)
        if report is None:
            raise ReportNotPresent("Unable to find a credential report for this account. Use "
                                   "GenerateCredentialReport to generate one.")
        if now() - report["generated"] >= REPORT_LIFETIME:
            raise ReportExpired("The credential report has expired. Use GenerateCredentialReport "
                                "to generate a new one.")
        return {"Content": report["content"].encode(), "ReportFormat": "text/csv",
                "GeneratedTime": when(report["generated"])}
