"""EventBridge Scheduler (small): schedules in the "default" group that invoke a Lambda
function on the service clock. One family, in this file:

    provider.py      CreateSchedule, GetSchedule, UpdateSchedule, DeleteSchedule,
                     ListSchedules, and the ticker that fires them
    expressions.py   rate(), cron() and at(): parsing and the next firing time
    errors.py        Scheduler's errors
    (the table scheduler_schedules comes from migration m0013)

rate(), cron() and at() expressions (expressions.py), ScheduleExpressionTimezone,
StartDate/EndDate, State ENABLED/DISABLED, ActionAfterCompletion DELETE for one-time
schedules. A ticker thread fires each due schedule once: a Lambda target gets an
asynchronous invoke through the bus topic `lambda:invoke` (principal
scheduler.amazonaws.com, the target's RoleArn alongside), with the target's Input, or
AWS's "Scheduled Event" shape when there is none. Targets of other services are stored
but not run. Schedule groups other than "default", tags, KMS keys, flexible windows'
jitter and the target's retry policy and dead-letter queue are stored or refused, not run.
"""

from __future__ import annotations

import json
import logging
import threading
import uuid
from datetime import UTC, datetime

from cloudlet import clock
from cloudlet.services.base import Provider, RequestContext
from cloudlet.services.scheduler import expressions
from cloudlet.services.scheduler.errors import Conflict, NotFound, Validation

log = logging.getLogger("cloudlet.scheduler")

TICK = 0.25
PAGE = 100


def _epoch(value) -> float | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.timestamp()
    return float(value)


class SchedulerProvider(Provider):
    service = "scheduler"

    def __init__(self, store, bus=None):
        super().__init__(store, bus)
        self._closed = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        super().start()
        self._thread = threading.Thread(target=self._tick, name="scheduler", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._closed.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        super().stop()

    # -- the API ----------------------------------------------------------------------------
    def _group(self, params: dict) -> str:
        group = params.get("GroupName") or "default"
        if group != "default":
            raise NotFound(f"Schedule group {group} does not exist.")
        return group

    def _row(self, ctx: RequestContext, group: str, name: str):
        rows = self.store.db.query("SELECT doc FROM scheduler_schedules WHERE account=? AND "
                                   "region=? AND grp=? AND name=?",
                                   (ctx.account_id, ctx.region, group, name))
        if not rows:
            raise NotFound(f"Schedule {name} does not exist.")
        return json.loads(rows[0]["doc"])

    def _document(self, ctx: RequestContext, params: dict, group: str,
                  created: float | None = None) -> tuple[dict, float | None]:
        expression = params["ScheduleExpression"]
        try:
            expressions.parse(expression)
        except expressions.Invalid:
            raise Validation(f"Invalid Schedule Expression {expression}.") from None
        zone = params.get("ScheduleExpressionTimezone")
        if zone:
            try:
                from zoneinfo import ZoneInfo

                ZoneInfo(zone)
            except (ValueError, KeyError, OSError):
                raise Validation(f"Invalid timezone {zone}.") from None
        target = params["Target"]
        if not target.get("Arn") or not target.get("RoleArn"):
            raise Validation("Target Arn and RoleArn are required.")
        if target.get("Input") is not None:
            try:
                json.loads(target["Input"])
            except ValueError:
                if target["Arn"].split(":")[2:3] == ["lambda"]:
                    raise Validation("Invalid RequestJson provided. Reason Unrecognized "
                                     "token.") from None
        now = clock.timestamp()
        name = params["Name"]
        doc = {"Arn": f"arn:aws:scheduler:{ctx.region}:{ctx.account_id}:schedule/{group}/"
                      f"{name}",
               "Name": name, "GroupName": group, "ScheduleExpression": expression,
               "State": params.get("State") or "ENABLED", "Target": target,
               "FlexibleTimeWindow": params["FlexibleTimeWindow"],
               "CreationDate": created if created is not None else now,
               "LastModificationDate": now,
               "ActionAfterCompletion": params.get("ActionAfterCompletion") or "NONE"}
        for member in ("Description", "ScheduleExpressionTimezone", "KmsKeyArn"):
            if params.get(member) is not None:
                doc[member] = params[member]
        for member in ("StartDate", "EndDate"):
            if params.get(member) is not None:
                doc[member] = _epoch(params[member])
        return doc, self._next(doc, now)

    @staticmethod
    def _next(doc: dict, after: float) -> float | None:
        if doc["State"] != "ENABLED":
            return None
        start = doc.get("StartDate") or doc["CreationDate"]
        found = expressions.next_fire(
            doc["ScheduleExpression"], datetime.fromtimestamp(after, UTC),
            datetime.fromtimestamp(start, UTC), doc.get("ScheduleExpressionTimezone"))
        if found is None or (doc.get("EndDate") and found.timestamp() > doc["EndDate"]):
            return None
        return found.timestamp()

    def create_schedule(self, ctx: RequestContext, params: dict) -> dict:
        group = self._group(params)
        doc, next_fire = self._document(ctx, params, group)
        with self.store.db.transaction() as conn:
            if conn.execute("SELECT 1 FROM scheduler_schedules WHERE account=? AND region=? "
                            "AND grp=? AND name=?",
                            (ctx.account_id, ctx.region, group, doc["Name"])).fetchone():
                raise Conflict(f"Schedule {doc['Name']} already exists.")
            conn.execute("INSERT INTO scheduler_schedules VALUES (?,?,?,?,?,?)",
                         (ctx.account_id, ctx.region, group, doc["Name"], json.dumps(doc),
                          next_fire))
        return {"ScheduleArn": doc["Arn"]}

    def update_schedule(self, ctx: RequestContext, params: dict) -> dict:
        group = self._group(params)
        old = self._row(ctx, group, params["Name"])
        doc, next_fire = self._document(ctx, params, group, created=old["CreationDate"])
        with self.store.db.transaction() as conn:
            conn.execute("UPDATE scheduler_schedules SET doc=?, next_fire=? WHERE account=? "
                         "AND region=? AND grp=? AND name=?",
                         (json.dumps(doc), next_fire, ctx.account_id, ctx.region, group,
                          doc["Name"]))
        return {"ScheduleArn": doc["Arn"]}

    def get_schedule(self, ctx: RequestContext, params: dict) -> dict:
        return self._row(ctx, self._group(params), params["Name"])

    def delete_schedule(self, ctx: RequestContext, params: dict) -> dict:
        group = self._group(params)
        self._row(ctx, group, params["Name"])
        with self.store.db.transaction() as conn:
            conn.execute("DELETE FROM scheduler_schedules WHERE account=? AND region=? AND "
                         "grp=? AND name=?", (ctx.account_id, ctx.region, group,
                                              params["Name"]))
        return {}

    def list_schedules(self, ctx: RequestContext, params: dict) -> dict:
        if params.get("GroupName"):
            self._group(params)
        rows = self.store.db.query("SELECT doc FROM scheduler_schedules WHERE account=? AND "
                                   "region=? ORDER BY grp, name", (ctx.account_id, ctx.region))
        docs = [json.loads(r["doc"]) for r in rows]
        docs = [d for d in docs if d["Name"].startswith(params.get("NamePrefix") or "")
                and (not params.get("State") or d["State"] == params["State"])]
        start = int(params["NextToken"]) if str(params.get("NextToken") or "").isdigit() else 0
        size = params.get("MaxResults") or PAGE
        page = docs[start:start + size]
        out = {"Schedules": [{k: d[k] for k in ("Arn", "Name", "GroupName", "State",
                                                "CreationDate", "LastModificationDate")}
                             | {"Target": {"Arn": d["Target"]["Arn"]}} for d in page]}
        if start + size < len(docs):
            out["NextToken"] = str(start + size)
        return out

    # -- firing -----------------------------------------------------------------------------
    def _tick(self) -> None:
        while not self._closed.wait(TICK):
            try:
                self._fire_due()
            except Exception:
                log.exception("scheduler tick failed")

    def _fire_due(self) -> None:
        now = clock.timestamp()
        rows = self.store.db.query("SELECT * FROM scheduler_schedules WHERE next_fire IS NOT "
                                   "NULL AND next_fire <= ?", (now,))
        for row in rows:
            doc = json.loads(row["doc"])
            self._fire(row["account"], row["region"], doc, row["next_fire"])
            following = self._next(doc, max(now, row["next_fire"]))
            with self.store.db.transaction() as conn:
                if following is None and doc["ActionAfterCompletion"] == "DELETE":
                    conn.execute("DELETE FROM scheduler_schedules WHERE account=? AND "
                                 "region=? AND grp=? AND name=?",
                                 (row["account"], row["region"], row["grp"], row["name"]))
                else:
                    conn.execute("UPDATE scheduler_schedules SET next_fire=? WHERE account=? "
                                 "AND region=? AND grp=? AND name=?",
                                 (following, row["account"], row["region"], row["grp"],
                                  row["name"]))

    def _fire(self, account: str, region: str, doc: dict, when: float) -> None:
        target = doc["Target"]
        arn = target["Arn"]
        if arn.split(":")[2:3] != ["lambda"]:
            log.info("schedule %s: target %s is not run by Cloudlet", doc["Name"], arn)
            return
        payload = target.get("Input")
        if payload is None:
            payload = json.dumps({
                "version": "0", "id": str(uuid.uuid4()), "detail-type": "Scheduled Event",
                "source": "aws.scheduler", "account": account,
                "time": datetime.fromtimestamp(when, UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
                "region": region, "resources": [doc["Arn"]], "detail": "{}"})
        self.bus.publish("lambda:invoke", {
            "account": account, "region": region, "function_arn": arn, "payload": payload,
            "source_arn": doc["Arn"], "source_account": account,
            "principal": "scheduler.amazonaws.com", "role_arn": target["RoleArn"]})
