"""DB parameter groups as records: the families the host has, finding a group (a
`default.<family>` group is made up on the fly, never stored), the values a group sets and
the group an instance uses."""

from __future__ import annotations

from cloudlet.services.rds import errors, rules
from cloudlet.services.rds.runtime import Fleet, arn


def families() -> dict[str, tuple[str, str]]:
    """family -> (engine, version) for what the host has."""
    found = {}
    for engine in rules.ENGINES:
        for version in rules.host_versions(engine):
            found[rules.family(engine, version)] = (engine, version)
    return found


def default_group(family: str) -> dict:
    return {"DBParameterGroupName": f"default.{family}", "DBParameterGroupFamily": family,
            "Description": f"Default parameter group for {family}", "_params": {},
            "DBParameterGroupArn": f"arn:aws:rds:::pg:default.{family}", "_default": True}


def find_group(fleet: Fleet, ctx, name: str) -> dict:
    if name.startswith("default."):
        family = name[len("default."):]
        if family in families():
            group = default_group(family)
            group["DBParameterGroupArn"] = arn((ctx.account_id, ctx.region, name), "pg")
            return group
        raise errors.parameter_group_not_found(name)
    group = fleet.records.get("parameter_groups", ctx.account_id, ctx.region, name.lower())
    if group is None:
        raise errors.parameter_group_not_found(name)
    return group


def group_values(group: dict) -> dict[str, str]:
    return {name: v["value"] for name, v in (group.get("_params") or {}).items()}


def engine_of(family: str) -> str:
    known = families()
    if family in known:
        return known[family][0]
    for engine in rules.ENGINES:
        if family.startswith(engine):
            return engine
    raise errors.invalid_value(f"Invalid DB parameter group family: {family}")


def resolve_parameter_group(fleet: Fleet, ctx, name: str | None, engine: str,
                            version: str) -> tuple[str, dict]:
    """The group an instance of engine and version uses (its default when name is empty),
    and the values that group sets."""
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
