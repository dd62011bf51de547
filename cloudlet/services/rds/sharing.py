"""Sharing manual snapshots with other accounts: ModifyDBSnapshotAttribute (the `restore`
attribute: account ids, or `all` for a public snapshot) and DescribeDBSnapshotAttributes.

A snapshot shared with an account is the one resource of another account that RDS lets it
reach: by the snapshot's ARN, to describe it (DescribeDBSnapshots, with SnapshotType
`shared` or `public`, or IncludeShared/IncludePublic), copy it (CopyDBSnapshot) or restore
it (RestoreDBInstanceFromDBSnapshot). It stays its owner's: only the owner deletes, tags or
shares it. The share list is kept in the snapshot's record (`_restore`).
"""

from __future__ import annotations

import re

from cloudlet.services.rds import errors
from cloudlet.services.rds.backups import find_snapshot, shared_with
from cloudlet.services.rds.runtime import Fleet

MAX_SHARES = 20
_ACCOUNT = re.compile(r"\d{12}\Z")


def attributes_result(record: dict) -> dict:
    return {"DBSnapshotAttributesResult": {
        "DBSnapshotIdentifier": record["DBSnapshotIdentifier"],
        "DBSnapshotAttributes": [{"AttributeName": "restore",
                                  "AttributeValues": list(record.get("_restore") or [])}]}}


def shared_snapshots(fleet: Fleet, ctx, public: bool) -> list[dict]:
    """Other accounts' manual snapshots in this Region shared with the caller (`public`:
    those shared with everyone)."""
    found = []
    for record in fleet.records.list("snapshots"):
        region, owner = record["DBSnapshotArn"].split(":")[3:5]
        if owner == ctx.account_id or region != ctx.region:
            continue
        if ("all" in (record.get("_restore") or [])) if public \
                else shared_with(record, ctx.account_id):
            found.append(record)
    return found


class SharingOperations:
    fleet: Fleet

    def modify_db_snapshot_attribute(self, ctx, params):
        if params.get("AttributeName") != "restore":
            raise errors.invalid_value("Cloudlet shares snapshots by the restore attribute "
                                       "only: AttributeName must be restore.")
        record = find_snapshot(self.fleet, ctx, params.get("DBSnapshotIdentifier"))
        if record["SnapshotType"] != "manual":
            raise errors.snapshot_state("Only manual snapshots can be shared: copy the "
                                        "automated snapshot first.")
        add, remove = params.get("ValuesToAdd") or [], params.get("ValuesToRemove") or []
        for value in (*add, *remove):
            if value != "all" and not _ACCOUNT.match(value):
                raise errors.invalid_value(f"Invalid AWS account id or 'all': {value}")
        shares = [v for v in record.get("_restore") or [] if v not in remove]
        shares += [v for v in add if v not in shares]
        if len([v for v in shares if v != "all"]) > MAX_SHARES:
            raise errors.error("SharedSnapshotQuotaExceeded", "You have exceeded the maximum "
                               f"number of accounts ({MAX_SHARES}) you can share a manual DB "
                               "snapshot with.")
        updated = self.fleet.records.update(
            "snapshots", ctx.account_id, ctx.region, record["DBSnapshotIdentifier"],
            lambda r: r.update(_restore=shares))
        return attributes_result(updated or record)

    def describe_db_snapshot_attributes(self, ctx, params):
        record = find_snapshot(self.fleet, ctx, params.get("DBSnapshotIdentifier"))
        return attributes_result(record)
