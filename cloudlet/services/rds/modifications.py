"""Changing a running instance: ModifyDBInstance's changes applied (at once, or from
PendingModifiedValues in the maintenance window by the supervisor). A new instance class or
switching automated backups on or off restarts the servers; MultiAZ adds or drops the
standby; a new master password is set on the running server."""

from __future__ import annotations

import shutil

from cloudlet.services.rds import rules
from cloudlet.services.rds.runtime import Fleet, Key, Runtime


def changed(fleet: Fleet, key: Key, event: str, status: str = "available") -> None:
    fleet.update(key, DBInstanceStatus=status)
    fleet.event(key, event, "configuration change")


def apply_changes(fleet: Fleet, rt: Runtime, changes: dict) -> None:
    key = rt.key
    record = fleet.record(key)
    restart = False
    if "DBInstanceClass" in changes and changes["DBInstanceClass"] != record["DBInstanceClass"]:
        vcpu, memory_mb, connections = rules.shape(changes["DBInstanceClass"], record["Engine"])
        fleet.update(key, DBInstanceClass=changes["DBInstanceClass"], _vcpu=vcpu,
                     _memory_mb=memory_mb, _max_connections=connections)
        restart = True
    for name in ("AllocatedStorage", "StorageType"):
        if name in changes:
            fleet.update(key, **{name: changes[name]})
    if "BackupRetentionPeriod" in changes:
        before = record.get("BackupRetentionPeriod", 0)
        after = changes["BackupRetentionPeriod"]
        fleet.update(key, BackupRetentionPeriod=after)
        if (before == 0) != (after == 0):
            restart = True
            if after == 0:
                shutil.rmtree(record["_backup_dir"], ignore_errors=True)
                fleet.update(key, _bases=[], _latest_restorable=None)
    if "MasterUserPassword" in changes:
        fleet.update(key, _password=changes["MasterUserPassword"])
        if rt.primary is not None:
            rt.primary.set_master_password(changes["MasterUserPassword"])
            rt.primary.spec.master_password = changes["MasterUserPassword"]
    if restart and rt.primary is not None:
        fleet.restart(rt)
        if changes.get("BackupRetentionPeriod"):
            fleet.first_backup(rt)
    if "MultiAZ" in changes and changes["MultiAZ"] != bool(rt.standby):
        if changes["MultiAZ"]:
            fleet.update(key, MultiAZ=True, SecondaryAvailabilityZone=
                         f"{key[1]}{'b' if record['AvailabilityZone'][-1] != 'b' else 'a'}")
            if rt.primary is not None:
                fleet.build_standby(rt)
        else:
            if rt.standby is not None:
                rt.standby.stop()
                fleet.remove_node(record, record["_nodes"].get("standby"))
                rt.standby = None

            def drop(r):
                r["MultiAZ"] = False
                r.pop("SecondaryAvailabilityZone", None)
                r["_nodes"]["standby"] = None
            fleet.records.update("instances", *key, drop)


def apply_pending(fleet: Fleet, rt: Runtime) -> None:
    record = fleet.record(rt.key)
    pending = dict(record.get("PendingModifiedValues") or {})
    fleet.update(rt.key, PendingModifiedValues={})
    apply_changes(fleet, rt, pending)
    changed(fleet, rt.key, "Applied the pending modifications in the maintenance window")
