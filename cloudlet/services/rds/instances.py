"""DB instances: Create, Describe, Modify, Stop, Start, Reboot, Delete.

`admit` is the one way a new instance comes to exist (create, restores, read replicas):
every check runs before anything is made, then the record, the endpoint port and the hosts
entry are taken together, and the launch runs on the fleet's pool."""

from __future__ import annotations

import shutil
from pathlib import Path

from cloudlet import clock
from cloudlet.engines.db.ca import CA_IDENTIFIER
from cloudlet.engines.db.front import port_free
from cloudlet.services.rds import errors, rules
from cloudlet.services.rds.records import public
from cloudlet.services.rds.runtime import Fleet, Key, Runtime, arn, resource_id

HOSTED_ZONE = "Z2R2ITUGPM61AM"
DEFERRED = ("DBInstanceClass", "AllocatedStorage", "MultiAZ", "StorageType")


def key_of(ctx, identifier: str) -> Key:
    return (ctx.account_id, ctx.region, identifier.lower())


def tags_of(params: dict) -> list[dict]:
    return [{"Key": t["Key"], "Value": t.get("Value", "")} for t in params.get("Tags") or []]


def describe(fleet: Fleet, record: dict) -> dict:
    shape = public(record)
    shape.setdefault("PendingModifiedValues", {})
    if record["DBInstanceStatus"] == "creating":
        shape.pop("Endpoint", None)
    if record.get("BackupRetentionPeriod"):
        latest = fleet.latest_restorable(fleet.runtimes.get(key_of_record(record)), record)
        if latest is not None:
            shape["LatestRestorableTime"] = latest + clock.offset()
    return shape


def key_of_record(record: dict) -> Key:
    return (record["_account"], record["_region"], record["DBInstanceIdentifier"])


def get_instance(fleet: Fleet, ctx, identifier) -> dict:
    if not identifier:
        raise errors.missing("DBInstanceIdentifier")
    record = fleet.record(key_of(ctx, identifier))
    if record is None:
        raise errors.instance_not_found(identifier)
    return record


def storage_in_use(fleet: Fleet, ctx) -> int:
    return sum(r.get("AllocatedStorage", 0) for r in fleet.records.list("instances",
                                                                      ctx.account_id, ctx.region))


def zone(ctx, value: str | None, default: str = "a") -> str:
    if value is None:
        return f"{ctx.region}{default}"
    if value[:-1] != ctx.region or value[-1] not in "abcdef":
        raise errors.invalid_value(f"Invalid availability zone: {value}")
    return value


def build(fleet: Fleet, ctx, params: dict, base: dict | None = None) -> dict:
    """A new instance's record from the request; `base` holds what a snapshot, a source
    instance or a backup decides (engine, version, master user, storage, DB name)."""
    base = base or {}
    identifier = rules.identifier(params.get("DBInstanceIdentifier"))
    engine = base.get("Engine") or params.get("Engine")
    engine_rules = rules.engine_rules(engine)
    version = base.get("EngineVersion") or rules.engine_version(engine,
                                                                 params.get("EngineVersion"))
    instance_class = rules.instance_class(params.get("DBInstanceClass") or
                                          base.get("DBInstanceClass"), engine, version)
    storage_type = params.get("StorageType") or base.get("StorageType") or "gp2"
    allocated = rules.storage(engine, params.get("AllocatedStorage") or
                              base.get("AllocatedStorage"), storage_type,
                              storage_in_use(fleet, ctx))
    if "MasterUsername" in base:
        username, password = base["MasterUsername"], base["_password"]
    else:
        username = rules.master_username(engine, params.get("MasterUsername"))
        password = rules.master_password(engine, params.get("MasterUserPassword"))
    db_name = base.get("DBName") if "MasterUsername" in base else \
        rules.db_name(engine, params.get("DBName"))
    retention = rules.backup_retention(params.get("BackupRetentionPeriod",
                                                  base.get("BackupRetentionPeriod")))
    port = rules.port(params.get("Port"), engine)
    if params.get("Port") is None and (port in claimed_ports(fleet)
                                       or not port_free("127.0.0.1", port)):
        from cloudlet.services.rds.runtime import free_port
        port = free_port()
    multi_az = bool(params.get("MultiAZ", False))
    az = params.get("AvailabilityZone")
    if multi_az and az:
        raise errors.invalid_combination("Requesting a specific availability zone is not valid "
                                         "for Multi-AZ instances.")
    vcpu, memory_mb, max_connections = rules.shape(instance_class, engine)
    group_name, parameters = resolve_parameter_group(fleet, ctx, params.get("DBParameterGroupName"),
                                                     engine, version)
    subnet_group = resolve_subnet_group(fleet, ctx, params.get("DBSubnetGroupName"))
    key = key_of(ctx, identifier)
    rid = resource_id()
    root = fleet.root
    now = clock.timestamp()
    record = {
        "DBInstanceIdentifier": identifier, "DBInstanceClass": instance_class, "Engine": engine,
        "DBInstanceStatus": "creating", "MasterUsername": username,
        "Endpoint": {"Address": fleet.endpoints.hostname(*key), "Port": port,
                     "HostedZoneId": HOSTED_ZONE},
        "AllocatedStorage": allocated, "InstanceCreateTime": now,
        "PreferredBackupWindow": rules.backup_window(params.get("PreferredBackupWindow")),
        "BackupRetentionPeriod": retention, "DBSecurityGroups": [],
        "VpcSecurityGroups": [{"VpcSecurityGroupId": sg, "Status": "active"}
                              for sg in params.get("VpcSecurityGroupIds") or []],
        "DBParameterGroups": [{"DBParameterGroupName": group_name,
                               "ParameterApplyStatus": "in-sync"}],
        "AvailabilityZone": zone(ctx, az),
        "PreferredMaintenanceWindow": rules.maintenance_window(
            params.get("PreferredMaintenanceWindow")),
        "PendingModifiedValues": {}, "MultiAZ": multi_az, "EngineVersion": version,
        "AutoMinorVersionUpgrade": params.get("AutoMinorVersionUpgrade", True),
        "ReadReplicaDBInstanceIdentifiers": [], "LicenseModel": engine_rules.license_model,
        "OptionGroupMemberships": [{"OptionGroupName": f"default:{engine}-"
                                    f"{rules.major(engine, version).replace('.', '-')}",
                                    "Status": "in-sync"}],
        "PubliclyAccessible": bool(params.get("PubliclyAccessible", False)),
        "StorageType": storage_type, "DbInstancePort": 0,
        "StorageEncrypted": bool(params.get("StorageEncrypted", False)),
        "DbiResourceId": rid, "CACertificateIdentifier": CA_IDENTIFIER,
        "CopyTagsToSnapshot": bool(params.get("CopyTagsToSnapshot", False)),
        "DeletionProtection": bool(params.get("DeletionProtection", False)),
        "DBInstanceArn": arn(key), "TagList": tags_of(params),
        "IAMDatabaseAuthenticationEnabled": False, "PerformanceInsightsEnabled": False,
        "CertificateDetails": {"CAIdentifier": CA_IDENTIFIER,
                               "ValidTill": fleet.ca.valid_till.timestamp()},
        "BackupTarget": "region", "NetworkType": "IPV4", "ActivityStreamStatus": "stopped",
        "_account": ctx.account_id, "_region": ctx.region, "_password": password,
        "_dir": str(root / "i" / rid[3:15].lower()),  # short: sockets live under it
        "_backup_dir": str(root / "b" / rid[3:15].lower()), "_memory_mb": memory_mb,
        "_max_connections": max_connections, "_vcpu": vcpu, "_parameters": parameters,
        "_seq": 0,
    }
    if db_name:
        record["DBName"] = db_name
    if multi_az:
        record["SecondaryAvailabilityZone"] = f"{ctx.region}b"
    if record["StorageEncrypted"]:
        record["KmsKeyId"] = params.get("KmsKeyId") or \
            f"arn:aws:kms:{ctx.region}:{ctx.account_id}:key/aws-rds-default"
    if storage_type in ("gp3", "io1", "io2") and params.get("Iops"):
        record["Iops"] = params["Iops"]
    if subnet_group is not None:
        record["DBSubnetGroup"] = subnet_group
    return record


def resolve_parameter_group(fleet: Fleet, ctx, name: str | None, engine: str,
                            version: str) -> tuple[str, dict]:
    from cloudlet.services.rds.parameters import find_group, group_values

    family = rules.family(engine, version)
    if not name:
        return f"default.{family}", {}
    group = find_group(fleet, ctx, name)
    if group["DBParameterGroupFamily"] != family:
        raise errors.invalid_combination(
            f"The parameter group {name} with DBParameterGroupFamily "
            f"{group['DBParameterGroupFamily']} can't be used for this instance. Use a "
            f"parameter group with DBParameterGroupFamily {family}.")
    return group["DBParameterGroupName"], group_values(group)


def resolve_subnet_group(fleet: Fleet, ctx, name: str | None) -> dict | None:
    if not name:
        return None
    group = fleet.records.get("subnet_groups", ctx.account_id, ctx.region, name.lower())
    if group is None:
        raise errors.subnet_group_not_found(name)
    return {k: v for k, v in public(group).items() if k not in ("DBSubnetGroupArn", "TagList")}


def claimed_ports(fleet: Fleet) -> set[int]:
    """Endpoint ports of every instance, stopped ones included: theirs even when nothing
    listens."""
    return {r["Endpoint"]["Port"] for r in fleet.records.list("instances")}


def admit(fleet: Fleet, record: dict) -> Key:
    """Take the identifier, the endpoint port (held by the front until the server takes
    it) and the hostname; nothing else exists yet."""
    key = key_of_record(record)
    rt_front_port = record["Endpoint"]["Port"]
    with fleet.records.lock:
        if fleet.record(key) is not None:
            raise errors.instance_exists()
        rt = fleet.runtime(key, rt_front_port)
        rt.front.port = rt_front_port
        try:
            if rt_front_port in claimed_ports(fleet):
                raise OSError("claimed by another DB instance")
            rt.front.bind()
        except OSError:
            fleet.runtimes.pop(key, None)
            raise errors.invalid_value(
                f"The port {rt_front_port} is already in use on this host: choose another "
                "Port for the DB instance.") from None
        fleet.records.insert("instances", *key, record)
    fleet.endpoints.add(record["Endpoint"]["Address"])
    return key


def initialize(record: dict, node: dict, fleet: Fleet):
    server = fleet.server(record, node)
    server.initialize()
    return server


def changed(fleet: Fleet, key: Key, event: str, status: str = "available") -> None:
    fleet.update(key, DBInstanceStatus=status)
    fleet.event(key, event, "configuration change")


# -- modifications ------------------------------------------------------------------------

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
            records = [get_instance(self.fleet, ctx, identifier.split(":")[-1])]
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
            from cloudlet.services.rds.snapshots import take_snapshot
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
            from cloudlet.services.rds.snapshots import check_new_snapshot
            final = check_new_snapshot(self.fleet, ctx, final)
            if record["DBInstanceStatus"] != "available":
                raise errors.instance_state(f"Cannot take a final snapshot of {key[2]}: it is "
                                            f"{record['DBInstanceStatus']}.")
        delete_backups = params.get("DeleteAutomatedBackups", True)
        previous = record["DBInstanceStatus"]
        self.fleet.update(key, DBInstanceStatus="deleting")
        if final:
            from cloudlet.services.rds.snapshots import take_snapshot
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


def paginate(items: list[dict], params: dict, id_field: str) -> tuple[list[dict], str | None]:
    limit = params.get("MaxRecords")
    if limit is None:
        limit = 100
    elif not 20 <= limit <= 100:
        raise errors.invalid_value(f"Invalid value {limit} for MaxRecords. Must be between 20 "
                                   "and 100")
    marker = params.get("Marker")
    if marker:
        items = [i for i in items if i[id_field] > marker]
    page = items[:limit]
    return page, (page[-1][id_field] if len(items) > limit else None)


def remove_tree(path: str | Path) -> None:
    shutil.rmtree(path, ignore_errors=True)
