"""Snapshots and restores: CreateDBSnapshot, DescribeDBSnapshots, CopyDBSnapshot,
DeleteDBSnapshot, RestoreDBInstanceFromDBSnapshot, RestoreDBInstanceToPointInTime. Another
account's snapshot shared with the caller (sharing.py) may be described, copied and
restored, by its ARN.

A manual snapshot is an engine base backup in its own directory. Automated snapshots are the
instance's base backups (`rds:<id>-<yyyy-mm-dd-hh-mm>`), which with the WAL archive make
point-in-time restore. Every restore creates a new instance."""

from __future__ import annotations

import datetime as dt
import shutil
import uuid
from pathlib import Path

from cloudlet import clock
from cloudlet.engines.db.server import engine_class
from cloudlet.services.rds import errors, rules
from cloudlet.services.rds.admission import admit, build
from cloudlet.services.rds.backups import (
    automated_snapshots,
    check_new_snapshot,
    find_snapshot,
    restore_base,
    take_snapshot,
)
from cloudlet.services.rds.records import public
from cloudlet.services.rds.runtime import Fleet, arn
from cloudlet.services.rds.shared import (
    describe,
    get_instance,
    key_of_record,
    own_identifier,
    paginate,
    tags_of,
)
from cloudlet.services.rds.sharing import shared_snapshots


class SnapshotOperations:
    fleet: Fleet

    def create_db_snapshot(self, ctx, params):
        identifier = check_new_snapshot(self.fleet, ctx, params.get("DBSnapshotIdentifier"))
        instance = get_instance(self.fleet, ctx, params.get("DBInstanceIdentifier"))
        if instance["DBInstanceStatus"] not in ("available", "backing-up"):
            raise errors.instance_state(f"Cannot create a snapshot because the DB instance "
                                        f"{instance['DBInstanceIdentifier']} is not in the "
                                        "available state.")
        record = take_snapshot(self.fleet, ctx, instance, identifier, tags_of(params))
        return {"DBSnapshot": public(record)}

    def describe_db_snapshots(self, ctx, params):
        instance_id = params.get("DBInstanceIdentifier")
        snapshot_id = params.get("DBSnapshotIdentifier")
        kind = params.get("SnapshotType")
        if snapshot_id:
            records = [find_snapshot(self.fleet, ctx, snapshot_id, shared=True)]
        else:
            records = []
            if kind in (None, "manual"):
                records += self.fleet.records.list("snapshots", ctx.account_id, ctx.region)
            if kind in (None, "automated"):
                for instance in self.fleet.records.list("instances", ctx.account_id,
                                                        ctx.region):
                    records += automated_snapshots(self.fleet, ctx, instance)
            if kind == "shared" or (kind is None and params.get("IncludeShared")):
                records += shared_snapshots(self.fleet, ctx, public=False)
            if kind == "public" or (kind is None and params.get("IncludePublic")):
                records += [r for r in shared_snapshots(self.fleet, ctx, public=True)
                            if r not in records]
        if instance_id:
            try:
                instance_id = own_identifier(ctx, instance_id, "db",
                                             errors.instance_not_found).lower()
            except errors.RdsError:  # another account's instance: none of its snapshots
                instance_id = None
            records = [r for r in records if r["DBInstanceIdentifier"] == instance_id]
        for f in params.get("Filters") or []:
            name, values = f.get("Name"), f.get("Values") or []
            field = {"db-instance-id": "DBInstanceIdentifier",
                     "db-snapshot-id": "DBSnapshotIdentifier", "snapshot-type": "SnapshotType",
                     "engine": "Engine", "dbi-resource-id": "DbiResourceId"}.get(name)
            if field is None:
                raise errors.invalid_value(f"Unrecognized filter name: {name}")
            records = [r for r in records if r[field] in values]
        records.sort(key=lambda r: r["DBSnapshotIdentifier"])
        page, marker = paginate(records, params, "DBSnapshotIdentifier")
        result = {"DBSnapshots": [public(r) for r in page]}
        if marker:
            result["Marker"] = marker
        return result

    def delete_db_snapshot(self, ctx, params):
        record = find_snapshot(self.fleet, ctx, params.get("DBSnapshotIdentifier"))
        if record["SnapshotType"] == "automated":
            raise errors.snapshot_state("Cannot delete an automated snapshot: it expires with "
                                        "the backup retention period.")
        if record["Status"] == "creating":
            raise errors.snapshot_state("Cannot delete the snapshot because it is being "
                                        "created.")
        self.fleet.records.delete("snapshots", ctx.account_id, ctx.region,
                                  record["DBSnapshotIdentifier"])
        shutil.rmtree(record["_path"], ignore_errors=True)
        record["Status"] = "deleted"
        return {"DBSnapshot": public(record)}

    def copy_db_snapshot(self, ctx, params):
        source = find_snapshot(self.fleet, ctx, params.get("SourceDBSnapshotIdentifier"),
                               shared=True)
        target = check_new_snapshot(self.fleet, ctx, params.get("TargetDBSnapshotIdentifier"))
        if source["Status"] != "available":
            raise errors.snapshot_state("The source snapshot is not in the available state.")
        path = self.fleet.root / "snapshots" / ctx.account_id / ctx.region / uuid.uuid4().hex
        tags = tags_of(params) or (source["TagList"] if params.get("CopyTags") else [])
        record = {**source, "DBSnapshotIdentifier": target, "SnapshotType": "manual",
                  "Status": "creating", "SnapshotCreateTime": clock.timestamp(),
                  "DBSnapshotArn": arn((ctx.account_id, ctx.region, target), "snapshot"),
                  "SourceDBSnapshotIdentifier": source["DBSnapshotArn"], "TagList": tags,
                  "_path": str(path), "_restore": []}
        self.fleet.records.put("snapshots", ctx.account_id, ctx.region, target, record)

        def copy():
            try:
                shutil.copytree(source["_path"], path, symlinks=True)
                state = "available"
            except OSError:
                shutil.rmtree(path, ignore_errors=True)
                state = "failed"
            self.fleet.records.update("snapshots", ctx.account_id, ctx.region, target,
                                      lambda r: r.update(Status=state, PercentProgress=100))
        self.fleet.pool.submit(copy)
        return {"DBSnapshot": public(record)}

    def describe_db_instance_automated_backups(self, ctx, params):
        """Automated backups of live instances (retained backups of deleted ones are not
        kept: DeleteAutomatedBackups=false is not honoured)."""
        records = self.fleet.records.list("instances", ctx.account_id, ctx.region)
        identifier = params.get("DBInstanceIdentifier")
        if identifier:
            records = [r for r in records if r["DBInstanceIdentifier"] == identifier.lower()]
        if params.get("DbiResourceId"):
            records = [r for r in records if r["DbiResourceId"] == params["DbiResourceId"]]
        result = []
        for r in records:
            if not r.get("_bases"):
                continue
            rt = self.fleet.runtimes.get(key_of_record(r))
            latest = self.fleet.latest_restorable(rt, r)
            window = {"EarliestTime": min(b["time"] for b in r["_bases"]) + clock.offset()}
            if latest is not None:
                window["LatestTime"] = latest + clock.offset()
            result.append({
                "DBInstanceArn": r["DBInstanceArn"], "DbiResourceId": r["DbiResourceId"],
                "Region": ctx.region, "DBInstanceIdentifier": r["DBInstanceIdentifier"],
                "RestoreWindow": window, "AllocatedStorage": r["AllocatedStorage"],
                "Status": "active", "Port": r["Endpoint"]["Port"],
                "AvailabilityZone": r["AvailabilityZone"],
                "InstanceCreateTime": r["InstanceCreateTime"],
                "MasterUsername": r["MasterUsername"], "Engine": r["Engine"],
                "EngineVersion": r["EngineVersion"], "LicenseModel": r["LicenseModel"],
                "StorageType": r["StorageType"], "Encrypted": r["StorageEncrypted"],
                "BackupRetentionPeriod": r["BackupRetentionPeriod"],
                "DBInstanceAutomatedBackupsArn": arn((ctx.account_id, ctx.region,
                                                      r["DbiResourceId"]), "auto-backup"),
                "BackupTarget": "region"})
        page, marker = paginate(result, params, "DBInstanceIdentifier")
        out = {"DBInstanceAutomatedBackups": page}
        if marker:
            out["Marker"] = marker
        return out

    def restore_db_instance_from_db_snapshot(self, ctx, params):
        snapshot = find_snapshot(self.fleet, ctx, params.get("DBSnapshotIdentifier"),
                                 shared=True)
        if snapshot["Status"] != "available":
            raise errors.snapshot_state("The snapshot is not in the available state.")
        base = restore_base(snapshot)
        base["DBName"] = snapshot.get("_db_name")
        base.setdefault("DBInstanceClass", snapshot["_class"])
        if params.get("BackupRetentionPeriod") is None:
            params = {**params, "BackupRetentionPeriod": 1}
        record = build(self.fleet, ctx, params, base)
        key = admit(self.fleet, record)
        cls = engine_class(record["Engine"])
        backup = Path(snapshot["_path"])
        self.fleet.launch(key, lambda rec, node: cls.restore(
            backup, self.fleet.spec(rec, node)))
        self.fleet.event(key, f"Restored from snapshot {snapshot['DBSnapshotIdentifier']}",
                         "creation")
        return {"DBInstance": describe(self.fleet, record)}

    def restore_db_instance_to_point_in_time(self, ctx, params):
        source_id = params.get("SourceDBInstanceIdentifier")
        if not source_id:
            if params.get("SourceDbiResourceId") or \
                    params.get("SourceDBInstanceAutomatedBackupsArn"):
                raise errors.invalid_value("Cloudlet restores only from a live source: give "
                                           "SourceDBInstanceIdentifier.")
            raise errors.missing("SourceDBInstanceIdentifier")
        source = get_instance(self.fleet, ctx, source_id)
        rules.identifier(params.get("TargetDBInstanceIdentifier"),
                         "TargetDBInstanceIdentifier")
        if not source.get("BackupRetentionPeriod") or not source.get("_bases"):
            if not source.get("BackupRetentionPeriod"):
                raise errors.pitr_not_enabled(source["DBInstanceIdentifier"])
            raise errors.invalid_restore("The source DB instance has no automated backup yet: "
                                         "try again once it is available.")
        use_latest = bool(params.get("UseLatestRestorableTime"))
        restore_time = params.get("RestoreTime")
        if use_latest and restore_time is not None:
            raise errors.invalid_combination("Cannot specify both RestoreTime and "
                                             "UseLatestRestorableTime.")
        rt = self.fleet.runtimes.get(key_of_record(source))
        latest = self.fleet.latest_restorable(rt, source, fresh=True)
        earliest = min(b["time"] for b in source["_bases"])
        if use_latest or restore_time is None:
            if latest is None:
                raise errors.invalid_restore("The source DB instance has no restorable time "
                                             "yet.")
            target = latest
        else:
            target = _epoch(restore_time) - clock.offset()
            if latest is None or not earliest <= target <= latest:
                window = (f"{_iso(earliest)} and {_iso(latest)}" if latest else "its window")
                raise errors.invalid_restore(
                    f"Restore time {_iso(target)} is outside the restorable window of DB "
                    f"instance {source['DBInstanceIdentifier']}: restore to a time between "
                    f"{window}.")
        bases = sorted(source["_bases"], key=lambda b: b["time"])
        backup = Path([b for b in bases if b["time"] <= target][-1]["path"])
        archive = Path(source["_backup_dir"]) / "archive"
        base = restore_base(source)
        target_params = {**params, "DBInstanceIdentifier": params["TargetDBInstanceIdentifier"]}
        if target_params.get("BackupRetentionPeriod") is None:
            target_params["BackupRetentionPeriod"] = source["BackupRetentionPeriod"]
        if "DBParameterGroupName" not in target_params:
            group = source["DBParameterGroups"][0]["DBParameterGroupName"]
            if not group.startswith("default."):
                target_params["DBParameterGroupName"] = group
        record = build(self.fleet, ctx, target_params, base)
        key = admit(self.fleet, record)
        cls = engine_class(record["Engine"])
        # The latest restorable time is the end of the archive: replay all of it.
        replay_to = None if use_latest or restore_time is None else target
        self.fleet.launch(key, lambda rec, node: cls.restore(
            backup, self.fleet.spec(rec, node), archive=archive, target_time=replay_to))
        self.fleet.event(key, f"Restored from DB instance {source['DBInstanceIdentifier']} "
                         f"to {_iso(target)}", "creation")
        return {"DBInstance": describe(self.fleet, record)}


def _epoch(value) -> float:
    if isinstance(value, dt.datetime):
        return value.timestamp()
    if isinstance(value, (int, float)):
        return float(value)
    return dt.datetime.fromisoformat(str(value).replace("Z", "+00:00")).timestamp()


def _iso(real: float | None) -> str:
    if real is None:
        return "none"
    return dt.datetime.fromtimestamp(real + clock.offset(), dt.UTC).strftime(
        "%Y-%m-%dT%H:%M:%SZ")
