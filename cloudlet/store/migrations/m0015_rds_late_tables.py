"""RDS's clusters and event subscriptions, for data directories that applied m0010 before
those two tables were added to it.

m0010 was changed after it had shipped (first event subscriptions, then clusters): a data
directory already at version 10 or later never ran the new statements, so RDS's records
re-ran m0010 at every start to make up for it. This migration brings such a directory to the
same schema once; on a directory whose m0010 already made them it changes nothing."""

TABLES = ("rds_clusters", "rds_event_subscriptions")


def migrate(conn):
    for table in TABLES:
        conn.execute(f"""CREATE TABLE IF NOT EXISTS {table} (
            account TEXT NOT NULL, region TEXT NOT NULL, id TEXT NOT NULL,
            data TEXT NOT NULL, PRIMARY KEY (account, region, id))""")
