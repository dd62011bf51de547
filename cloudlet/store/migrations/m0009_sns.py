"""SNS: topics, subscriptions, and the deliveries SNS keeps a record of.

`sns_subscriptions.status` is 'pending' until ConfirmSubscription (http/https/email) or
'confirmed' at once (sqs, lambda, sms); a subscription pending for 3 days is deleted.
`sns_messages` holds each published message until every delivery of it has finished
(delivered, stored, or failed for good), so a restart delivers what a crash interrupted. `sns_deliveries` records what could not be handed
to a live endpoint: messages for SQS (stored until SQS exists) and failed deliveries."""


def migrate(conn):
    conn.execute(
        """CREATE TABLE sns_topics (
            arn        TEXT PRIMARY KEY,
            account    TEXT NOT NULL,
            region     TEXT NOT NULL,
            name       TEXT NOT NULL,
            attributes TEXT NOT NULL DEFAULT '{}',
            tags       TEXT NOT NULL DEFAULT '{}',
            deleted_subscriptions INTEGER NOT NULL DEFAULT 0,
            created    REAL NOT NULL
        )"""
    )
    conn.execute("CREATE INDEX sns_topics_account ON sns_topics (account, region, arn)")
    conn.execute(
        """CREATE TABLE sns_subscriptions (
            arn        TEXT PRIMARY KEY,
            topic_arn  TEXT NOT NULL,
            account    TEXT NOT NULL,
            region     TEXT NOT NULL,
            owner      TEXT NOT NULL,
            protocol   TEXT NOT NULL,
            endpoint   TEXT NOT NULL,
            status     TEXT NOT NULL,
            token      TEXT,
            attributes TEXT NOT NULL DEFAULT '{}',
            base_url   TEXT NOT NULL DEFAULT '',
            authenticated INTEGER NOT NULL DEFAULT 0,
            created    REAL NOT NULL
        )"""
    )
    conn.execute("CREATE INDEX sns_subscriptions_topic ON sns_subscriptions (topic_arn, arn)")
    conn.execute("CREATE INDEX sns_subscriptions_owner ON sns_subscriptions (owner, region, arn)")
    conn.execute("CREATE UNIQUE INDEX sns_subscriptions_token ON sns_subscriptions (token)")
    conn.execute("CREATE INDEX sns_subscriptions_pending ON sns_subscriptions (status, created)")
    conn.execute("CREATE UNIQUE INDEX sns_subscriptions_endpoint ON sns_subscriptions "
                 "(topic_arn, protocol, endpoint) WHERE status != 'unsubscribed'")
    conn.execute(
        """CREATE TABLE sns_messages (
            message_id TEXT PRIMARY KEY,
            topic_arn  TEXT NOT NULL,
            data       TEXT NOT NULL,
            created    REAL NOT NULL
        )"""
    )
    conn.execute(
        """CREATE TABLE sns_deliveries (
            id               INTEGER PRIMARY KEY AUTOINCREMENT,
            subscription_arn TEXT NOT NULL,
            topic_arn        TEXT NOT NULL,
            protocol         TEXT NOT NULL,
            endpoint         TEXT NOT NULL,
            message_id       TEXT NOT NULL,
            status           TEXT NOT NULL,
            attempts         INTEGER NOT NULL DEFAULT 0,
            body             TEXT NOT NULL,
            attributes       TEXT NOT NULL DEFAULT '{}',
            error            TEXT NOT NULL DEFAULT '',
            time             REAL NOT NULL
        )"""
    )
    conn.execute("CREATE INDEX sns_deliveries_endpoint ON sns_deliveries (endpoint, id)")
