"""The alarms' rows in SQLite (tables of m0008_alarms): alarms, state changes, history."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from cloudlet.store.db import Database

HISTORY_DAYS = 30
METRIC, COMPOSITE = "MetricAlarm", "CompositeAlarm"
BULKY = ("createdAlarm", "updatedAlarm", "originalUpdatedFields", "publishedMessage",
         "newState")


def alarm_arn(account: str, region: str, name: str) -> str:
    return f"arn:aws:cloudwatch:{region}:{account}:alarm:{name}"


@dataclass
class Alarm:
    account: str
    region: str
    name: str
    alarm_type: str
    config: dict
    tags: list[dict] = field(default_factory=list)
    actions_enabled: bool = True
    state_value: str = "INSUFFICIENT_DATA"
    state_reason: str = "Unchecked: Initial alarm creation"
    state_reason_data: str | None = None
    state_updated: float = 0.0
    state_transitioned: float = 0.0
    config_updated: float = 0.0
    evaluated_at: float = 0.0

    @property
    def arn(self) -> str:
        return alarm_arn(self.account, self.region, self.name)

    @property
    def composite(self) -> bool:
        return self.alarm_type == COMPOSITE

    @classmethod
    def from_row(cls, row) -> Alarm:
        return cls(row["account"], row["region"], row["name"], row["alarm_type"],
                   json.loads(row["config"]), json.loads(row["tags"]),
                   bool(row["actions_enabled"]), row["state_value"], row["state_reason"],
                   row["state_reason_data"], row["state_updated"], row["state_transitioned"],
                   row["config_updated"], row["evaluated_at"])


class AlarmStore:
    def __init__(self, db: Database):
        self.db = db

    # -- alarms -------------------------------------------------------------------------

    def get(self, account: str, region: str, name: str) -> Alarm | None:
        rows = self.db.query("SELECT * FROM cw_alarms WHERE account=? AND region=? AND name=?",
                             (account, region, name))
        return Alarm.from_row(rows[0]) if rows else None

    def list(self, account: str, region: str) -> list[Alarm]:
        rows = self.db.query("SELECT * FROM cw_alarms WHERE account=? AND region=? ORDER BY name",
                             (account, region))
        return [Alarm.from_row(r) for r in rows]

    def all(self) -> list[Alarm]:
        return [Alarm.from_row(r) for r in self.db.query("SELECT * FROM cw_alarms")]

    def save(self, alarm: Alarm) -> None:
        with self.db.transaction() as conn:
            conn.execute(
                "INSERT OR REPLACE INTO cw_alarms (account, region, name, alarm_type, config,"
                " tags, actions_enabled, state_value, state_reason, state_reason_data,"
                " state_updated, state_transitioned, config_updated, evaluated_at)"
                " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                (alarm.account, alarm.region, alarm.name, alarm.alarm_type,
                 json.dumps(alarm.config), json.dumps(alarm.tags), int(alarm.actions_enabled),
                 alarm.state_value, alarm.state_reason, alarm.state_reason_data,
                 alarm.state_updated, alarm.state_transitioned, alarm.config_updated,
                 alarm.evaluated_at))

    def delete(self, account: str, region: str, names: list[str]) -> None:
        with self.db.transaction() as conn:
            conn.executemany("DELETE FROM cw_alarms WHERE account=? AND region=? AND name=?",
                             [(account, region, n) for n in names])

    # -- history ------------------------------------------------------------------------

    def record(self, alarm: Alarm, timestamp: float, item_type: str, summary: str,
               data: dict | str) -> None:
        text = data if isinstance(data, str) else json.dumps(data, separators=(",", ":"))
        if len(text) > 4095 and isinstance(data, dict):  # HistoryData's limit: drop the bulk
            slim = {k: val for k, val in data.items() if k not in BULKY}
            text = json.dumps(slim, separators=(",", ":"))
        with self.db.transaction() as conn:
            conn.execute(
                "INSERT INTO cw_alarm_history (account, region, name, alarm_type, timestamp,"
                " item_type, summary, data) VALUES (?,?,?,?,?,?,?,?)",
                (alarm.account, alarm.region, alarm.name, alarm.alarm_type,
                 round(timestamp, 3), item_type, summary[:255], text[:4095]))

    def history(self, account: str, region: str, *, name: str | None, types: list[str],
                item_type: str | None, start: float | None, end: float | None,
                ascending: bool) -> list:
        sql = ("SELECT * FROM cw_alarm_history WHERE account=? AND region=? AND alarm_type IN"
               f" ({','.join('?' * len(types))})")
        args: list = [account, region, *types]
        if name is not None:
            sql += " AND name=?"
            args.append(name)
        if item_type is not None:
            sql += " AND item_type=?"
            args.append(item_type)
        if start is not None:
            sql += " AND timestamp>=?"
            args.append(start)
        if end is not None:
            sql += " AND timestamp<=?"
            args.append(end)
        order = "ASC" if ascending else "DESC"
        sql += f" ORDER BY timestamp {order}, seq {order}"
        return self.db.query(sql, tuple(args))

    def expire_history(self, now: float) -> None:
        with self.db.transaction() as conn:
            conn.execute("DELETE FROM cw_alarm_history WHERE timestamp<?",
                         (now - HISTORY_DAYS * 86400,))
