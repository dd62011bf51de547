"""Parameter groups and the engine catalogue: Create/Modify/Reset/Describe/Delete
DBParameterGroup(s), DescribeDBParameters, DescribeEngineDefaultParameters,
DescribeDBEngineVersions, DescribeOrderableDBInstanceOptions.

Parameters are the engine class's real list (name, default, type, allowed values, static or
dynamic). A group stores only what was modified; `default.<family>` groups are the
engine's defaults and can't be modified. A modified group applies to every instance that
uses it: dynamic values at once, static ones `pending-reboot`."""

from __future__ import annotations

from cloudlet.engines.db.server import engine_class
from cloudlet.services.rds import errors, rules
from cloudlet.services.rds.parameter_groups import engine_of, families, find_group, group_values
from cloudlet.services.rds.records import public
from cloudlet.services.rds.runtime import Fleet, arn
from cloudlet.services.rds.shared import paginate, tags_of

# RDS's own settings, which every engine honours (applied through the engine).
RDS_PARAMETERS = {
    "postgres": [{"name": "rds.force_ssl", "default": "0", "type": "boolean", "allowed": "0,1",
                  "description": "Force SSL connections.", "static": False}],
    "mysql": [{"name": "require_secure_transport", "default": "OFF", "type": "boolean",
               "allowed": "ON,OFF", "description": "Whether client connections must use a "
               "secure transport.", "static": False}],
}
RDS_PARAMETERS["mariadb"] = RDS_PARAMETERS["mysql"]


def normalized(p: dict) -> dict:
    """An engine's parameter as {name, default, type, allowed, description, static}; engines
    may also give it in DescribeDBParameters' own shape."""
    if "name" in p:
        return p
    return {"name": p["ParameterName"], "default": p.get("ParameterValue"),
            "type": p.get("DataType"), "allowed": p.get("AllowedValues"),
            "description": p.get("Description"), "static": p.get("ApplyType") == "static"}


def catalog(engine: str) -> list[dict]:
    try:
        params = [normalized(p) for p in engine_class(engine).parameters()]
    except Exception:
        params = []
    names = {p["name"] for p in params}
    return params + [p for p in RDS_PARAMETERS.get(engine, []) if p["name"] not in names]


def aws_parameter(p: dict, value: str | None = None, method: str | None = None) -> dict:
    shape = {"ParameterName": p["name"], "Description": p.get("description") or p["name"],
             "Source": "user" if value is not None else "engine-default",
             "ApplyType": "static" if p.get("static") else "dynamic",
             "DataType": p.get("type") or "string", "IsModifiable": True,
             "ApplyMethod": method or ("pending-reboot" if p.get("static") else "immediate")}
    current = value if value is not None else p.get("default")
    if current not in (None, ""):
        shape["ParameterValue"] = str(current)
    if p.get("allowed"):
        shape["AllowedValues"] = str(p["allowed"])
    return shape


class ParameterOperations:
    fleet: Fleet

    def create_db_parameter_group(self, ctx, params):
        name = params.get("DBParameterGroupName")
        if not name or not rules.IDENTIFIER.match(name) or name.endswith("-") or len(name) > 255:
            raise errors.invalid_value("The parameter DBParameterGroupName is not a valid "
                                       "identifier. Identifiers must begin with a letter; must "
                                       "contain only ASCII letters, digits, and hyphens; and "
                                       "must not end with a hyphen or contain two consecutive "
                                       "hyphens.")
        family = params.get("DBParameterGroupFamily")
        if family not in families():
            raise errors.invalid_value(f"Invalid DB parameter group family: {family}. This host "
                                       "has: " + ", ".join(sorted(families())))
        group = {"DBParameterGroupName": name.lower(), "DBParameterGroupFamily": family,
                 "Description": params.get("Description") or "",
                 "DBParameterGroupArn": arn((ctx.account_id, ctx.region, name.lower()), "pg"),
                 "TagList": tags_of(params), "_params": {}}
        if not self.fleet.records.insert("parameter_groups", ctx.account_id, ctx.region,
                                         name.lower(), group):
            raise errors.parameter_group_exists(name)
        return {"DBParameterGroup": public(group)}

    def describe_db_parameter_groups(self, ctx, params):
        name = params.get("DBParameterGroupName")
        if name:
            groups = [find_group(self.fleet, ctx, name)]
        else:
            groups = [find_group(self.fleet, ctx, f"default.{f}") for f in sorted(families())]
            groups += self.fleet.records.list("parameter_groups", ctx.account_id, ctx.region)
        page, marker = paginate(groups, params, "DBParameterGroupName")
        result = {"DBParameterGroups": [public(g) for g in page]}
        if marker:
            result["Marker"] = marker
        return result

    def delete_db_parameter_group(self, ctx, params):
        name = params.get("DBParameterGroupName") or ""
        group = find_group(self.fleet, ctx, name)
        if group.get("_default"):
            raise errors.parameter_group_state(f"Default DBParameterGroup cannot be deleted: "
                                               f"{name}")
        users = self.users(ctx, group["DBParameterGroupName"])
        if users:
            raise errors.parameter_group_state(f"One or more database instances are still "
                                               f"members of this parameter group {name}, so the "
                                               "group cannot be deleted")
        self.fleet.records.delete("parameter_groups", ctx.account_id, ctx.region,
                                  group["DBParameterGroupName"])
        return {}

    def users(self, ctx, group_name: str) -> list[dict]:
        return [r for r in self.fleet.records.list("instances", ctx.account_id, ctx.region)
                if r["DBParameterGroups"][0]["DBParameterGroupName"] == group_name]

    def modify_db_parameter_group(self, ctx, params):
        name = params.get("DBParameterGroupName") or ""
        group = find_group(self.fleet, ctx, name)
        if group.get("_default"):
            raise errors.invalid_value(f"The parameter group {name} can't be modified: default "
                                       "parameter groups can't be modified.")
        changes = params.get("Parameters") or []
        if not 1 <= len(changes) <= 20:
            raise errors.invalid_value("You must specify between 1 and 20 parameters to "
                                       "modify.")
        known = {p["name"]: p for p in catalog(engine_of(group["DBParameterGroupFamily"]))}
        updates = {}
        for change in changes:
            pname = change.get("ParameterName")
            p = known.get(pname)
            if p is None:
                raise errors.invalid_value(f"Could not find parameter with name: {pname}")
            method = change.get("ApplyMethod") or "immediate"
            if p.get("static") and method == "immediate":
                raise errors.invalid_combination("cannot use immediate apply method for static "
                                                 f"parameter {pname}")
            if "ParameterValue" not in change:
                raise errors.invalid_value(f"A value is required for parameter {pname}")
            updates[pname] = {"value": str(change["ParameterValue"]), "method": method}

        def change_group(g):
            g["_params"] = {**(g.get("_params") or {}), **updates}
        group = self.fleet.records.update("parameter_groups", ctx.account_id, ctx.region,
                                          group["DBParameterGroupName"], change_group)
        self.apply_to_instances(ctx, group)
        return {"DBParameterGroupName": group["DBParameterGroupName"]}

    def reset_db_parameter_group(self, ctx, params):
        name = params.get("DBParameterGroupName") or ""
        group = find_group(self.fleet, ctx, name)
        if group.get("_default"):
            raise errors.invalid_value(f"The parameter group {name} can't be modified: default "
                                       "parameter groups can't be modified.")
        names = [p.get("ParameterName") for p in params.get("Parameters") or []]

        def reset(g):
            if params.get("ResetAllParameters") or not names:
                g["_params"] = {}
            else:
                g["_params"] = {k: v for k, v in g["_params"].items() if k not in names}
        group = self.fleet.records.update("parameter_groups", ctx.account_id, ctx.region,
                                          group["DBParameterGroupName"], reset)
        self.apply_to_instances(ctx, group)
        return {"DBParameterGroupName": group["DBParameterGroupName"]}

    def apply_to_instances(self, ctx, group: dict) -> None:
        values = group_values(group)
        for record in self.users(ctx, group["DBParameterGroupName"]):
            key = (ctx.account_id, ctx.region, record["DBInstanceIdentifier"])
            self.fleet.update(key, _parameters=values)

            def task(rt, key=key):
                waiting = set()
                for server in (rt.primary, rt.standby):
                    if server is not None:
                        server.spec.parameters = dict(values)
                if rt.primary is not None:
                    waiting = rt.primary.apply_parameters(values)
                if waiting:
                    def pending(r):
                        r["DBParameterGroups"][0]["ParameterApplyStatus"] = "pending-reboot"
                    self.fleet.records.update("instances", *key, pending)
            if record["DBInstanceStatus"] not in ("stopped", "stopping", "deleting"):
                self.fleet.submit(key, task)

    def describe_db_parameters(self, ctx, params):
        group = find_group(self.fleet, ctx, params.get("DBParameterGroupName") or "")
        engine = engine_of(group["DBParameterGroupFamily"])
        stored = group.get("_params") or {}
        source = params.get("Source")
        result = []
        for p in sorted(catalog(engine), key=lambda p: p["name"]):
            mine = stored.get(p["name"])
            shape = aws_parameter(p, mine["value"] if mine else None,
                                  mine["method"] if mine else None)
            if source and shape["Source"] != source:
                continue
            result.append(shape)
        page, marker = paginate(result, params, "ParameterName")
        out = {"Parameters": page}
        if marker:
            out["Marker"] = marker
        return out

    def describe_engine_default_parameters(self, ctx, params):
        family = params.get("DBParameterGroupFamily")
        if family not in families():
            raise errors.invalid_value(f"Invalid DB parameter group family: {family}")
        shapes = [aws_parameter(p) for p in sorted(catalog(engine_of(family)),
                                                     key=lambda p: p["name"])]
        page, marker = paginate(shapes, params, "ParameterName")
        out = {"DBParameterGroupFamily": family, "Parameters": page}
        if marker:
            out["Marker"] = marker
        return {"EngineDefaults": out}

    def describe_db_engine_versions(self, ctx, params):
        engine = params.get("Engine")
        version = params.get("EngineVersion")
        family = params.get("DBParameterGroupFamily")
        result = []
        for name, engine_rules in rules.ENGINES.items():
            if engine and engine != name:
                continue
            versions = sorted(rules.host_versions(name), key=rules._version_key)
            if params.get("DefaultOnly") and versions:
                versions = versions[-1:]
            for v in versions:
                if version and not (v == version or v.startswith(version + ".")):
                    continue
                fam = rules.family(name, v)
                if family and fam != family:
                    continue
                result.append({
                    "Engine": name, "EngineVersion": v, "DBParameterGroupFamily": fam,
                    "DBEngineDescription": engine_rules.description,
                    "DBEngineVersionDescription": f"{engine_rules.description} {v}",
                    "ValidUpgradeTarget": [], "ExportableLogTypes": [],
                    "SupportsLogExportsToCloudwatchLogs": False, "SupportsReadReplica": True,
                    "SupportedFeatureNames": [], "Status": "available",
                    "SupportsParallelQuery": False, "SupportsGlobalDatabases": False,
                    "MajorEngineVersion": rules.major(name, v),
                    "SupportsBabelfish": False, "SupportsCertificateRotationWithoutRestart":
                    False, "SupportsLocalWriteForwarding": False,
                    "SupportsIntegrations": False, "SupportedCACertificateIdentifiers":
                    ["cloudlet-rds-ca-ecc256-g1"]})
        page, marker = paginate(result, params, "EngineVersion")
        out = {"DBEngineVersions": page}
        if marker:
            out["Marker"] = marker
        return out

    def describe_orderable_db_instance_options(self, ctx, params):
        engine = params.get("Engine")
        if not engine:
            raise errors.missing("Engine")
        engine_rules = rules.engine_rules(engine)
        wanted_version = params.get("EngineVersion")
        wanted_class = params.get("DBInstanceClass")
        result = []
        for version in rules.host_versions(engine):
            if wanted_version and not (version == wanted_version or
                                       version.startswith(wanted_version + ".")):
                continue
            for instance_class in sorted(rules.CLASSES):
                if wanted_class and instance_class != wanted_class:
                    continue
                for storage_type, (low, high) in rules.STORAGE.items():
                    result.append({
                        "Engine": engine, "EngineVersion": version,
                        "DBInstanceClass": instance_class,
                        "LicenseModel": engine_rules.license_model,
                        "AvailabilityZones": [{"Name": f"{ctx.region}{z}"} for z in "abc"],
                        "MultiAZCapable": True, "ReadReplicaCapable": True, "Vpc": True,
                        "SupportsStorageEncryption": True, "StorageType": storage_type,
                        "SupportsIops": storage_type in ("io1", "io2", "gp3"),
                        "SupportsEnhancedMonitoring": False,
                        "SupportsIAMDatabaseAuthentication": False,
                        "SupportsPerformanceInsights": False,
                        "MinStorageSize": low, "MaxStorageSize": high,
                        "SupportedEngineModes": ["provisioned"],
                        "SupportedNetworkTypes": ["IPV4"],
                        "_id": f"{version}/{instance_class}/{storage_type}"})
        page, marker = paginate(result, params, "_id")
        out = {"OrderableDBInstanceOptions": [public(o) for o in page]}
        if marker:
            out["Marker"] = marker
        return out
