"""SNS's rows in SQLite: topics, subscriptions, recorded deliveries."""

from __future__ import annotations

import json
import re

from cloudlet import clock
from cloudlet.store import Store

TOPIC_ARN = re.compile(r"arn:aws:sns:([a-z0-9-]+):(\d{12}):([A-Za-z0-9_-]{1,256}(?:\.fifo)?)\Z")


def topic_arn(region: str, account: str, name: str) -> str:
    return f"arn:aws:sns:{region}:{account}:{name}"


def parse_topic_arn(arn: str) -> tuple[str, str, str] | None:
    """(region, account, name) of a topic ARN, None if it is not one."""
    found = TOPIC_ARN.match(arn or "")
    return found.groups() if found else None


def _topic(row) -> dict | None:
    if row is None:
        return None
    topic = dict(row)
    topic["attributes"] = json.loads(topic["attributes"])
    topic["tags"] = json.loads(topic["tags"])
    return topic


def _subscription(row) -> dict | None:
    if row is None:
        return None
    sub = dict(row)
    sub["attributes"] = json.loads(sub["attributes"])
    return sub


PENDING_LIFETIME = 3 * 24 * 3600.0  # an unconfirmed subscription (and its token) expires
SWEEP_INTERVAL = 60.0


class SnsStore:
    def __init__(self, store: Store):
        self.db = store.db
        self._swept = 0.0

    def sweep(self) -> None:
        """Delete subscriptions left unconfirmed for PENDING_LIFETIME (service clock); run
        at most once a minute, from the operations that read subscriptions."""
        now = clock.timestamp()
        if now - self._swept < SWEEP_INTERVAL:
            return
        self._swept = now
        with self.db.transaction() as conn:
            conn.execute("DELETE FROM sns_subscriptions WHERE status IN ('pending', "
                         "'unsubscribed') AND created<?", (now - PENDING_LIFETIME,))

    # -- topics ---------------------------------------------------------------------------
    def topic(self, arn: str) -> dict | None:
        return _topic(next(iter(self.db.query("SELECT * FROM sns_topics WHERE arn=?", (arn,))), None))

    def topics(self, account: str, region: str, after: str, limit: int) -> list[dict]:
        rows = self.db.query("SELECT arn FROM sns_topics WHERE account=? AND region=? AND arn>? "
                             "ORDER BY arn LIMIT ?", (account, region, after, limit))
        return [dict(r) for r in rows]

    def put_topic(self, topic: dict) -> None:
        with self.db.transaction() as conn:
            conn.execute(
                "INSERT INTO sns_topics (arn, account, region, name, attributes, tags, created) "
                "VALUES (?,?,?,?,?,?,?) ON CONFLICT(arn) DO UPDATE SET "
                "attributes=excluded.attributes, tags=excluded.tags",
                (topic["arn"], topic["account"], topic["region"], topic["name"],
                 json.dumps(topic["attributes"]), json.dumps(topic["tags"]), clock.timestamp()))

    def update_topic(self, arn: str, *, attributes: dict | None = None,
                     tags: dict | None = None) -> None:
        with self.db.transaction() as conn:
            if attributes is not None:
                conn.execute("UPDATE sns_topics SET attributes=? WHERE arn=?",
                             (json.dumps(attributes), arn))
            if tags is not None:
                conn.execute("UPDATE sns_topics SET tags=? WHERE arn=?", (json.dumps(tags), arn))

    def delete_topic(self, arn: str) -> None:
        with self.db.transaction() as conn:
            conn.execute("DELETE FROM sns_subscriptions WHERE topic_arn=?", (arn,))
            conn.execute("DELETE FROM sns_topics WHERE arn=?", (arn,))

    def counts(self, arn: str) -> dict[str, int]:
        self.sweep()
        rows = self.db.query("SELECT status, COUNT(*) AS n FROM sns_subscriptions "
                             "WHERE topic_arn=? GROUP BY status", (arn,))
        found = {r["status"]: r["n"] for r in rows}
        deleted = self.db.query("SELECT deleted_subscriptions FROM sns_topics WHERE arn=?", (arn,))
        return {"confirmed": found.get("confirmed", 0), "pending": found.get("pending", 0),
                "deleted": deleted[0][0] if deleted else 0}

    # -- subscriptions --------------------------------------------------------------------
    def subscription(self, arn: str) -> dict | None:
        rows = self.db.query("SELECT * FROM sns_subscriptions WHERE arn=? "
                             "AND status!='unsubscribed'", (arn,))
        return _subscription(rows[0] if rows else None)

    def subscription_by_token(self, token: str) -> dict | None:
        self.sweep()
        rows = self.db.query("SELECT * FROM sns_subscriptions WHERE token=?", (token,))
        return _subscription(rows[0] if rows else None)

    def find_subscription(self, topic_arn: str, protocol: str, endpoint: str) -> dict | None:
        rows = self.db.query("SELECT * FROM sns_subscriptions WHERE topic_arn=? AND protocol=? "
                             "AND endpoint=? AND status!='unsubscribed'",
                             (topic_arn, protocol, endpoint))
        return _subscription(rows[0] if rows else None)

    def subscriptions(self, *, topic_arn: str | None = None, account: str | None = None,
                      region: str | None = None, after: str = "", limit: int = 100,
                      confirmed_only: bool = False) -> list[dict]:
        self.sweep()
        where, args = ["arn>?", "status!='unsubscribed'"], [after]
        if topic_arn is not None:
            where.append("topic_arn=?")
            args.append(topic_arn)
        if account is not None:  # the subscriptions this account owns, in this region
            where += ["owner=?", "region=?"]
            args += [account, region]
        if confirmed_only:
            where.append("status='confirmed'")
        rows = self.db.query(f"SELECT * FROM sns_subscriptions WHERE {' AND '.join(where)} "
                             "ORDER BY arn LIMIT ?", (*args, limit))
        return [_subscription(r) for r in rows]

    def put_subscription(self, sub: dict) -> None:
        with self.db.transaction() as conn:
            conn.execute(
                "INSERT INTO sns_subscriptions (arn, topic_arn, account, region, owner, protocol, "
                "endpoint, status, token, attributes, base_url, created) "
                "VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                (sub["arn"], sub["topic_arn"], sub["account"], sub["region"], sub["owner"],
                 sub["protocol"], sub["endpoint"], sub["status"], sub["token"],
                 json.dumps(sub["attributes"]), sub["base_url"], clock.timestamp()))

    def update_subscription(self, arn: str, **fields) -> None:
        if "attributes" in fields:
            fields["attributes"] = json.dumps(fields["attributes"])
        sets = ", ".join(f"{name}=?" for name in fields)
        with self.db.transaction() as conn:
            conn.execute(f"UPDATE sns_subscriptions SET {sets} WHERE arn=?",
                         (*fields.values(), arn))

    def delete_subscription(self, arn: str, restore_token: str | None = None) -> None:
        """Unsubscribe. With `restore_token` the row stays, 'unsubscribed', for
        PENDING_LIFETIME: the UnsubscribeConfirmation's SubscribeURL restores it."""
        with self.db.transaction() as conn:
            rows = conn.execute("SELECT topic_arn FROM sns_subscriptions WHERE arn=?",
                                (arn,)).fetchall()
            if restore_token is None:
                conn.execute("DELETE FROM sns_subscriptions WHERE arn=?", (arn,))
            else:
                conn.execute("UPDATE sns_subscriptions SET status='unsubscribed', token=?, "
                             "created=? WHERE arn=?", (restore_token, clock.timestamp(), arn))
            if rows:
                conn.execute("UPDATE sns_topics SET deleted_subscriptions=deleted_subscriptions+1 "
                             "WHERE arn=?", (rows[0][0],))

    # -- messages not yet fully delivered ------------------------------------------------
    def keep_message(self, message_id: str, topic_arn: str, data: dict) -> None:
        with self.db.transaction() as conn:
            conn.execute("INSERT OR IGNORE INTO sns_messages (message_id, topic_arn, data, "
                         "created) VALUES (?,?,?,?)",
                         (message_id, topic_arn, json.dumps(data), clock.timestamp()))

    def forget_message(self, message_id: str) -> None:
        with self.db.transaction() as conn:
            conn.execute("DELETE FROM sns_messages WHERE message_id=?", (message_id,))

    def kept_messages(self) -> list[dict]:
        rows = self.db.query("SELECT data FROM sns_messages ORDER BY created")
        return [json.loads(r["data"]) for r in rows]

    # -- deliveries -----------------------------------------------------------------------
    def record_delivery(self, sub: dict, message_id: str, status: str, body: str,
                        attributes: dict | None = None, attempts: int = 0, error: str = "") -> None:
        with self.db.transaction() as conn:
            conn.execute(
                "INSERT INTO sns_deliveries (subscription_arn, topic_arn, protocol, endpoint, "
                "message_id, status, attempts, body, attributes, error, time) "
                "VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                (sub["arn"], sub["topic_arn"], sub["protocol"], sub["endpoint"], message_id,
                 status, attempts, body, json.dumps(attributes or {}), error, clock.timestamp()))

    def deliveries(self, account: str, endpoint: str | None = None,
                   limit: int = 1000) -> list[dict]:
        """An account's recorded deliveries: of its topics, or of its subscriptions to
        another account's topic."""
        where = ("(topic_arn LIKE ? OR subscription_arn IN "
                 "(SELECT arn FROM sns_subscriptions WHERE owner=?))")
        args: list = [f"arn:%:sns:%:{account}:%", account]
        if endpoint is not None:
            where += " AND endpoint=?"
            args.append(endpoint)
        rows = self.db.query(f"SELECT * FROM sns_deliveries WHERE {where} ORDER BY id LIMIT ?",
                             (*args, limit))
        return [dict(r) for r in rows]
