"""What every operation family uses: an instance's key, finding an instance and its shape in
DescribeDBInstances, TagList from a request, and MaxRecords/Marker pagination."""

from __future__ import annotations

from cloudlet import clock
from cloudlet.services.accounts import Arn
from cloudlet.services.rds import errors
from cloudlet.services.rds.records import public
from cloudlet.services.rds.runtime import Fleet, Key


def key_of(ctx, identifier: str) -> Key:
    return (ctx.account_id, ctx.region, identifier.lower())


def key_of_record(record: dict) -> Key:
    return (record["_account"], record["_region"], record["DBInstanceIdentifier"])


def tags_of(params: dict) -> list[dict]:
    return [{"Key": t["Key"], "Value": t.get("Value", "")} for t in params.get("Tags") or []]


def own_identifier(ctx, identifier: str, resource_type: str, not_found) -> str:
    """The identifier a request names, by itself or by its ARN (`arn:aws:rds:<region>:
    <account>:<resource_type>:<id>`). An ARN of another account or Region answers
    `not_found(identifier)`, as a missing resource does: RDS has no resource policy, and
    what it shares (a manual snapshot, for restore) is found by `shared_snapshot`."""
    if not identifier.startswith("arn:"):
        return identifier
    ref = Arn.parse(identifier)
    if ref is None or ref.service != "rds" or ref.foreign(ctx) or \
            not ref.resource.startswith(resource_type + ":"):
        raise not_found(identifier)
    return ref.resource[len(resource_type) + 1:]


def get_instance(fleet: Fleet, ctx, identifier) -> dict:
    if not identifier:
        raise errors.missing("DBInstanceIdentifier")
    identifier = own_identifier(ctx, identifier, "db", errors.instance_not_found)
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
