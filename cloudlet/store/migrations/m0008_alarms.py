"""CloudWatch alarms and their history.

`cw_alarms` holds one row per alarm (metric or composite) per account and region: its
configuration as PutMetricAlarm/PutCompositeAlarm gave it (JSON), its state, its tags, and
`evaluated_at`, the service-clock tick the evaluator last judged it at, so a restart or a
clock jump resumes where evaluation stopped. `cw_alarm_history` is DescribeAlarmHistory's
log, kept 30 days."""


def migrate(conn):
    conn.execute(
        """CREATE TABLE cw_alarms (
            account            TEXT NOT NULL,
            region             TEXT NOT NULL,
            name               TEXT NOT NULL,
            alarm_type         TEXT NOT NULL,
            config             TEXT NOT NULL,
            tags               TEXT NOT NULL DEFAULT '[]',
            actions_enabled    INTEGER NOT NULL DEFAULT 1,
            state_value        TEXT NOT NULL,
            state_reason       TEXT NOT NULL,
            state_reason_data  TEXT,
            state_updated      REAL NOT NULL,
            state_transitioned REAL NOT NULL,
            config_updated     REAL NOT NULL,
            evaluated_at       REAL NOT NULL DEFAULT 0,
            PRIMARY KEY (account, region, name)
        )"""
    )
    conn.execute(
        """CREATE TABLE cw_alarm_history (
            seq        INTEGER PRIMARY KEY AUTOINCREMENT,
            account    TEXT NOT NULL,
            region     TEXT NOT NULL,
            name       TEXT NOT NULL,
            alarm_type TEXT NOT NULL,
            timestamp  REAL NOT NULL,
            item_type  TEXT NOT NULL,
            summary    TEXT NOT NULL,
            data       TEXT NOT NULL
        )"""
    )
    conn.execute("CREATE INDEX cw_alarm_history_name ON cw_alarm_history "
                 "(account, region, name, timestamp)")
    conn.execute("CREATE INDEX cw_alarm_history_time ON cw_alarm_history "
                 "(account, region, timestamp)")
