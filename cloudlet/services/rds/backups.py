"""Snapshots as records and backups: taking a manual snapshot (a base backup of the
running primary, on the instance's queue), the automated snapshots that an instance's base
backups are (`rds:<id>-<yyyy-mm-dd-hh-mm>`), finding either, and what a restored instance
or a read replica takes from where it comes from."""

from __future__ import annotations

import datetime as dt
import shutil
import uuid
from pathlib import Path

from cloudlet import clock
from cloudlet.services.accounts import Arn
from cloudlet.services.rds import errors, rules
from cloudlet.services.rds.runtime import Fleet, arn
from cloudlet.services.rds.shared import key_of_record, own_identifier

KEEP_FROM_SOURCE = ("Engine", "EngineVersion", "MasterUsername", "_password", "DBName",
                    "AllocatedStorage", "StorageType", "DBInstanceClass")


def check_new_snapshot(fleet: Fleet, ctx, identifier) -> str:
    identifier = rules.snapshot_identifier(identifier)
    if identifier.startswith("rds:"):
        raise errors.invalid_value("The parameter DBSnapshotIdentifier is not a valid "
                                   "identifier: rds: is reserved for automated snapshots.")
    if fleet.records.get("snapshots", ctx.account_id, ctx.region, identifier) is not None:
        raise errors.snapshot_exists(identifier)
    return identifier


def snapshot_record(fleet: Fleet, ctx, instance: dict, identifier: str, tags: list) -> dict:
    path = fleet.root / "snapshots" / ctx.account_id / ctx.region / uuid.uuid4().hex
    return {
        "DBSnapshotIdentifier": identifier,
        "DBInstanceIdentifier": instance["DBInstanceIdentifier"],
        "SnapshotCreateTime": clock.timestamp(), "Engine": instance["Engine"],
        "AllocatedStorage": instance["AllocatedStorage"], "Status": "creating",
        "Port": instance["Endpoint"]["Port"], "AvailabilityZone": instance["AvailabilityZone"],
        "InstanceCreateTime": instance["InstanceCreateTime"],
        "MasterUsername": instance["MasterUsername"], "EngineVersion": instance["EngineVersion"],
        "LicenseModel": instance["LicenseModel"], "SnapshotType": "manual",
        "OptionGroupName": instance["OptionGroupMemberships"][0]["OptionGroupName"],
        "PercentProgress": 0, "StorageType": instance["StorageType"],
        "Encrypted": instance["StorageEncrypted"],
        "DBSnapshotArn": arn((ctx.account_id, ctx.region, identifier), "snapshot"),
        "IAMDatabaseAuthenticationEnabled": False, "DbiResourceId": instance["DbiResourceId"],
        "TagList": tags, "OriginalSnapshotCreateTime": clock.timestamp(),
        "SnapshotTarget": "region", "DedicatedLogVolume": False,
        "_password": instance["_password"], "_db_name": instance.get("DBName"),
        "_class": instance["DBInstanceClass"], "_path": str(path),
    }


def take_snapshot(fleet: Fleet, ctx, instance: dict, identifier: str, tags: list) -> dict:
    """Record the snapshot and back up the running primary on the instance's queue."""
    if instance.get("CopyTagsToSnapshot") and not tags:
        tags = list(instance.get("TagList") or [])
    record = snapshot_record(fleet, ctx, instance, identifier, tags)
    fleet.records.put("snapshots", ctx.account_id, ctx.region, identifier, record)
    key = key_of_record(instance)

    def task(rt):
        path = Path(record["_path"])
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            if rt.primary is None:
                raise RuntimeError("the instance has no running server")
            before = fleet.record(key)["DBInstanceStatus"]
            if before == "available":
                fleet.update(key, DBInstanceStatus="backing-up")
            rt.primary.base_backup(path)
            if before == "available":
                fleet.update(key, DBInstanceStatus="available")
        except Exception:
            shutil.rmtree(path, ignore_errors=True)
            fleet.records.update("snapshots", ctx.account_id, ctx.region, identifier,
                                 lambda r: r.update(Status="failed"))
            raise
        fleet.records.update("snapshots", ctx.account_id, ctx.region, identifier,
                             lambda r: r.update(Status="available", PercentProgress=100))
        fleet.records.event(ctx.account_id, ctx.region, "db-snapshot", identifier,
                            "Manual snapshot created", ["creation"], record["DBSnapshotArn"])
    fleet.submit(key, task)
    return record


def automated_snapshots(fleet: Fleet, ctx, instance: dict) -> list[dict]:
    result = []
    for base in instance.get("_bases", []):
        when = base["time"] + clock.offset()
        stamp = dt.datetime.fromtimestamp(when, dt.UTC).strftime("%Y-%m-%d-%H-%M")
        identifier = f"rds:{instance['DBInstanceIdentifier']}-{stamp}"
        record = snapshot_record(fleet, ctx, instance, identifier, [])
        record.update(SnapshotType="automated", Status="available", PercentProgress=100,
                      SnapshotCreateTime=when, OriginalSnapshotCreateTime=when,
                      _path=base["path"])
        result.append(record)
    return result


def find_snapshot(fleet: Fleet, ctx, identifier, shared: bool = False) -> dict:
    """A snapshot of the caller's, by identifier or ARN; with `shared`, also another
    account's manual snapshot shared with the caller for restore (named by its ARN, as
    AWS asks), which CopyDBSnapshot, RestoreDBInstanceFromDBSnapshot and
    DescribeDBSnapshots may use."""
    if not identifier:
        raise errors.missing("DBSnapshotIdentifier")
    if shared and identifier.startswith("arn:"):
        found = shared_snapshot(fleet, ctx, identifier)
        if found is not None:
            return found
    identifier = own_identifier(ctx, identifier, "snapshot", errors.snapshot_not_found)
    if identifier.startswith("rds:"):
        for instance in fleet.records.list("instances", ctx.account_id, ctx.region):
            for snap in automated_snapshots(fleet, ctx, instance):
                if snap["DBSnapshotIdentifier"] == identifier:
                    return snap
        raise errors.snapshot_not_found(identifier)
    record = fleet.records.get("snapshots", ctx.account_id, ctx.region, identifier.lower())
    if record is None:
        raise errors.snapshot_not_found(identifier)
    return record


def shared_with(record: dict, account: str) -> bool:
    """Whether a manual snapshot is shared for restore with `account` (or with everyone)."""
    shares = record.get("_restore") or []
    return record.get("SnapshotType") == "manual" and (account in shares or "all" in shares)


def shared_snapshot(fleet: Fleet, ctx, arn_text: str) -> dict | None:
    ref = Arn.parse(arn_text)
    if ref is None or ref.service != "rds" or ref.account == ctx.account_id or \
            ref.region != ctx.region or not ref.resource.startswith("snapshot:"):
        return None
    record = fleet.records.get("snapshots", ref.account, ref.region,
                               ref.resource[len("snapshot:"):].lower())
    return record if record is not None and shared_with(record, ctx.account_id) else None


def restore_base(snapshot_or_source: dict) -> dict:
    """What a restored instance takes from where it comes from."""
    return {k: snapshot_or_source[k] for k in KEEP_FROM_SOURCE if k in snapshot_or_source}
