"""Lifecycle rules that really run, and restores from the archive storage classes.

- `check_rules(rules)`: PutBucketLifecycleConfiguration's validation, in AWS's words.
- `Sweeper`: a thread that applies every bucket's rules by the service clock (transitions,
  expiration by days or date, noncurrent versions, expired delete markers, incomplete
  multipart uploads). AWS counts days from the object's creation, rounded up to the next
  midnight UTC; the sweeper does the same, so rules only change their verdict when the
  clock crosses a midnight, a rule changes, or objects arrive. It wakes every
  `CLOUDLET_S3_LIFECYCLE_INTERVAL` seconds (1 by default) and sweeps a bucket only then.
- `RestoreObject`: a GLACIER or DEEP_ARCHIVE version is unreadable (`check_readable`
  raises InvalidObjectState) until a restore completes, after AWS's retrieval times by the
  service clock; `restore_header` is HeadObject's `x-amz-restore`. The restore state lives
  in the version's meta under "restore": {"ready_at", "expires_at", "tier"}.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import logging
import math
import os
import threading

from cloudlet import clock
from cloudlet.services.base import RequestContext
from cloudlet.services.s3 import errors
from cloudlet.services.s3.storage import S3Storage, new_version_id

log = logging.getLogger("cloudlet.s3.lifecycle")

DAY = 86400.0
TRANSITION_CLASSES = ("STANDARD_IA", "ONEZONE_IA", "INTELLIGENT_TIERING", "GLACIER_IR",
                      "GLACIER", "DEEP_ARCHIVE")
# Deeper is cheaper; a rule only ever moves an object down this list.
DEPTH = {"STANDARD": 0, "REDUCED_REDUNDANCY": 0, "STANDARD_IA": 1, "INTELLIGENT_TIERING": 1,
         "ONEZONE_IA": 2, "GLACIER_IR": 3, "GLACIER": 4, "DEEP_ARCHIVE": 5}
ARCHIVED = ("GLACIER", "DEEP_ARCHIVE")
MIN_TRANSITION_DAYS = {"STANDARD_IA": 30, "ONEZONE_IA": 30}
SMALL_OBJECT = 128 * 1024
MIN_SIZE_SETTINGS = ("all_storage_classes_128K", "varies_by_storage_class")
# Retrieval times (hours) by storage class and tier, the upper ends of AWS's ranges.
RESTORE_HOURS = {
    ("GLACIER", "Expedited"): 5 / 60, ("GLACIER", "Standard"): 5, ("GLACIER", "Bulk"): 12,
    ("DEEP_ARCHIVE", "Standard"): 12, ("DEEP_ARCHIVE", "Bulk"): 48,
}


def next_midnight(epoch: float) -> float:
    """The epoch rounded up to 00:00 UTC (AWS's rule for lifecycle and restore times)."""
    return math.ceil(epoch / DAY) * DAY


def _timestamp(value) -> float:
    if isinstance(value, str):  # stored configurations hold dates as ISO 8601 text
        value = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    if isinstance(value, dt.datetime):
        return (value if value.tzinfo else value.replace(tzinfo=dt.UTC)).timestamp()
    return float(value)


# -- validation ---------------------------------------------------------------------------

def check_rules(rules: list[dict]) -> None:
    if not rules or len(rules) > 1000:
        raise errors.MalformedXML()
    ids = [r.get("ID") for r in rules if r.get("ID")]
    if len(ids) != len(set(ids)):
        raise errors.InvalidArgument("Rule ID must be unique. Found same ID for more than one "
                                     "rule", name="ID", value=next(i for i in ids if ids.count(i) > 1))
    for rule in rules:
        _check_rule(rule)


def _check_rule(rule: dict) -> None:
    if len(rule.get("ID") or "") > 255:
        raise errors.InvalidArgument("ID length should not exceed allowed limit of 255", name="ID",
                                     value=rule["ID"])
    if rule.get("Status") not in ("Enabled", "Disabled"):
        raise errors.MalformedXML()
    if "Filter" in rule and "Prefix" in rule:
        raise errors.MalformedXML()
    filt = rule.get("Filter") or {}
    if sum(k in filt for k in ("Prefix", "Tag", "ObjectSizeGreaterThan", "ObjectSizeLessThan",
                               "And")) > 1:
        raise errors.MalformedXML()
    tagged = "Tag" in filt or bool((filt.get("And") or {}).get("Tags"))
    actions = ("Expiration", "Transitions", "NoncurrentVersionExpiration",
               "NoncurrentVersionTransitions", "AbortIncompleteMultipartUpload")
    if not any(rule.get(a) for a in actions):
        raise errors.RuleWithoutAction()
    expiration = rule.get("Expiration")
    if expiration:
        given = [k for k in ("Days", "Date", "ExpiredObjectDeleteMarker") if k in expiration]
        if len(given) != 1:
            raise errors.MalformedXML()
        if "Days" in expiration and expiration["Days"] <= 0:
            raise errors.InvalidArgument("'Days' for Expiration action must be a positive "
                                         "integer", name="Days", value=expiration["Days"])
        if "Date" in expiration:
            _check_midnight(expiration["Date"])
        if "ExpiredObjectDeleteMarker" in expiration and tagged:
            raise errors.InvalidArgument("ExpiredObjectDeleteMarker cannot be specified with "
                                         "object tags", name="ExpiredObjectDeleteMarker")
    for transition in rule.get("Transitions") or []:
        _check_transition(transition, "Days", "Transition")
        if "Date" in transition:
            _check_midnight(transition["Date"])
    for transition in rule.get("NoncurrentVersionTransitions") or []:
        _check_transition(transition, "NoncurrentDays", "NoncurrentVersionTransition")
    noncurrent = rule.get("NoncurrentVersionExpiration")
    if noncurrent and noncurrent.get("NoncurrentDays", 1) <= 0:
        raise errors.InvalidArgument("'NoncurrentDays' for NoncurrentVersionExpiration action "
                                     "must be a positive integer", name="NoncurrentDays",
                                     value=noncurrent["NoncurrentDays"])
    abort = rule.get("AbortIncompleteMultipartUpload")
    if abort:
        if tagged:
            raise errors.InvalidArgument("Tag-based filter cannot be used with "
                                         "AbortIncompleteMultipartUpload action",
                                         name="AbortIncompleteMultipartUpload")
        if abort.get("DaysAfterInitiation", 0) <= 0:
            raise errors.InvalidArgument("'DaysAfterInitiation' for "
                                         "AbortIncompleteMultipartUpload action must be a "
                                         "positive integer", name="DaysAfterInitiation",
                                         value=abort.get("DaysAfterInitiation"))


def _check_transition(transition: dict, days_field: str, action: str) -> None:
    cls = transition.get("StorageClass")
    if cls not in TRANSITION_CLASSES:
        raise errors.MalformedXML()
    days = transition.get(days_field)
    if days is not None:
        if days < 0:
            raise errors.InvalidArgument(f"'{days_field}' in {action} action must be "
                                         "nonnegative", name=days_field, value=days)
        minimum = MIN_TRANSITION_DAYS.get(cls, 0)
        if days < minimum:
            raise errors.InvalidArgument(f"'{days_field}' in {action} action must be greater "
                                         f"than or equal to {minimum} for storageClass "
                                         f"'{cls}'", name=days_field, value=days)
    elif "Date" not in transition:
        raise errors.MalformedXML()


def _check_midnight(value) -> None:
    when = dt.datetime.fromtimestamp(_timestamp(value), dt.UTC)
    if (when.hour, when.minute, when.second, when.microsecond) != (0, 0, 0, 0):
        raise errors.InvalidArgument("'Date' must be at midnight GMT", name="Date",
                                     value=when.isoformat())


# -- filters ------------------------------------------------------------------------------

def _tags_of(record: dict) -> dict:
    tags = record.get("tags") or {}
    if isinstance(tags, list):
        return {t["Key"]: t["Value"] for t in tags}
    return dict(tags)


def applies_to(rule: dict, record: dict) -> bool:
    """Whether the rule's filter (or legacy Prefix) selects this version."""
    if rule.get("Status") != "Enabled":
        return False
    filt = rule.get("Filter")
    if filt is None:
        return record["key"].startswith(rule.get("Prefix") or "")
    conditions = filt.get("And") or filt
    if not record["key"].startswith(conditions.get("Prefix") or ""):
        return False
    tags = list(conditions.get("Tags") or []) + ([filt["Tag"]] if "Tag" in filt else [])
    if tags:
        have = _tags_of(record)
        if any(have.get(t["Key"]) != t["Value"] for t in tags):
            return False
    size = record.get("size") or 0
    if "ObjectSizeGreaterThan" in conditions and not size > conditions["ObjectSizeGreaterThan"]:
        return False
    return not ("ObjectSizeLessThan" in conditions and not size < conditions["ObjectSizeLessThan"])


def _size_filtered(rule: dict) -> bool:
    filt = rule.get("Filter") or {}
    conditions = filt.get("And") or filt
    return "ObjectSizeGreaterThan" in conditions or "ObjectSizeLessThan" in conditions


def _may_transition(rule: dict, record: dict, cls: str, min_size: str) -> bool:
    if _size_filtered(rule) or (record.get("size") or 0) >= SMALL_OBJECT:
        return True
    return min_size == "varies_by_storage_class" and cls in ARCHIVED


# -- the sweep ----------------------------------------------------------------------------

class Sweep:
    """One pass of one bucket's rules at one moment."""

    def __init__(self, storage: S3Storage, bucket: dict, config: dict, now: float,
                 announce=None):
        self.storage, self.bucket, self.now = storage, bucket, now
        self.announce = announce or (lambda kind, bucket, record: None)
        self.rules = config.get("Rules") or []
        self.min_size = config.get("TransitionDefaultMinimumObjectSize") or MIN_SIZE_SETTINGS[0]
        self.freed: list[str] = []
        self.changed = False  # a change may make more due (a delete marker left alone)

    def run(self) -> None:
        name = self.bucket["name"]
        versions: list[dict] = []
        for record in self.storage.iter_objects(name):
            if versions and record["key"] != versions[0]["key"]:
                self.key(versions)
                versions = []
            versions.append(record)
        if versions:
            self.key(versions)
        self.uploads()
        self.storage.free(self.freed)

    def due(self, since: float, days: int | None = None, date=None) -> bool:
        if date is not None:
            return self.now >= _timestamp(date)
        return days is not None and self.now >= next_midnight(since + days * DAY)

    def key(self, versions: list[dict]) -> None:
        """All versions of one key, oldest first."""
        current = versions[-1]
        noncurrent = versions[:-1]
        if current["delete_marker"]:
            if not noncurrent and self._expired_marker(current):
                self._delete(current)
                return
        elif self._expire_current(current):
            return
        else:
            self._transition(current, current["last_modified"], "Transitions", "Days")
        # Noncurrent versions, newest first: each became noncurrent when its successor came.
        for index in range(len(noncurrent) - 1, -1, -1):
            record, successor = versions[index], versions[index + 1]
            since = successor["last_modified"]
            rank = len(noncurrent) - 1 - index  # 0 for the newest noncurrent version
            if self._expire_noncurrent(record, since, rank):
                continue
            if not record["delete_marker"]:
                self._transition(record, since, "NoncurrentVersionTransitions", "NoncurrentDays")

    def _expired_marker(self, marker: dict) -> bool:
        for rule in self.rules:
            expiration = rule.get("Expiration") or {}
            if not applies_to(rule, marker):
                continue
            if expiration.get("ExpiredObjectDeleteMarker") or "Days" in expiration:
                return True
        return False

    def _expire_current(self, record: dict) -> bool:
        for rule in self.rules:
            expiration = rule.get("Expiration") or {}
            if not (expiration.get("Days") or expiration.get("Date")) or not applies_to(
                    rule, record):
                continue
            if self.due(record["last_modified"], expiration.get("Days"), expiration.get("Date")):
                self._expire(record)
                return True
        return False

    def _expire(self, record: dict) -> None:
        self.changed = True
        versioning = self.bucket["versioning"]
        if not versioning:
            self._delete(record)
            return
        marker = {"bucket": record["bucket"], "key": record["key"],
                  "version_id": new_version_id() if versioning == "Enabled" else "null",
                  "delete_marker": 1, "size": 0, "etag": "", "last_modified": self.now,
                  "blob": None, "storage_class": "STANDARD", "owner": record["owner"]}
        self.freed += self.storage.put_object(marker)
        self.announce("LifecycleExpiration:DeleteMarkerCreated", self.bucket, marker)

    def _delete(self, record: dict) -> None:
        self.changed = True
        _, freed = self.storage.delete_object_version(record["bucket"], record["key"],
                                                      record["version_id"])
        self.freed += freed
        self.announce("LifecycleExpiration:Delete", self.bucket, record)

    def _expire_noncurrent(self, record: dict, since: float, rank: int) -> bool:
        for rule in self.rules:
            expiration = rule.get("NoncurrentVersionExpiration") or {}
            if not expiration or not applies_to(rule, record):
                continue
            keep = expiration.get("NewerNoncurrentVersions")
            if keep is not None and rank < keep:
                continue
            if self.due(since, expiration.get("NoncurrentDays")):
                self._delete(record)
                return True
        return False

    def _transition(self, record: dict, since: float, action: str, days_field: str) -> None:
        target = None
        for rule in self.rules:
            if not applies_to(rule, record):
                continue
            for transition in rule.get(action) or []:
                cls = transition["StorageClass"]
                if not self.due(since, transition.get(days_field), transition.get("Date")):
                    continue
                if not _may_transition(rule, record, cls, self.min_size):
                    continue
                if target is None or DEPTH[cls] > DEPTH[target]:
                    target = cls
        if target and DEPTH[target] > DEPTH.get(record["storage_class"], 0):
            self.storage.set_storage_class(record["bucket"], record["key"], record["version_id"],
                                           target)
            self.announce("LifecycleTransition", self.bucket, {**record, "storage_class": target})

    def uploads(self) -> None:
        rules = [r for r in self.rules if r.get("AbortIncompleteMultipartUpload")]
        if not rules:
            return
        for upload in self.storage.uploads_of(self.bucket["name"]):
            probe = {"key": upload["key"], "size": 0}
            for rule in rules:
                days = rule["AbortIncompleteMultipartUpload"]["DaysAfterInitiation"]
                if applies_to(rule, probe) and self.due(upload["initiated"], days):
                    self.freed += self.storage.delete_upload(upload["upload_id"])
                    break


class Sweeper:
    """The thread that sweeps every bucket with a lifecycle configuration."""

    def __init__(self, storage: S3Storage, configs, interval: float | None = None,
                 announce=None):
        self.storage, self.configs, self.announce = storage, configs, announce
        self.interval = interval if interval is not None else float(
            os.environ.get("CLOUDLET_S3_LIFECYCLE_INTERVAL", "1"))
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._seen: dict[str, tuple] = {}

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="s3-lifecycle", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            for step in (self.refresh_restores, self.sweep):
                try:
                    step()
                except Exception:
                    log.exception("lifecycle: %s failed", step.__name__)

    def refresh_restores(self) -> None:
        Restores(self.storage).refresh(clock.timestamp(), self.announce)

    def sweep(self, force: bool = False) -> None:
        now = clock.timestamp()
        day = math.floor(now / DAY)
        latest = self.storage.db.query("SELECT MAX(seq) AS seq FROM s3_objects")[0]["seq"]
        uploads = self.storage.db.query("SELECT COUNT(*) AS n FROM s3_uploads")[0]["n"]
        for name, config in self.configs.buckets_with("lifecycle"):
            # Within a day, a write can only make something due under a rule with a date
            # already past or one that removes delete markers; otherwise the day decides.
            writes = (latest, uploads) if _write_sensitive(config) else None
            state = (day, writes, repr(config))
            if not force and self._seen.get(name) == state:
                continue
            bucket = self.storage.get_bucket(name)
            if bucket is None:
                continue
            sweep = Sweep(self.storage, bucket, config, now, self.announce)
            try:
                sweep.run()
            except Exception:
                log.exception("lifecycle: sweeping bucket %s failed", name)
            if not sweep.changed:
                self._seen[name] = state


def _write_sensitive(config: dict) -> bool:
    for rule in config.get("Rules") or []:
        expiration = rule.get("Expiration") or {}
        if "Date" in expiration or "ExpiredObjectDeleteMarker" in expiration:
            return True
        if "Days" in expiration:  # in a versioned bucket it also removes lone markers
            return True
        if any("Date" in t for t in rule.get("Transitions") or []):
            return True
    return False


# -- restores -----------------------------------------------------------------------------

def restore_state(restore: dict | None, now: float | None = None) -> str | None:
    """None (never restored, or the restored copy expired), "ongoing" or "restored"."""
    if not restore:
        return None
    now = clock.timestamp() if now is None else now
    if now < restore["ready_at"]:
        return "ongoing"
    return "restored" if now < restore["expires_at"] else None


def restore_header(restore: dict, now: float | None = None) -> str | None:
    """HeadObject's x-amz-restore."""
    state = restore_state(restore, now)
    if state == "ongoing":
        return 'ongoing-request="true"'
    if state == "restored":
        expiry = email.utils.formatdate(restore["expires_at"], usegmt=True)
        return f'ongoing-request="false", expiry-date="{expiry}"'
    return None


class Restores:
    """The `s3_restores` table. A version's meta "restore" carries the x-amz-restore text
    the core's HeadObject shows; `refresh` keeps it current as restores complete and their
    copies expire."""

    def __init__(self, storage: S3Storage):
        self.storage, self.db = storage, storage.db

    def get(self, bucket: str, key: str, version_id: str) -> dict | None:
        rows = self.db.query("SELECT * FROM s3_restores WHERE bucket = ? AND key = ? AND "
                             "version_id = ?", (bucket, key, version_id))
        return dict(rows[0]) if rows else None

    def put(self, record: dict, ready_at: float, expires_at: float, tier: str) -> None:
        with self.db.transaction() as conn:
            conn.execute("INSERT OR REPLACE INTO s3_restores VALUES (?, ?, ?, ?, ?, ?, 0)",
                         (record["bucket"], record["key"], record["version_id"], ready_at,
                          expires_at, tier))
        self._show(record["bucket"], record["key"], record["version_id"],
                   {"ready_at": ready_at, "expires_at": expires_at})

    def _show(self, bucket: str, key: str, version_id: str, restore: dict | None) -> None:
        header = restore_header(restore) if restore else None
        self.storage.update_meta(bucket, key, version_id, restore=header)

    def refresh(self, now: float, announce=None) -> None:
        """Show completed restores and drop expired copies, announcing each
        (ObjectRestore:Completed, ObjectRestore:Delete) through `announce(kind, bucket,
        record)`."""
        rows = self.db.query("SELECT * FROM s3_restores WHERE (announced = 0 AND ready_at <= ?) "
                             "OR expires_at <= ?", (now, now))
        for row in rows:
            expired = row["expires_at"] <= now
            self._show(row["bucket"], row["key"], row["version_id"],
                       None if expired else dict(row))
            bucket = self.storage.get_bucket(row["bucket"])
            record = self.storage.get_object(row["bucket"], row["key"], row["version_id"])
            if announce is not None and bucket is not None and record is not None:
                if not row["announced"]:
                    announce("ObjectRestore:Completed", bucket, record)
                if expired:
                    announce("ObjectRestore:Delete", bucket, record)
            with self.db.transaction() as conn:
                if expired:
                    conn.execute("DELETE FROM s3_restores WHERE bucket = ? AND key = ? AND "
                                 "version_id = ?", (row["bucket"], row["key"], row["version_id"]))
                else:
                    conn.execute("UPDATE s3_restores SET announced = 1 WHERE bucket = ? AND "
                                 "key = ? AND version_id = ?",
                                 (row["bucket"], row["key"], row["version_id"]))


class LifecycleOperations:
    storage: S3Storage

    # -- configuration ------------------------------------------------------------------
    def get_bucket_lifecycle_configuration(self, ctx: RequestContext, params: dict) -> dict:
        record = self.bucket(ctx, params["Bucket"], "s3:GetLifecycleConfiguration")
        config = self.config.get(record["name"], "lifecycle")
        if config is None:
            raise errors.NoSuchLifecycleConfiguration(record["name"])
        return config

    def put_bucket_lifecycle_configuration(self, ctx: RequestContext, params: dict) -> dict:
        record = self.bucket(ctx, params["Bucket"], "s3:PutLifecycleConfiguration")
        rules = (params.get("LifecycleConfiguration") or {}).get("Rules")
        if rules is None:
            raise errors.MalformedXML()
        check_rules(rules)
        min_size = params.get("TransitionDefaultMinimumObjectSize") or MIN_SIZE_SETTINGS[0]
        if min_size not in MIN_SIZE_SETTINGS:
            raise errors.InvalidArgument("Invalid TransitionDefaultMinimumObjectSize",
                                         name="x-amz-transition-default-minimum-object-size",
                                         value=min_size)
        for rule in rules:
            if "Filter" not in rule and "Prefix" not in rule:
                rule["Filter"] = {"Prefix": ""}
        config = {"Rules": rules, "TransitionDefaultMinimumObjectSize": min_size}
        self.config.put(record["name"], "lifecycle", config)
        return {"TransitionDefaultMinimumObjectSize": min_size}

    def delete_bucket_lifecycle(self, ctx: RequestContext, params: dict) -> dict:
        record = self.bucket(ctx, params["Bucket"], "s3:PutLifecycleConfiguration")
        self.config.delete(record["name"], "lifecycle")
        return {}

    # -- the sweeper's life: the provider's ----------------------------------------------
    def start(self) -> None:
        super().start()
        self.start_lifecycle()

    def stop(self) -> None:
        self.stop_lifecycle()
        super().stop()

    def start_lifecycle(self) -> None:
        self.__dict__["_sweeper"] = sweeper = Sweeper(
            self.storage, self.config, announce=getattr(self, "object_event", None))
        sweeper.start()

    def stop_lifecycle(self) -> None:
        sweeper = self.__dict__.pop("_sweeper", None)
        if sweeper is not None:
            sweeper.stop()

    # -- restores -----------------------------------------------------------------------
    def check_readable(self, record: dict) -> None:
        """The core's gate before reading a version's bytes: an archived version needs a
        completed restore (InvalidObjectState). HeadObject passes."""
        if record.get("storage_class") not in ARCHIVED or self._heading():
            return
        restore = Restores(self.storage).get(record["bucket"], record["key"],
                                             record["version_id"])
        if restore_state(restore) != "restored":
            raise errors.ArchivedObject(record["storage_class"])

    def _heading(self) -> bool:
        return getattr(self.__dict__.get("_reading"), "head", False)

    def head_object(self, ctx: RequestContext, params: dict) -> dict:
        # HeadObject reads no bytes, so an archived version answers it (with its
        # x-amz-restore); the core's read path asks check_readable for both.
        local = self.__dict__.setdefault("_reading", threading.local())
        local.head = True
        try:
            return super().head_object(ctx, params)
        finally:
            local.head = False

    def restore_object(self, ctx: RequestContext, params: dict) -> dict:
        self.bucket(ctx, params["Bucket"], "s3:RestoreObject", params["Key"])
        record = self.storage.get_object(params["Bucket"], params["Key"], params.get("VersionId"))
        if record is None or record["delete_marker"]:
            if params.get("VersionId"):
                raise errors.NoSuchVersion(params["Key"], params["VersionId"])
            raise errors.NoSuchKey(params["Key"])
        cls = record["storage_class"]
        if cls not in ARCHIVED:
            raise errors.RestoreNotAllowed(cls)
        request = params.get("RestoreRequest") or {}
        days = request.get("Days")
        if days is None or days < 1:
            raise errors.MalformedXML()
        tier = (request.get("GlacierJobParameters") or {}).get("Tier") or request.get(
            "Tier") or "Standard"
        hours = RESTORE_HOURS.get((cls, tier))
        if hours is None:
            raise errors.InvalidArgument(f"{tier} retrieval is not available for the "
                                         f"{cls} storage class", name="Tier", value=tier)
        restores = Restores(self.storage)
        now = clock.timestamp()
        current = restores.get(record["bucket"], record["key"], record["version_id"])
        state = restore_state(current, now)
        if state == "ongoing":
            raise errors.RestoreAlreadyInProgress()
        ready = current["ready_at"] if state == "restored" else now + hours * 3600
        restores.put(record, ready, next_midnight(max(now, ready) + days * DAY), tier)
        if state != "restored":
            ctx.extra["response_status"] = 202
            announce = getattr(self, "object_event", None)
            if announce is not None:
                announce("ObjectRestore:Post", self.storage.get_bucket(record["bucket"]), record)
        return {}
