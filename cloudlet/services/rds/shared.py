"""What every operation family uses: an instance's key, finding an instance and its shape in
DescribeDBInstances, TagList from a request, and MaxRecords/Marker pagination."""

from __future__ import annotations

from cloudlet import clock
from cloudlet.services.rds import errors
from cloudlet.services.rds.records import public
from cloudlet.services.rds.runtime import Fleet, Key


def key_of(ctx, identifier: str) -> Key:
    return (ctx.account_id, ctx.region, identifier.lower())


def key_of_record(record: dict) -> Key:
    return (record["_account"], record["_region"], record["DBInstanceIdentifier"])


def tags_of(params: dict) -> list[dict]:
    return [{"Key": t["Key"], "Value": t.get("Value", "")} for t in params.get("Tags") or []]


def get_instance(fleet: Fleet, ctx, identifier) -> dict:
    if not identifier:
        raise errors.missing("DBInstanceIdentifier")
    record = fleet.record(key_of(ctx, identifier))
    if record is None:
        raise errors.instance_not_found(identifier)
    return record


def describe(fleet: Fleet, record: dict) -> dict:
    """An instance as DescribeDBInstances shows it."""
    shape = public(record)
    shape.setdefault("PendingModifiedValues", {})
    if record["DBInstanceStatus"] == "creating":
        shape.pop("Endpoint", None)
    if record.get("BackupRetentionPeriod"):
        latest = fleet.latest_restorable(fleet.runtimes.get(key_of_record(record)), record)
        if latest is not None:
            shape["LatestRestorableTime"] = latest + clock.offset()
    return shape


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
