"""How a new instance comes to exist (CreateDBInstance, the restores, read replicas, a
cluster's instances): `build` makes its record from the request, running every check
before anything is made; `admit` then takes the identifier, the endpoint port (held by the
instance's front until the server takes it) and the hosts entry together; the launch runs on
the fleet's pool."""

from __future__ import annotations

from cloudlet import clock
from cloudlet.ca import CA_IDENTIFIER
from cloudlet.engines.db.front import port_free
from cloudlet.services.rds import errors, rules
from cloudlet.services.rds.parameter_groups import resolve_parameter_group
from cloudlet.services.rds.records import public
from cloudlet.services.rds.runtime import Fleet, Key, arn, free_port, resource_id
from cloudlet.services.rds.shared import key_of, key_of_record, tags_of

HOSTED_ZONE = "Z2R2ITUGPM61AM"


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
