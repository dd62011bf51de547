"""Read replicas: CreateDBInstanceReadReplica and PromoteReadReplica.

A read replica is an instance of its own (its own endpoint and record) whose server
streams from the source's primary; promoting it makes it a standalone primary."""

from __future__ import annotations

from cloudlet.services.rds import errors
from cloudlet.services.rds.admission import admit, build
from cloudlet.services.rds.backups import restore_base
from cloudlet.services.rds.runtime import Fleet
from cloudlet.services.rds.shared import describe, get_instance, key_of, key_of_record


class ReplicaOperations:
    fleet: Fleet

    def create_db_instance_read_replica(self, ctx, params):
        source_id = params.get("SourceDBInstanceIdentifier")
        if not source_id:
            raise errors.missing("SourceDBInstanceIdentifier")
        source = get_instance(self.fleet, ctx, source_id)
        if source.get("ReadReplicaSourceDBInstanceIdentifier"):
            raise errors.invalid_combination("Cloudlet does not create a read replica of a "
                                             "read replica.")
        if not source.get("BackupRetentionPeriod"):
            raise errors.instance_state("Automated backups are not enabled for this database "
                                        "instance. To enable automated backups, use "
                                        "ModifyDBInstance to set the backup retention period "
                                        "to a non-zero value.")
        if source["DBInstanceStatus"] != "available":
            raise errors.instance_state(f"DB instance {source['DBInstanceIdentifier']} is "
                                        "not in available state.")
        if params.get("MultiAZ"):
            raise errors.invalid_combination("Cloudlet does not make read replicas Multi-AZ.")
        base = restore_base(source)
        base["BackupRetentionPeriod"] = 0
        replica_params = {k: v for k, v in params.items() if k != "BackupRetentionPeriod"}
        replica_params["BackupRetentionPeriod"] = 0
        record = build(self.fleet, ctx, replica_params, base)
        record["ReadReplicaSourceDBInstanceIdentifier"] = source["DBInstanceIdentifier"]
        record["StatusInfos"] = [{"StatusType": "read replication", "Normal": True,
                                  "Status": "replicating"}]
        record["_parameters"] = dict(source.get("_parameters") or {})
        record["DBParameterGroups"] = source["DBParameterGroups"]
        source_key = key_of_record(source)
        key = admit(self.fleet, record)

        def link(r):
            r["ReadReplicaDBInstanceIdentifiers"] = [
                *r.get("ReadReplicaDBInstanceIdentifiers", []), key[2]]
        self.fleet.records.update("instances", *source_key, link)

        def prepare(rec, node):
            source_rt = self.fleet.runtimes.get(source_key)
            if source_rt is None or source_rt.primary is None:
                raise RuntimeError("the source instance is not running")
            with source_rt.lock:
                return source_rt.primary.create_replica(self.fleet.spec(rec, node))

        self.fleet.launch(key, prepare)
        return {"DBInstance": describe(self.fleet, record)}

    def promote_read_replica(self, ctx, params):
        record = get_instance(self.fleet, ctx, params.get("DBInstanceIdentifier"))
        key = key_of(ctx, record["DBInstanceIdentifier"])
        source = record.get("ReadReplicaSourceDBInstanceIdentifier")
        if not source:
            raise errors.instance_state(f"DB instance {key[2]} is not a read replica.")
        if record["DBInstanceStatus"] != "available":
            raise errors.instance_state(f"DB instance {key[2]} is not in available state.")
        retention = params.get("BackupRetentionPeriod", 1)
        if not 0 <= retention <= 35:
            raise errors.invalid_value("Invalid backup retention period: must be between 0 "
                                       f"and 35 days, got {retention}.")
        self.fleet.update(key, DBInstanceStatus="modifying")

        def task(rt):
            rt.primary.promote()

            def detach(r):
                r.pop("ReadReplicaSourceDBInstanceIdentifier", None)
                r.pop("StatusInfos", None)
                r["BackupRetentionPeriod"] = retention
                if params.get("PreferredBackupWindow"):
                    r["PreferredBackupWindow"] = params["PreferredBackupWindow"]
            self.fleet.records.update("instances", *key, detach)

            def unlink(r):
                r["ReadReplicaDBInstanceIdentifiers"] = [
                    i for i in r.get("ReadReplicaDBInstanceIdentifiers", []) if i != key[2]]
            self.fleet.records.update("instances", key[0], key[1], source, unlink)
            if retention:
                self.fleet.restart(rt)  # archiving starts with the new settings
                self.fleet.first_backup(rt)
            self.fleet.update(key, DBInstanceStatus="available")
            self.fleet.event(key, "Promoted read replica to a standalone DB instance",
                             "read replica")
        self.fleet.submit(key, task, failed="available")
        return {"DBInstance": describe(self.fleet, self.fleet.record(key))}
