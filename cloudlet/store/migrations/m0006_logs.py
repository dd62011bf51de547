"""CloudWatch Logs: groups, streams, filters (events live in DuckDB, see
cloudlet/services/logs/eventstore.py)."""


def migrate(conn):
    conn.execute(
        """CREATE TABLE logs_groups (
            account        TEXT NOT NULL,
            region         TEXT NOT NULL,
            name           TEXT NOT NULL,
            creation_time  INTEGER NOT NULL,
            retention_days INTEGER,
            kms_key_id     TEXT,
            group_class    TEXT NOT NULL DEFAULT 'STANDARD',
            deletion_protection INTEGER NOT NULL DEFAULT 0,
            tags           TEXT NOT NULL DEFAULT '{}',
            PRIMARY KEY (account, region, name)
        )"""
    )
    conn.execute(
        """CREATE TABLE logs_streams (
            account         TEXT NOT NULL,
            region          TEXT NOT NULL,
            log_group       TEXT NOT NULL,
            name            TEXT NOT NULL,
            creation_time   INTEGER NOT NULL,
            first_event     INTEGER,
            last_event      INTEGER,
            last_ingestion  INTEGER,
            stored_bytes    INTEGER NOT NULL DEFAULT 0,
            PRIMARY KEY (account, region, log_group, name)
        )"""
    )
    conn.execute(
        "CREATE INDEX logs_streams_last_event ON logs_streams (account, region, log_group, last_event)"
    )
    conn.execute(
        """CREATE TABLE logs_metric_filters (
            account        TEXT NOT NULL,
            region         TEXT NOT NULL,
            log_group      TEXT NOT NULL,
            name           TEXT NOT NULL,
            pattern        TEXT NOT NULL,
            transformations TEXT NOT NULL,
            creation_time  INTEGER NOT NULL,
            apply_on_transformed INTEGER NOT NULL DEFAULT 0,
            PRIMARY KEY (account, region, log_group, name)
        )"""
    )
    conn.execute(
        """CREATE TABLE logs_subscription_filters (
            account        TEXT NOT NULL,
            region         TEXT NOT NULL,
            log_group      TEXT NOT NULL,
            name           TEXT NOT NULL,
            pattern        TEXT NOT NULL,
            destination_arn TEXT NOT NULL,
            role_arn       TEXT,
            distribution   TEXT NOT NULL DEFAULT 'ByLogStream',
            creation_time  INTEGER NOT NULL,
            PRIMARY KEY (account, region, log_group, name)
        )"""
    )
