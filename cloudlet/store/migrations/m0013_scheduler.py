"""EventBridge Scheduler's schedules (m0013).

One row per schedule: its document as the API returns it, and `next_fire` (service clock,
epoch seconds; NULL when it will not fire again). Data directories made before m0013 have
the table already (the provider created it), hence IF NOT EXISTS."""


def migrate(conn):
    conn.execute(
        """CREATE TABLE IF NOT EXISTS scheduler_schedules (
            account TEXT NOT NULL, region TEXT NOT NULL, grp TEXT NOT NULL,
            name TEXT NOT NULL,
            doc TEXT NOT NULL,          -- JSON: the schedule as GetSchedule returns it
            next_fire REAL,             -- when it fires next; NULL: never again
            PRIMARY KEY (account, region, grp, name)
        )"""
    )
