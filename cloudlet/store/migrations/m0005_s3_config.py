"""S3 bucket configuration: one row per bucket and subresource (policy, lifecycle, cors,
tagging, ...), its value as JSON. A row whose value is JSON `null` records a configuration
that was deleted where AWS has a default (Block Public Access, Object Ownership): the
default applies while there is no row at all. Rows go with their bucket.

`s3_restores` holds the restores of archived (GLACIER, DEEP_ARCHIVE) versions: when the
restored copy is ready and when it expires, by the service clock."""


def migrate(conn):
    conn.execute(
        """CREATE TABLE s3_bucket_config (
            bucket   TEXT NOT NULL REFERENCES s3_buckets (name) ON DELETE CASCADE,
            name     TEXT NOT NULL,
            value    TEXT NOT NULL,
            changed  REAL NOT NULL,
            PRIMARY KEY (bucket, name)
        )"""
    )
    conn.execute("CREATE INDEX s3_bucket_config_name ON s3_bucket_config (name)")
    conn.execute(
        """CREATE TABLE s3_restores (
            bucket      TEXT NOT NULL REFERENCES s3_buckets (name) ON DELETE CASCADE,
            key         TEXT NOT NULL,
            version_id  TEXT NOT NULL,
            ready_at    REAL NOT NULL,
            expires_at  REAL NOT NULL,
            tier        TEXT NOT NULL,
            announced   INTEGER NOT NULL DEFAULT 0,
            PRIMARY KEY (bucket, key, version_id)
        )"""
    )
