"""RDS instances, snapshots, parameter groups, subnet groups, events, event subscriptions.

Each resource is one row keyed by account, region and identifier, its record a JSON
document in AWS's shape (plus Cloudlet's own fields, whose names start with `_`)."""


def migrate(conn):
    for table in ("rds_instances", "rds_snapshots", "rds_parameter_groups",
                  "rds_subnet_groups", "rds_event_subscriptions"):
        conn.execute(f"""CREATE TABLE {table} (
            account TEXT NOT NULL, region TEXT NOT NULL, id TEXT NOT NULL,
            data TEXT NOT NULL, PRIMARY KEY (account, region, id))""")
    conn.execute("""CREATE TABLE rds_events (
        seq INTEGER PRIMARY KEY AUTOINCREMENT, account TEXT NOT NULL, region TEXT NOT NULL,
        time REAL NOT NULL, source_type TEXT NOT NULL, source_id TEXT NOT NULL,
        data TEXT NOT NULL)""")
    conn.execute("CREATE INDEX rds_events_time ON rds_events (account, region, time)")
