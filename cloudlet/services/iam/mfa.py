"""Virtual MFA devices: a TOTP seed (RFC 6238: HMAC-SHA1, 30-second steps, six digits) that
a user's authenticator app holds. Enabling one on a user takes two consecutive codes, as in
AWS. `mfa_code_valid` is what STS calls for GetSessionToken/AssumeRole with a TokenCode.
Devices live in the core `records` table, keyed by serial number (the device's ARN)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import struct

from cloudlet import clock
from cloudlet.services.base import RequestContext
from cloudlet.services.iam.errors import (
    DeleteConflict,
    EntityAlreadyExists,
    InvalidAuthenticationCode,
    LimitExceeded,
    NoSuchEntity,
)
from cloudlet.services.iam.identities import (
    NAME_PATTERN,
    PATH_PATTERN,
    IamBase,
    check_pattern,
    check_tags,
    now,
    paginate,
    when,
)
from cloudlet.store.sealing import where

STEP = 30
DEVICES_PER_USER = 8
_WINDOW = 10  # steps back in time a pair of codes may come from (an app's clock drifts)


def totp(seed: bytes, step: int) -> str:
    digest = hmac.new(seed, struct.pack(">Q", step), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    value = struct.unpack(">I", digest[offset:offset + 4])[0] & 0x7FFFFFFF
    return f"{value % 1_000_000:06d}"


def _where(account: str, device: dict) -> str:
    return where("records", "iam.mfa-device.seed", account, device["serial"])


class MfaOperations(IamBase):
    def _devices(self, account: str) -> list[dict]:
        rows = self.iam.db.query("SELECT key, value FROM records WHERE service='iam' AND account=? "
                                 "AND region='' AND kind='mfa-device' ORDER BY key", (account,))
        devices = [{"serial": r["key"], **json.loads(r["value"])} for r in rows]
        for device in devices:      # the seed is sealed at rest (store/sealing.py)
            device["seed"] = self.store.sealer.open(device["seed"], _where(account, device))
        return devices

    def _device(self, account: str, serial: str) -> dict:
        for device in self._devices(account):
            if device["serial"] == serial:
                return device
        raise NoSuchEntity(f"VirtualMFADevice with serial number {serial} doesn't exist.")

    def _save(self, conn, account: str, device: dict) -> None:
        value = {k: v for k, v in device.items() if k != "serial"}
        value["seed"] = self.store.sealer.seal(device["seed"], _where(account, device))
        conn.execute("INSERT OR REPLACE INTO records (service, account, region, kind, key, value) "
                     "VALUES ('iam', ?, '', 'mfa-device', ?, ?)",
                     (account, device["serial"], json.dumps(value)))

    def _seed(self, device: dict) -> bytes:
        return base64.b32decode(device["seed"])

    def mfa_code_valid(self, account_id: str, serial: str, code: str) -> bool:
        """For STS: is `code` the current code of an enabled device of this account?"""
        try:
            device = self._device(account_id, serial)
        except NoSuchEntity:
            return False
        if not device.get("user"):
            return False
        step = int(clock.timestamp()) // STEP
        return any(hmac.compare_digest(totp(self._seed(device), s), code or "")
                   for s in (step - 1, step, step + 1))

    def mfa_devices_of(self, account_id: str, user_name: str) -> list[str]:
        return [d["serial"] for d in self._devices(account_id)
                if (d.get("user") or "").lower() == user_name.lower()]

    def create_virtual_mfa_device(self, ctx: RequestContext, params: dict) -> dict:
        account, name = ctx.account_id, params["VirtualMFADeviceName"]
        check_pattern("VirtualMFADeviceName", name, NAME_PATTERN)
        path = params.get("Path") or "/"
        check_pattern("Path", path, PATH_PATTERN)
        tags = params.get("Tags") or []
        check_tags(0, tags)
        serial = f"arn:aws:iam::{account}:mfa{path}{name}"
        if any(d["serial"].lower() == serial.lower() for d in self._devices(account)):
            raise EntityAlreadyExists("MFADevice entity at the same path and name already exists.")
        seed = base64.b32encode(secrets.token_bytes(40)).decode()
        device = {"serial": serial, "seed": seed, "user": None, "enabled": None,
                  "created": now(), "tags": tags}
        with self.iam.transaction() as conn:
            self._save(conn, account, device)
        shape = {"SerialNumber": serial, "Base32StringSeed": seed.encode()}
        if tags:
            shape["Tags"] = tags
        return {"VirtualMFADevice": shape}

    def enable_mfa_device(self, ctx: RequestContext, params: dict) -> dict:
        account = ctx.account_id
        user = self._user(account, params["UserName"])["name"]
        device = self._device(account, params["SerialNumber"])
        if device.get("user"):
            raise EntityAlreadyExists("MFA Device is already in use.")
        if len(self.mfa_devices_of(account, user)) >= DEVICES_PER_USER:
            raise LimitExceeded(f"Cannot exceed quota for MfaDevicesPerUser: {DEVICES_PER_USER}")
        seed, step = self._seed(device), int(clock.timestamp()) // STEP
        first, second = params["AuthenticationCode1"], params["AuthenticationCode2"]
        if not any(totp(seed, s) == first and totp(seed, s + 1) == second
                   for s in range(step - _WINDOW, step + 1)):
            raise InvalidAuthenticationCode("Authentication code for device is not valid.")
        device.update(user=user, enabled=now())
        with self.iam.transaction() as conn:
            self._save(conn, account, device)
        return {}

    def deactivate_mfa_device(self, ctx: RequestContext, params: dict) -> dict:
        account = ctx.account_id
        user = self._user(account, params["UserName"])["name"]
        device = self._device(account, params["SerialNumber"])
        if (device.get("user") or "").lower() != user.lower():
            raise NoSuchEntity(f"MFA Device with serial number {params['SerialNumber']} "
                               f"is not assigned to user {user}.")
        device.update(user=None, enabled=None)
        with self.iam.transaction() as conn:
            self._save(conn, account, device)
        return {}

    def delete_virtual_mfa_device(self, ctx: RequestContext, params: dict) -> dict:
        account = ctx.account_id
        device = self._device(account, params["SerialNumber"])
        if device.get("user"):
            raise DeleteConflict("MFA VirtualDevice in use. Must deactivate first.")
        with self.iam.transaction() as conn:
            conn.execute("DELETE FROM records WHERE service='iam' AND account=? AND region='' "
                         "AND kind='mfa-device' AND key=?", (account, device["serial"]))
        return {}

    def list_mfa_devices(self, ctx: RequestContext, params: dict) -> dict:
        account, caller = ctx.account_id, ctx.caller
        name = params.get("UserName") or (caller.name if caller and caller.kind == "user" else None)
        devices = self._devices(account)
        if name is not None:
            name = self._user(account, name)["name"]
            devices = [d for d in devices if (d.get("user") or "").lower() == name.lower()]
        else:
            devices = [d for d in devices if d.get("user")]
        shapes = [{"UserName": d["user"], "SerialNumber": d["serial"],
                   "EnableDate": when(d["enabled"])} for d in devices]
        return paginate(shapes, params, "MFADevices")

    def list_virtual_mfa_devices(self, ctx: RequestContext, params: dict) -> dict:
        account = ctx.account_id
        status = params.get("AssignmentStatus") or "Any"
        shapes = []
        for d in self._devices(account):
            if (status == "Assigned" and not d.get("user")) or \
                    (status == "Unassigned" and d.get("user")):
                continue
            shape = {"SerialNumber": d["serial"]}
            if d.get("user"):
                user = self.iam.entity("user", account, d["user"])
                if user is not None:
                    shape["User"] = self._user_shape(user)
                shape["EnableDate"] = when(d["enabled"])
            if d.get("tags"):
                shape["Tags"] = d["tags"]
            shapes.append(shape)
        return paginate(shapes, params, "VirtualMFADevices")
