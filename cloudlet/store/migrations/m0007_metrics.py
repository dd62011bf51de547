"""CloudWatch metrics: series and datapoints at each resolution.

    cw_metrics   one row per metric (account, region, namespace, name, dimension set);
                 last_put on the service clock drives ListMetrics' two weeks and RecentlyActive
    cw_points    one aggregated point per metric, resolution (1, 60, 300, 3600 s), period
                 start and unit: SampleCount, Sum, Minimum, Maximum and the value
                 distribution (for percentiles) of everything written into it
"""


def migrate(conn):
    conn.execute("""
        CREATE TABLE cw_metrics (
            id INTEGER PRIMARY KEY,
            account TEXT NOT NULL,
            region TEXT NOT NULL,
            namespace TEXT NOT NULL,
            name TEXT NOT NULL,
            dims_key TEXT NOT NULL,
            dimensions TEXT NOT NULL,
            last_put REAL NOT NULL,
            UNIQUE (account, region, namespace, name, dims_key)
        )""")
    conn.execute("""
        CREATE TABLE cw_points (
            metric_id INTEGER NOT NULL,
            resolution INTEGER NOT NULL,
            ts INTEGER NOT NULL,
            unit TEXT NOT NULL,
            sample_count REAL NOT NULL,
            sum REAL NOT NULL,
            min REAL NOT NULL,
            max REAL NOT NULL,
            exact INTEGER NOT NULL,
            dist BLOB,
            PRIMARY KEY (metric_id, ts, resolution, unit)
        ) WITHOUT ROWID""")
    conn.execute("CREATE INDEX cw_points_age ON cw_points (resolution, ts)")
