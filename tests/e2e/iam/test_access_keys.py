"""IAM access keys through boto3: shapes, the two-key quota, Active/Inactive, and a key
that works as a real credential until it is deactivated or deleted."""

from __future__ import annotations

import base64
import csv
import hashlib
import hmac
import io
import json
import re
import struct
import time
import uuid

from harness import error_of, unique


def sts_with(cloudlet, key: dict):
    return cloudlet.client("sts", aws_access_key_id=key["AccessKeyId"],
                           aws_secret_access_key=key["SecretAccessKey"])


def test_access_key_shapes_and_quota(iam):
    user = unique("alice")
    iam.create_user(UserName=user)
    first = iam.create_access_key(UserName=user)["AccessKey"]
    assert re.fullmatch(r"AKIA[A-Z0-9]{16}", first["AccessKeyId"])
    assert len(first["SecretAccessKey"]) == 40
    assert (first["UserName"], first["Status"]) == (user, "Active")
    second = iam.create_access_key(UserName=user)["AccessKey"]
    code, status, message = error_of(iam.create_access_key, UserName=user)
    assert (code, status, message) == ("LimitExceeded", 409,
                                       "Cannot exceed quota for AccessKeysPerUser: 2")
    listed = iam.list_access_keys(UserName=user)["AccessKeyMetadata"]
    assert {k["AccessKeyId"] for k in listed} == {first["AccessKeyId"], second["AccessKeyId"]}
    assert all("SecretAccessKey" not in k for k in listed)
    page = iam.list_access_keys(UserName=user, MaxItems=1)
    assert page["IsTruncated"] and len(page["AccessKeyMetadata"]) == 1

    iam.update_access_key(UserName=user, AccessKeyId=first["AccessKeyId"], Status="Inactive")
    statuses = {k["AccessKeyId"]: k["Status"] for k in iam.list_access_keys(UserName=user)["AccessKeyMetadata"]}
    assert statuses[first["AccessKeyId"]] == "Inactive"

    iam.delete_access_key(UserName=user, AccessKeyId=first["AccessKeyId"])
    code, status, message = error_of(iam.delete_access_key, UserName=user,
                                     AccessKeyId=first["AccessKeyId"])
    assert (code, status) == ("NoSuchEntity", 404)
    assert message == f"The Access Key with id {first['AccessKeyId']} cannot be found."
    assert error_of(iam.create_access_key, UserName=unique("ghost"))[0] == "NoSuchEntity"


def test_key_last_used_before_any_use(iam):
    user = unique("bob")
    iam.create_user(UserName=user)
    key = iam.create_access_key(UserName=user)["AccessKey"]["AccessKeyId"]
    last = iam.get_access_key_last_used(AccessKeyId=key)
    assert last["UserName"] == user
    assert last["AccessKeyLastUsed"]["ServiceName"] == "N/A"
    assert last["AccessKeyLastUsed"]["Region"] == "N/A"
    missing = "AKIA" + "0" * 16
    assert error_of(iam.get_access_key_last_used, AccessKeyId=missing)[0] == "NoSuchEntity"


def test_a_users_key_signs_requests_as_that_user(cloudlet, iam):
    user = unique("alice")
    created = iam.create_user(UserName=user, Path="/team/")["User"]
    key = iam.create_access_key(UserName=user)["AccessKey"]
    identity = sts_with(cloudlet, key).get_caller_identity()
    assert identity["Arn"] == f"arn:aws:iam::000000000000:user/team/{user}"
    assert identity["UserId"] == created["UserId"]
    assert identity["Account"] == "000000000000"


def test_deactivated_or_deleted_key_stops_working_at_once(cloudlet, iam):
    user = unique("carol")
    iam.create_user(UserName=user)
    key = iam.create_access_key(UserName=user)["AccessKey"]
    sts = sts_with(cloudlet, key)
    assert sts.get_caller_identity()["Arn"].endswith(f":user/{user}")

    iam.update_access_key(UserName=user, AccessKeyId=key["AccessKeyId"], Status="Inactive")
    code, status, _ = error_of(sts.get_caller_identity)
    assert (code, status) == ("InvalidClientTokenId", 403)

    iam.update_access_key(UserName=user, AccessKeyId=key["AccessKeyId"], Status="Active")
    assert sts.get_caller_identity()["Arn"].endswith(f":user/{user}")

    iam.delete_access_key(UserName=user, AccessKeyId=key["AccessKeyId"])
    code, status, _ = error_of(sts.get_caller_identity)
    assert (code, status) == ("InvalidClientTokenId", 403)


def test_wrong_secret_for_a_users_key_is_signature_mismatch(cloudlet, iam):
    user = unique("dan")
    iam.create_user(UserName=user)
    key = iam.create_access_key(UserName=user)["AccessKey"]
    wrong = {**key, "SecretAccessKey": "x" * 40}
    code, status, _ = error_of(sts_with(cloudlet, wrong).get_caller_identity)
    assert (code, status) == ("SignatureDoesNotMatch", 403)


def test_user_with_keys_cannot_be_deleted(iam):
    user = unique("erin")
    iam.create_user(UserName=user)
    key = iam.create_access_key(UserName=user)["AccessKey"]["AccessKeyId"]
    code, status, message = error_of(iam.delete_user, UserName=user)
    assert (code, status, message) == ("DeleteConflict", 409,
                                       "Cannot delete entity, must delete access keys first.")
    iam.delete_access_key(UserName=user, AccessKeyId=key)
    iam.delete_user(UserName=user)


def test_key_ids_carry_their_account(cloudlet):
    account = "4" + str(uuid.uuid4().int)[:11]
    iam = cloudlet.client("iam", aws_access_key_id=account)
    user = unique("frank")
    iam.create_user(UserName=user)
    key = iam.create_access_key(UserName=user)["AccessKey"]["AccessKeyId"]
    sts = cloudlet.client("sts")
    assert sts.get_access_key_info(AccessKeyId=key)["Account"] == account
    iam.delete_access_key(UserName=user, AccessKeyId=key)
    assert sts.get_access_key_info(AccessKeyId=key)["Account"] == account


def test_a_user_manages_their_own_keys_without_naming_themselves(cloudlet, iam):
    user = unique("gina")
    created = iam.create_user(UserName=user)["User"]
    self_service = {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Action": ["iam:GetUser", "iam:*AccessKey*"],
        "Resource": "arn:aws:iam::*:user/${aws:username}"}]}
    iam.put_user_policy(UserName=user, PolicyName="self", PolicyDocument=json.dumps(self_service))
    key = iam.create_access_key(UserName=user)["AccessKey"]
    own = cloudlet.client("iam", aws_access_key_id=key["AccessKeyId"],
                          aws_secret_access_key=key["SecretAccessKey"])
    assert own.get_user()["User"]["UserId"] == created["UserId"]
    second = own.create_access_key()["AccessKey"]
    assert second["UserName"] == user
    listed = own.list_access_keys()["AccessKeyMetadata"]
    assert {k["AccessKeyId"] for k in listed} == {key["AccessKeyId"], second["AccessKeyId"]}
    own.delete_access_key(AccessKeyId=second["AccessKeyId"])
    assert len(iam.list_access_keys(UserName=user)["AccessKeyMetadata"]) == 1


def test_users_and_keys_survive_kill_9(fresh_cloudlet, tmp_path):
    server = fresh_cloudlet()
    iam = server.client("iam")
    user = unique("henry")
    iam.create_user(UserName=user)
    key = iam.create_access_key(UserName=user)["AccessKey"]
    server.kill9()
    again = fresh_cloudlet(data_dir=server.data_dir)
    identity = sts_with(again, key).get_caller_identity()
    assert identity["Arn"] == f"arn:aws:iam::000000000000:user/{user}"
    assert again.client("iam").get_user(UserName=user)["User"]["UserName"] == user


def test_credential_report_lists_users_and_their_keys(fresh_cloudlet):
    server = fresh_cloudlet()
    iam = server.client("iam")
    assert error_of(iam.get_credential_report)[:2] == ("ReportNotPresent", 410)
    iam.create_user(UserName="kim")
    key = iam.create_access_key(UserName="kim")["AccessKey"]["AccessKeyId"]
    iam.update_access_key(UserName="kim", AccessKeyId=key, Status="Inactive")
    iam.create_access_key(UserName="kim")
    iam.create_login_profile(UserName="kim", Password="Sup3r-secret!")
    iam.create_user(UserName="lee")
    assert iam.generate_credential_report()["State"] == "STARTED"
    assert iam.generate_credential_report()["State"] == "COMPLETE"
    report = iam.get_credential_report()
    assert report["ReportFormat"] == "text/csv"
    rows = {r["user"]: r for r in csv.DictReader(io.StringIO(report["Content"].decode()))}
    assert set(rows) == {"<root_account>", "kim", "lee"}
    kim = rows["kim"]
    assert kim["arn"] == "arn:aws:iam::000000000000:user/kim"
    assert (kim["password_enabled"], kim["access_key_1_active"], kim["access_key_2_active"]) == (
        "true", "false", "true")
    assert (rows["lee"]["password_enabled"], rows["lee"]["access_key_1_active"]) == ("false", "false")

    server.advance_clock(5 * 3600)
    assert error_of(iam.get_credential_report)[:2] == ("ReportExpired", 410)
    assert iam.generate_credential_report()["State"] == "STARTED"
    assert iam.get_credential_report()["Content"]


def totp(seed_base32: bytes, at: float) -> str:
    """RFC 6238 (SHA-1, 30 s, 6 digits), as an authenticator app computes it."""
    key = base64.b32decode(seed_base32)
    digest = hmac.new(key, struct.pack(">Q", int(at) // 30), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    return f"{(struct.unpack('>I', digest[offset:offset + 4])[0] & 0x7FFFFFFF) % 1_000_000:06d}"


def server_time(cloudlet) -> float:
    """The service clock (tests may have moved it forward): what a device's codes follow."""
    return time.time() + cloudlet.control("GET", "/_cloudlet/clock").json()["offset_seconds"]


def test_virtual_mfa_device_lifecycle(cloudlet):
    account = "7" + str(uuid.uuid4().int)[:11]
    iam = cloudlet.client("iam", aws_access_key_id=account)
    user = unique("mona")
    iam.create_user(UserName=user)
    device = iam.create_virtual_mfa_device(VirtualMFADeviceName=user)["VirtualMFADevice"]
    serial, seed = device["SerialNumber"], device["Base32StringSeed"]
    assert serial == f"arn:aws:iam::{account}:mfa/{user}"
    assert error_of(iam.create_virtual_mfa_device,
                    VirtualMFADeviceName=user)[0] == "EntityAlreadyExists"
    unassigned = iam.list_virtual_mfa_devices(AssignmentStatus="Unassigned")["VirtualMFADevices"]
    assert [d["SerialNumber"] for d in unassigned] == [serial]

    code, status, _ = error_of(iam.enable_mfa_device, UserName=user, SerialNumber=serial,
                               AuthenticationCode1="000000", AuthenticationCode2="000000")
    assert (code, status) == ("InvalidAuthenticationCode", 403)
    now = server_time(cloudlet) - 30  # the previous step and the current: consecutive codes
    iam.enable_mfa_device(UserName=user, SerialNumber=serial,
                          AuthenticationCode1=totp(seed, now), AuthenticationCode2=totp(seed, now + 30))
    [listed] = iam.list_mfa_devices(UserName=user)["MFADevices"]
    assert (listed["SerialNumber"], listed["UserName"]) == (serial, user)
    assigned = iam.list_virtual_mfa_devices(AssignmentStatus="Assigned")["VirtualMFADevices"]
    assert assigned[0]["User"]["UserName"] == user

    renamed = unique("mona2")
    iam.update_user(UserName=user, NewUserName=renamed)
    user = renamed
    assert iam.list_mfa_devices(UserName=user)["MFADevices"][0]["SerialNumber"] == serial
    assert error_of(iam.delete_user, UserName=user)[2] == (
        "Cannot delete entity, must delete MFA device first.")
    assert error_of(iam.delete_virtual_mfa_device, SerialNumber=serial)[0] == "DeleteConflict"
    iam.deactivate_mfa_device(UserName=user, SerialNumber=serial)
    assert iam.list_mfa_devices(UserName=user)["MFADevices"] == []
    iam.delete_virtual_mfa_device(SerialNumber=serial)
    iam.delete_user(UserName=user)


def test_key_last_used_after_a_request(cloudlet, iam):
    user = unique("carol")
    iam.create_user(UserName=user)
    key = iam.create_access_key(UserName=user)["AccessKey"]
    sts_with(cloudlet, key).get_caller_identity()
    deadline = time.monotonic() + 10
    while True:  # recorded off the request path
        last = iam.get_access_key_last_used(AccessKeyId=key["AccessKeyId"])["AccessKeyLastUsed"]
        if "LastUsedDate" in last or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert last["ServiceName"] == "sts"
    assert last["Region"] == "us-east-1"
    assert "LastUsedDate" in last
