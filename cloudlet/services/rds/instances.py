"""DB instances: Create, Describe, Modify, Stop, Start, Reboot, Delete.

A new instance is built and admitted by admission.py; what ModifyDBInstance changes on a
running one is applied by modifications.py."""

from __future__ import annotations

import shutil

from cloudlet import clock
from cloudlet.ca import CA_IDENTIFIER
from cloudlet.engines.db.front import port_free
from cloudlet.services.rds import errors, rules
from cloudlet.services.rds.admission import admit, build, initialize, storage_in_use
from cloudlet.services.rds.backups import check_new_snapshot, take_snapshot
from cloudlet.services.rds.modifications import apply_changes, changed
from cloudlet.services.rds.parameter_groups import resolve_parameter_group
from cloudlet.services.rds.runtime import Fleet, Runtime
from cloudlet.services.rds.shared import describe, get_instance, key_of_record, paginate


class InstanceOperations:
    fleet: Fleet

    def create_db_instance(self, ctx, params):
        engine = params.get("Engine")
        if params.get("DBClusterIdentifier"):
            return self.create_cluster_instance(ctx, params)
        if engine in rules.AURORA:
            raise errors.invalid_value("DBClusterIdentifier is required for an Aurora DB "
                                       "instance: create the DB cluster first.")
        rules.engine_rules(engine)
        rules.engine_available(engine)
        record = build(self.fleet, ctx, params)
        key = admit(self.fleet, record)
        self.fleet.launch(key, lambda rec, node: initialize(rec, node, self.fleet))
        return {"DBInstance": describe(self.fleet, record)}

    def describe_db_instances(self, ctx, params):
        identifier = params.get("DBInstanceIdentifier")
        if identifier:
            records = [get_instance(self.fleet, ctx, identifier)]
        else:
            records = self.fleet.records.list("instances", ctx.account_id, ctx.region)
        for f in params.get("Filters") or []:
            records = [r for r in records if instance_matches(r, f)]
        page, marker = paginate(records, params, "DBInstanceIdentifier")
        result = {"DBInstances": [describe(self.fleet, r) for r in page]}
        if marker:
            result["Marker"] = marker
        return result

    def modify_db_instance(self, ctx, params):
        record = get_instance(self.fleet, ctx, params.get("DBInstanceIdentifier"))
        key = key_of_record(record)
        if record["DBInstanceStatus"] != "available":
            raise errors.instance_state("Database instance is not in available state.")
        if params.get("NewDBInstanceIdentifier"):
            raise errors.invalid_combination("Cloudlet does not rename DB instances: "
                                             "NewDBInstanceIdentifier is not supported.")
        engine = record["Engine"]
        if params.get("EngineVersion") and rules.engine_version(
                engine, params["EngineVersion"]) != record["EngineVersion"]:
            raise errors.invalid_combination(
                f"Cannot upgrade {engine} from {record['EngineVersion']} to "
                f"{params['EngineVersion']}: this host has only one version of the engine.")
        now_changes, deferred = {}, {}
        target = now_changes if params.get("ApplyImmediately") else deferred
        if "DBInstanceClass" in params:
            target["DBInstanceClass"] = rules.instance_class(
                params["DBInstanceClass"], engine, record["EngineVersion"])
        if "AllocatedStorage" in params or "StorageType" in params:
            storage_type = params.get("StorageType", record["StorageType"])
            size = params.get("AllocatedStorage", record["AllocatedStorage"])
            if size < record["AllocatedStorage"]:
                raise errors.invalid_value("Invalid storage size: the allocated storage can't be "
                                           "decreased.")
            rules.storage(engine, size, storage_type,
                          storage_in_use(self.fleet, ctx) - record["AllocatedStorage"])
            target["AllocatedStorage"] = size
            target["StorageType"] = storage_type
        if "MultiAZ" in params:
            if record.get("ReadReplicaSourceDBInstanceIdentifier") and params["MultiAZ"]:
                raise errors.invalid_combination("Cloudlet does not make read replicas Multi-AZ.")
            target["MultiAZ"] = bool(params["MultiAZ"])
        if "MasterUserPassword" in params:
            now_changes["MasterUserPassword"] = rules.master_password(
                engine, params["MasterUserPassword"])
        if "BackupRetentionPeriod" in params:
            retention = rules.backup_retention(params["BackupRetentionPeriod"])
            if record.get("ReadReplicaDBInstanceIdentifiers") and retention == 0:
                raise errors.invalid_combination("Cannot set the backup retention period to 0 "
                                                 "for a DB instance that has read replicas.")
            if (retention == 0) == (record["BackupRetentionPeriod"] == 0):
                self.fleet.update(key, BackupRetentionPeriod=retention)
            else:
                target["BackupRetentionPeriod"] = retention
        simple = {}
        for name in ("DeletionProtection", "CopyTagsToSnapshot", "PubliclyAccessible",
                     "AutoMinorVersionUpgrade"):
            if name in params:
                simple[name] = bool(params[name])
        if "PreferredMaintenanceWindow" in params:
            simple["PreferredMaintenanceWindow"] = rules.maintenance_window(
                params["PreferredMaintenanceWindow"])
        if "PreferredBackupWindow" in params:
            simple["PreferredBackupWindow"] = rules.backup_window(params["PreferredBackupWindow"])
        if "VpcSecurityGroupIds" in params:
            simple["VpcSecurityGroups"] = [{"VpcSecurityGroupId": sg, "Status": "active"}
                                           for sg in params["VpcSecurityGroupIds"]]
        if "CACertificateIdentifier" in params and \
                params["CACertificateIdentifier"] != CA_IDENTIFIER:
            raise errors.invalid_value(f"Invalid CACertificateIdentifier: use {CA_IDENTIFIER}, "
                                       "Cloudlet's RDS CA.")
        if simple:
            self.fleet.update(key, **simple)
        if params.get("DBParameterGroupName"):
            self.switch_parameter_group(ctx, record, params["DBParameterGroupName"])
        if deferred:
            pending = dict(record.get("PendingModifiedValues") or {})
            pending.update(deferred)
            self.fleet.update(key, PendingModifiedValues=pending)
        if now_changes:
            status = "resetting-master-credentials" if list(now_changes) == [
                "MasterUserPassword"] else "modifying"
            self.fleet.update(key, DBInstanceStatus=status)
            shown = {k: ("****" if k == "MasterUserPassword" else v)
                     for k, v in now_changes.items()}
            self.fleet.update(key, PendingModifiedValues={
                **(self.fleet.record(key).get("PendingModifiedValues") or {}), **shown})

            def task(rt):
                try:
                    apply_changes(self.fleet, rt, now_changes)
                finally:
                    def clear(r):
                        for name in now_changes:
                            r["PendingModifiedValues"].pop(name, None)
                    self.fleet.records.update("instances", *key, clear)
                changed(self.fleet, key, "Applied modifications to the DB instance: "
                        + ", ".join(sorted(now_changes)))
            self.fleet.submit(key, task, failed="available")
        return {"DBInstance": describe(self.fleet, self.fleet.record(key))}

    def switch_parameter_group(self, ctx, record: dict, name: str) -> None:
        key = key_of_record(record)
        group_name, values = resolve_parameter_group(self.fleet, ctx, name, record["Engine"],
                                                     record["EngineVersion"])
        self.fleet.update(key, _parameters=values, DBParameterGroups=[
            {"DBParameterGroupName": group_name, "ParameterApplyStatus": "applying"}])

        def task(rt):
            waiting = set()
            if rt.primary is not None:
                rt.primary.spec.parameters = dict(values)
                waiting = rt.primary.apply_parameters(values)
            self.fleet.update(key, DBParameterGroups=[{
                "DBParameterGroupName": group_name,
                "ParameterApplyStatus": "pending-reboot" if waiting else "in-sync"}])
        self.fleet.submit(key, task)

    def stop_db_instance(self, ctx, params):
        record = get_instance(self.fleet, ctx, params.get("DBInstanceIdentifier"))
        key = key_of_record(record)
        if record.get("ReadReplicaSourceDBInstanceIdentifier") or \
                record.get("ReadReplicaDBInstanceIdentifiers"):
            raise errors.instance_state(f"Cannot stop or start a Read Replica instance or an "
                                        f"instance with Read Replicas: {key[2]}")
        if record["DBInstanceStatus"] != "available":
            raise errors.instance_state(f"Instance {key[2]} is not in available state.")
        snapshot = params.get("DBSnapshotIdentifier")
        if snapshot:
            take_snapshot(self.fleet, ctx, record, snapshot, [])
        self.fleet.update(key, DBInstanceStatus="stopping")

        def task(rt):
            latest = self.fleet.latest_restorable(rt, self.fleet.record(key), fresh=True)
            self.fleet.stop_servers(rt)
            self.fleet.update(key, DBInstanceStatus="stopped", _stopped_at=clock.timestamp(),
                              _latest_restorable=latest)
            self.fleet.event(key, "DB instance stopped", "notification")
        self.fleet.submit(key, task, failed="available")
        return {"DBInstance": describe(self.fleet, self.fleet.record(key))}

    def start_db_instance(self, ctx, params):
        record = get_instance(self.fleet, ctx, params.get("DBInstanceIdentifier"))
        key = key_of_record(record)
        if record["DBInstanceStatus"] != "stopped":
            raise errors.instance_state(f"Instance {key[2]} cannot be started as it is not in "
                                        "stopped state.")
        if not port_free("127.0.0.1", record["Endpoint"]["Port"]):
            raise errors.instance_state(f"The endpoint port {record['Endpoint']['Port']} of "
                                        f"{key[2]} is taken by another process.")
        self.fleet.update(key, DBInstanceStatus="starting")

        def task(rt):
            self.fleet.start_servers(rt)
            self.fleet.update(key, DBInstanceStatus="available")
            self.fleet.event(key, "DB instance started", "notification")
        self.fleet.submit(key, task, failed="stopped")
        return {"DBInstance": describe(self.fleet, self.fleet.record(key))}

    def reboot_db_instance(self, ctx, params):
        record = get_instance(self.fleet, ctx, params.get("DBInstanceIdentifier"))
        key = key_of_record(record)
        if record["DBInstanceStatus"] != "available":
            raise errors.instance_state(f"Instance {key[2]} is not in available state.")
        force = bool(params.get("ForceFailover"))
        if force and not record.get("MultiAZ"):
            raise errors.invalid_combination("ForceFailover cannot be specified since the "
                                             "instance is not configured for either MultiAZ "
                                             "or High Availability")
        self.fleet.update(key, DBInstanceStatus="rebooting")

        def task(rt):
            self.fleet.event(key, "DB instance restarted" if not force else
                             "Rebooting DB instance with failover", "availability")
            if force:
                self.fleet.failover(rt, "A reboot with failover was requested.")
            else:
                self.fleet.restart(rt)

            def done(r):
                r["DBInstanceStatus"] = "available"
                for group in r["DBParameterGroups"]:
                    group["ParameterApplyStatus"] = "in-sync"
            self.fleet.records.update("instances", *key, done)
        self.fleet.submit(key, task, failed="available")
        return {"DBInstance": describe(self.fleet, self.fleet.record(key))}

    def delete_db_instance(self, ctx, params):
        record = get_instance(self.fleet, ctx, params.get("DBInstanceIdentifier"))
        key = key_of_record(record)
        skip = bool(params.get("SkipFinalSnapshot"))
        final = params.get("FinalDBSnapshotIdentifier")
        if record["DBInstanceStatus"] == "deleting":
            raise errors.instance_state("Instance is already being deleted.")
        if record.get("DeletionProtection"):
            raise errors.invalid_combination("Cannot delete protected DB Instance, please "
                                             "disable deletion protection and try again.")
        if skip and final:
            raise errors.invalid_combination("Cannot specify both SkipFinalSnapshot and "
                                             "FinalDBSnapshotIdentifier.")
        cluster_id = record.get("DBClusterIdentifier")
        if cluster_id:
            cluster = self.fleet.records.get("clusters", key[0], key[1], cluster_id) or {}
            others = [m for m in self.members(key[0], key[1], cluster_id)
                      if m["DBInstanceIdentifier"] != key[2]]
            if cluster.get("_writer") == key[2] and others:
                raise errors.error("InvalidDBClusterStateFault",
                                   f"Cannot delete the writer {key[2]} of DB cluster "
                                   f"{cluster_id} while it has readers: fail over first or "
                                   "delete the readers.")
        if not skip and not final and not record.get("ReadReplicaSourceDBInstanceIdentifier") \
                and not cluster_id:
            raise errors.invalid_combination("FinalDBSnapshotIdentifier is required unless "
                                             "SkipFinalSnapshot is specified.")
        if record.get("ReadReplicaDBInstanceIdentifiers"):
            raise errors.instance_state(
                f"Cannot delete DB instance {key[2]} because it is the source of read "
                f"replicas: {', '.join(record['ReadReplicaDBInstanceIdentifiers'])}. Delete "
                "or promote the read replicas first.")
        if final:
            final = check_new_snapshot(self.fleet, ctx, final)
            if record["DBInstanceStatus"] != "available":
                raise errors.instance_state(f"Cannot take a final snapshot of {key[2]}: it is "
                                            f"{record['DBInstanceStatus']}.")
        delete_backups = params.get("DeleteAutomatedBackups", True)
        previous = record["DBInstanceStatus"]
        self.fleet.update(key, DBInstanceStatus="deleting")
        if final:
            take_snapshot(self.fleet, ctx, record, final, [])
        def task(rt):
            delete_task(self.fleet, rt, delete_backups)
            if cluster_id:
                self.member_gone((key[0], key[1], cluster_id), key[2])
        self.fleet.submit(key, task, failed=previous)
        return {"DBInstance": describe(self.fleet, self.fleet.record(key))}


def delete_task(fleet: Fleet, rt: Runtime, delete_backups: bool) -> None:
    key = rt.key
    record = fleet.record(key)
    fleet.stop_servers(rt)
    rt.primary = rt.standby = None
    shutil.rmtree(record["_dir"], ignore_errors=True)
    if delete_backups:
        shutil.rmtree(record["_backup_dir"], ignore_errors=True)
    source = record.get("ReadReplicaSourceDBInstanceIdentifier")
    if source:
        def unlink(r):
            r["ReadReplicaDBInstanceIdentifiers"] = [
                i for i in r.get("ReadReplicaDBInstanceIdentifiers", []) if i != key[2]]
        fleet.records.update("instances", key[0], key[1], source, unlink)
    fleet.endpoints.remove(record["Endpoint"]["Address"])
    fleet.records.delete("instances", *key)
    fleet.runtimes.pop(key, None)
    fleet.event(key, "DB instance deleted", "deletion")


def instance_matches(record: dict, f: dict) -> bool:
    name, values = f.get("Name"), f.get("Values") or []
    if name == "db-instance-id":
        return record["DBInstanceIdentifier"] in values or record["DBInstanceArn"] in values
    if name == "dbi-resource-id":
        return record["DbiResourceId"] in values
    if name == "engine":
        return record["Engine"] in values
    if name in ("db-cluster-id", "domain"):
        return False
    raise errors.invalid_value(f"Unrecognized filter name: {name}")


