"""RDS instances, clusters, snapshots, parameter groups, subnet groups, event subscriptions,
events.

Each resource is one row keyed by account, region and identifier, its record a JSON
document in AWS's shape (plus Cloudlet's own fields, whose names start with `_`). The
clusters and event subscriptions tables were added here after this migration had shipped;
m0015 makes them in data directories migrated before that."""

TABLES = ("rds_instances", "rds_clusters", "rds_snapshots", "rds_parameter_groups",
          "rds_subnet_groups", "rds_event_subscriptions")


def migrate(conn):
    for table in TABLES:
        conn.execute(f"""CREATE TABLE IF NOT EXISTS {table} (
            account TEXT NOT NULL, region TEXT NOT NULL, id TEXT NOT NULL,
            data TEXT NOT NULL, PRIMARY KEY (account, region, id))""")
    conn.execute("""CREATE TABLE IF NOT EXISTS rds_events (
        seq INTEGER PRIMARY KEY AUTOINCREMENT, account TEXT NOT NULL, region TEXT NOT NULL,
        time REAL NOT NULL, source_type TEXT NOT NULL, source_id TEXT NOT NULL,
        data TEXT NOT NULL)""")
    conn.execute("CREATE INDEX IF NOT EXISTS rds_events_time ON rds_events "
                 "(account, region, time)")
