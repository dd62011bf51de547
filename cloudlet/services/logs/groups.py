"""Log groups and log streams: create, describe, delete, retention, KMS keys, tags.

Groups and streams are rows in SQLite (`logs_groups`, `logs_streams`); their events are in
the event store. A stream's first/last event times, last ingestion time and stored bytes
are kept up to date by PutLogEvents (and recomputed after a retention sweep).
"""

from __future__ import annotations

import base64
import functools
import json
import re

from cloudlet import clock
from cloudlet.services.accounts import Arn
from cloudlet.services.logs.errors import (
    InvalidParameter,
    ResourceNotFound,
    TooManyTags,
    group_exists,
    invalid_token,
    no_such_group,
    no_such_stream,
    stream_exists,
)

RETENTION_DAYS = (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827,
                  2192, 2557, 2922, 3288, 3653)
GROUP_NAME = re.compile(r"[\.\-_/#A-Za-z0-9]+")
STREAM_NAME = re.compile(r"[^:*]*")
MAX_TAGS = 50


def now_ms() -> int:
    return int(clock.timestamp() * 1000)


def group_arn(region: str, account: str, name: str) -> str:
    return f"arn:aws:logs:{region}:{account}:log-group:{name}"


def pattern_error(value: str, member: str, pattern: str) -> InvalidParameter:
    return InvalidParameter(
        f"1 validation error detected: Value '{value}' at '{member}' failed to satisfy "
        f"constraint: Member must satisfy regular expression pattern: {pattern}")


def check_group_name(name: str, member: str = "logGroupName") -> None:
    if not GROUP_NAME.fullmatch(name):
        raise pattern_error(name, member, GROUP_NAME.pattern)


def check_stream_name(name: str, member: str = "logStreamName") -> None:
    if not STREAM_NAME.fullmatch(name):
        raise pattern_error(name, member, STREAM_NAME.pattern)


def encode_token(value) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode()


def decode_token(token: str):
    try:
        return json.loads(base64.urlsafe_b64decode(token.encode()))
    except (ValueError, UnicodeError, RecursionError):
        raise invalid_token() from None


def name_token(token: str) -> str:
    """A page token that holds the last name of the previous page."""
    name = decode_token(token)
    if not isinstance(name, str):
        raise invalid_token()
    return name


class GroupOperations:
    # -- lookups, shared with the other operation families ----------------------------------

    def group_row(self, ctx, params: dict, required: bool = True):
        """The group a request names, by `logGroupName` or `logGroupIdentifier` (a name or
        an ARN, with or without the trailing `:*`)."""
        name = params.get("logGroupName")
        identifier = params.get("logGroupIdentifier")
        if name is not None and identifier is not None:
            raise InvalidParameter(
                "LogGroup name and LogGroup ARN are mutually exclusive parameters.")
        if name is None and identifier is None:
            if not required:
                return None
            raise InvalidParameter("Either logGroupName or logGroupIdentifier must be specified.")
        account, region = ctx.account_id, ctx.region
        if identifier is not None:
            account, region, name = self.group_key(ctx, identifier)
        row = self._group(account, region, name)
        if row is None:
            raise no_such_group()
        return row

    @staticmethod
    def group_key(ctx, identifier: str) -> tuple[str, str, str]:
        """(account, region, name) of a log group name or ARN (with or without the trailing
        `:*`). Another account's ARN (or another Region's) answers as a missing group does:
        Logs' resource policies admit AWS services only, never other accounts."""
        if not identifier.startswith("arn:"):
            return ctx.account_id, ctx.region, identifier
        ref = Arn.parse(identifier)
        if ref is None or ref.service != "logs" or not ref.resource.startswith("log-group:"):
            raise InvalidParameter(f"Invalid log group identifier: {identifier}")
        if ref.foreign(ctx):
            raise no_such_group()
        return ref.account, ref.region, ref.resource[len("log-group:"):].removesuffix(":*")

    def _own_key(self, ctx, identifier: str) -> tuple[str, str, str] | None:
        try:
            return self.group_key(ctx, identifier)
        except ResourceNotFound:
            return None

    def _group(self, account: str, region: str, name: str):
        rows = self.store.db.query(
            "SELECT * FROM logs_groups WHERE account = ? AND region = ? AND name = ?",
            (account, region, name))
        return rows[0] if rows else None

    def _stream(self, group, name: str):
        rows = self.store.db.query(
            "SELECT * FROM logs_streams WHERE account = ? AND region = ? AND log_group = ? "
            "AND name = ?", (group["account"], group["region"], group["name"], name))
        if not rows:
            raise no_such_stream()
        return rows[0]

    def log_group_record(self, ctx, name_or_arn: str) -> dict | None:
        """A group's name, ARN, retention and creation time (for Logs Insights); None for a
        missing group, or another account's."""
        try:
            row = self._group(*self.group_key(ctx, name_or_arn))
        except ResourceNotFound:
            return None
        if row is None:
            return None
        return {"name": row["name"], "arn": group_arn(row["region"], row["account"], row["name"]),
                "account": row["account"], "region": row["region"],
                "retention_days": row["retention_days"], "creation_time": row["creation_time"],
                "kms_key_id": row["kms_key_id"], "tags": json.loads(row["tags"])}

    # -- log groups ---------------------------------------------------------------------------

    def create_log_group(self, ctx, params):
        name = params["logGroupName"]
        check_group_name(name)
        tags = params.get("tags") or {}
        if len(tags) > MAX_TAGS:
            raise TooManyTags(f"A resource can have no more than {MAX_TAGS} tags.")
        with self.store.db.transaction() as conn:
            exists = conn.execute(
                "SELECT 1 FROM logs_groups WHERE account = ? AND region = ? AND name = ?",
                (ctx.account_id, ctx.region, name)).fetchone()
            if exists:
                raise group_exists()
            conn.execute(
                "INSERT INTO logs_groups (account, region, name, creation_time, kms_key_id, "
                "group_class, deletion_protection, tags) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (ctx.account_id, ctx.region, name, now_ms(), params.get("kmsKeyId"),
                 params.get("logGroupClass") or "STANDARD",
                 int(bool(params.get("deletionProtectionEnabled"))), json.dumps(tags)))
        return {}

    def delete_log_group(self, ctx, params):
        group = self.group_row(ctx, params)
        if group["deletion_protection"]:
            raise InvalidParameter(
                "Log group deletion is not allowed while deletion protection is enabled.")
        key = (group["account"], group["region"], group["name"])
        with self.store.db.transaction() as conn:
            for table in ("logs_streams", "logs_metric_filters", "logs_subscription_filters"):
                conn.execute(f"DELETE FROM {table} WHERE account = ? AND region = ? "
                             "AND log_group = ?", key)
            conn.execute("DELETE FROM logs_groups WHERE account = ? AND region = ? AND name = ?",
                         key)
        self.events.delete(*key)
        self.forget_filters(*key)
        return {}

    def describe_log_groups(self, ctx, params):
        prefix = params.get("logGroupNamePrefix")
        pattern = params.get("logGroupNamePattern")
        if prefix is not None and pattern is not None:
            raise InvalidParameter(
                "LogGroup name prefix and LogGroup name pattern are mutually exclusive "
                "parameters.")
        limit = params.get("limit") or 50
        sql = "SELECT * FROM logs_groups WHERE account = ? AND region = ?"
        args: list = [ctx.account_id, ctx.region]
        if prefix:
            sql += " AND substr(name, 1, ?) = ?"
            args += [len(prefix), prefix]
        if pattern:
            sql += " AND instr(name, ?) > 0"
            args.append(pattern)
        if params.get("logGroupClass"):
            sql += " AND group_class = ?"
            args.append(params["logGroupClass"])
        identifiers = params.get("logGroupIdentifiers")
        if identifiers:
            names = [key[2] for key in map(functools.partial(self._own_key, ctx), identifiers)
                     if key is not None]
            sql += f" AND name IN ({', '.join('?' * len(names))})"
            args += names
        if params.get("nextToken"):
            sql += " AND name > ?"
            args.append(name_token(params["nextToken"]))
        rows = self.store.db.query(sql + " ORDER BY name LIMIT ?", (*args, limit + 1))
        result = {"logGroups": [self._describe_group(row, brief=bool(pattern))
                                for row in rows[:limit]]}
        if len(rows) > limit:
            result["nextToken"] = encode_token(rows[limit - 1]["name"])
        return result

    def _describe_group(self, row, brief: bool = False) -> dict:
        arn = group_arn(row["region"], row["account"], row["name"])
        described = {"logGroupName": row["name"], "creationTime": row["creation_time"],
                     "arn": f"{arn}:*"}
        if brief:
            return described
        key = (row["account"], row["region"], row["name"])
        stored = self.store.db.query(
            "SELECT coalesce(sum(stored_bytes), 0) FROM logs_streams WHERE account = ? "
            "AND region = ? AND log_group = ?", key)[0][0]
        filters = self.store.db.query(
            "SELECT count(*) FROM logs_metric_filters WHERE account = ? AND region = ? "
            "AND log_group = ?", key)[0][0]
        described.update(metricFilterCount=filters, storedBytes=stored,
                         logGroupClass=row["group_class"], logGroupArn=arn,
                         deletionProtectionEnabled=bool(row["deletion_protection"]))
        if row["retention_days"] is not None:
            described["retentionInDays"] = row["retention_days"]
        if row["kms_key_id"]:
            described["kmsKeyId"] = row["kms_key_id"]
        return described

    def list_log_groups(self, ctx, params):
        pattern = params.get("logGroupNamePattern")
        try:
            regex = re.compile(pattern) if pattern else None
        except re.error:
            raise InvalidParameter(f"Invalid logGroupNamePattern: {pattern}") from None
        limit = params.get("limit") or 50
        sql = "SELECT * FROM logs_groups WHERE account = ? AND region = ?"
        args: list = [ctx.account_id, ctx.region]
        if params.get("logGroupClass"):
            sql += " AND group_class = ?"
            args.append(params["logGroupClass"])
        if params.get("nextToken"):
            sql += " AND name > ?"
            args.append(name_token(params["nextToken"]))
        rows = [r for r in self.store.db.query(sql + " ORDER BY name", args)
                if regex is None or regex.search(r["name"])]
        result = {"logGroups": [
            {"logGroupName": r["name"], "logGroupArn": group_arn(r["region"], r["account"],
                                                                 r["name"]),
             "logGroupClass": r["group_class"]} for r in rows[:limit]]}
        if len(rows) > limit:
            result["nextToken"] = encode_token(rows[limit - 1]["name"])
        return result

    def put_retention_policy(self, ctx, params):
        days = params["retentionInDays"]
        if days not in RETENTION_DAYS:
            raise InvalidParameter(
                f"1 validation error detected: Value '{days}' at 'retentionInDays' failed to "
                "satisfy constraint: Member must satisfy enum value set: "
                f"[{', '.join(str(d) for d in RETENTION_DAYS)}]")
        self._update_group(ctx, params, "retention_days = ?", days)
        return {}

    def delete_retention_policy(self, ctx, params):
        self._update_group(ctx, params, "retention_days = ?", None)
        return {}

    def associate_kms_key(self, ctx, params):
        if params.get("resourceIdentifier"):
            raise InvalidParameter("Only log groups can be associated with a KMS key here.")
        self._update_group(ctx, params, "kms_key_id = ?", params["kmsKeyId"])
        return {}

    def disassociate_kms_key(self, ctx, params):
        self._update_group(ctx, params, "kms_key_id = ?", None)
        return {}

    def put_log_group_deletion_protection(self, ctx, params):
        group = self.group_row(ctx, {"logGroupIdentifier": params["logGroupIdentifier"]})
        self._update_group(ctx, {"logGroupName": group["name"]}, "deletion_protection = ?",
                           int(bool(params["deletionProtectionEnabled"])))
        return {}

    def _update_group(self, ctx, params, assignment: str, value) -> None:
        group = self.group_row(ctx, params)
        with self.store.db.transaction() as conn:
            conn.execute(f"UPDATE logs_groups SET {assignment} WHERE account = ? AND region = ? "
                         "AND name = ?", (value, group["account"], group["region"], group["name"]))

    # -- tags ----------------------------------------------------------------------------------

    def _group_by_arn(self, ctx, arn: str):
        ref = Arn.parse(arn)
        if ref is None or ref.service != "logs":
            raise InvalidParameter(f"Invalid ARN: {arn}")
        if not ref.resource.startswith("log-group:"):
            raise ResourceNotFound(f"The specified resource does not exist: {arn}")
        row = None if ref.foreign(ctx) else self._group(
            ref.account, ref.region, ref.resource[len("log-group:"):].removesuffix(":*"))
        if row is None:
            raise ResourceNotFound("The specified log group does not exist.")
        return row

    def _set_tags(self, group, tags: dict) -> None:
        if len(tags) > MAX_TAGS:
            raise TooManyTags(f"A resource can have no more than {MAX_TAGS} tags.",
                              fields={"resourceName": group_arn(group["region"],
                                                                group["account"],
                                                                group["name"])})
        with self.store.db.transaction() as conn:
            conn.execute("UPDATE logs_groups SET tags = ? WHERE account = ? AND region = ? "
                         "AND name = ?", (json.dumps(tags), group["account"], group["region"],
                                          group["name"]))

    def tag_resource(self, ctx, params):
        group = self._group_by_arn(ctx, params["resourceArn"])
        self._set_tags(group, {**json.loads(group["tags"]), **params["tags"]})
        return {}

    def untag_resource(self, ctx, params):
        group = self._group_by_arn(ctx, params["resourceArn"])
        tags = json.loads(group["tags"])
        for key in params["tagKeys"]:
            tags.pop(key, None)
        self._set_tags(group, tags)
        return {}

    def list_tags_for_resource(self, ctx, params):
        group = self._group_by_arn(ctx, params["resourceArn"])
        return {"tags": json.loads(group["tags"])}

    def tag_log_group(self, ctx, params):
        group = self.group_row(ctx, {"logGroupName": params["logGroupName"]})
        self._set_tags(group, {**json.loads(group["tags"]), **params["tags"]})
        return {}

    def untag_log_group(self, ctx, params):
        group = self.group_row(ctx, {"logGroupName": params["logGroupName"]})
        tags = json.loads(group["tags"])
        for key in params["tags"]:
            tags.pop(key, None)
        self._set_tags(group, tags)
        return {}

    def list_tags_log_group(self, ctx, params):
        group = self.group_row(ctx, {"logGroupName": params["logGroupName"]})
        return {"tags": json.loads(group["tags"])}

    # -- log streams ---------------------------------------------------------------------------

    def create_log_stream(self, ctx, params):
        name = params["logStreamName"]
        check_stream_name(name)
        group = self.group_row(ctx, {"logGroupName": params["logGroupName"]})
        with self.store.db.transaction() as conn:
            key = (group["account"], group["region"], group["name"], name)
            if conn.execute("SELECT 1 FROM logs_streams WHERE account = ? AND region = ? "
                            "AND log_group = ? AND name = ?", key).fetchone():
                raise stream_exists()
            conn.execute("INSERT INTO logs_streams (account, region, log_group, name, "
                         "creation_time) VALUES (?, ?, ?, ?, ?)", (*key, now_ms()))
        return {}

    def delete_log_stream(self, ctx, params):
        group = self.group_row(ctx, {"logGroupName": params["logGroupName"]})
        stream = self._stream(group, params["logStreamName"])
        key = (group["account"], group["region"], group["name"], stream["name"])
        with self.store.db.transaction() as conn:
            conn.execute("DELETE FROM logs_streams WHERE account = ? AND region = ? "
                         "AND log_group = ? AND name = ?", key)
        self.events.delete(*key)
        return {}

    def describe_log_streams(self, ctx, params):
        group = self.group_row(ctx, params)
        order = params.get("orderBy") or "LogStreamName"
        prefix = params.get("logStreamNamePrefix")
        if order == "LastEventTime" and prefix is not None:
            raise InvalidParameter("Cannot order by LastEventTime with a logStreamNamePrefix.")
        descending = bool(params.get("descending"))
        limit = params.get("limit") or 50
        sql = "SELECT * FROM logs_streams WHERE account = ? AND region = ? AND log_group = ?"
        args: list = [group["account"], group["region"], group["name"]]
        if prefix:
            sql += " AND substr(name, 1, ?) = ?"
            args += [len(prefix), prefix]
        rows = self.store.db.query(sql, args)
        if order == "LastEventTime":
            # Streams without events sort first (ascending), like AWS's.
            rows.sort(key=lambda r: (r["last_event"] or 0, r["name"]), reverse=descending)
        else:
            rows.sort(key=lambda r: r["name"], reverse=descending)
        start = 0
        if params.get("nextToken"):
            start = decode_token(params["nextToken"])
            if type(start) is not int or start < 0:
                raise invalid_token()
        page = rows[start:start + limit]
        result = {"logStreams": [self._describe_stream(group, r) for r in page]}
        if start + limit < len(rows):
            result["nextToken"] = encode_token(start + limit)
        return result

    @staticmethod
    def _describe_stream(group, row) -> dict:
        arn = group_arn(group["region"], group["account"], group["name"])
        described = {"logStreamName": row["name"], "creationTime": row["creation_time"],
                     "arn": f"{arn}:log-stream:{row['name']}",
                     "storedBytes": row["stored_bytes"]}
        for member, column in (("firstEventTimestamp", "first_event"),
                               ("lastEventTimestamp", "last_event"),
                               ("lastIngestionTime", "last_ingestion")):
            if row[column] is not None:
                described[member] = row[column]
        return described
