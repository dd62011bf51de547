"""S3: buckets, object versions, multipart uploads and their parts.

`s3_objects` holds every version (and delete marker) of every key; `seq` orders versions
(newest highest). Listing reads the partial index of current, visible versions, so a page
is a range scan on (bucket, key), never a scan of the bucket.

`ensure_indexes` holds the indexes added since; it is idempotent, and m0016 applies it to
data directories migrated before an index was added."""


def migrate(conn):
    conn.execute(
        """CREATE TABLE s3_buckets (
            name        TEXT PRIMARY KEY,
            account     TEXT NOT NULL,
            region      TEXT NOT NULL,
            created     REAL NOT NULL,
            versioning  TEXT NOT NULL DEFAULT '',
            object_lock INTEGER NOT NULL DEFAULT 0
        )"""
    )
    conn.execute(
        """CREATE TABLE s3_objects (
            seq           INTEGER PRIMARY KEY AUTOINCREMENT,
            bucket        TEXT NOT NULL,
            key           TEXT NOT NULL,
            version_id    TEXT NOT NULL,
            is_latest     INTEGER NOT NULL,
            delete_marker INTEGER NOT NULL DEFAULT 0,
            size          INTEGER NOT NULL DEFAULT 0,
            etag          TEXT NOT NULL DEFAULT '',
            last_modified REAL NOT NULL,
            blob          TEXT,
            storage_class TEXT NOT NULL DEFAULT 'STANDARD',
            owner         TEXT NOT NULL,
            meta          TEXT NOT NULL DEFAULT '{}'
        )"""
    )
    conn.execute(
        "CREATE INDEX s3_objects_current ON s3_objects (bucket, key) "
        "WHERE is_latest = 1 AND delete_marker = 0"
    )
    conn.execute("CREATE INDEX s3_objects_versions ON s3_objects (bucket, key, seq)")
    conn.execute(
        """CREATE TABLE s3_uploads (
            upload_id TEXT PRIMARY KEY,
            bucket    TEXT NOT NULL,
            key       TEXT NOT NULL,
            initiated REAL NOT NULL,
            owner     TEXT NOT NULL,
            meta      TEXT NOT NULL DEFAULT '{}'
        )"""
    )
    conn.execute("CREATE INDEX s3_uploads_key ON s3_uploads (bucket, key, initiated)")
    conn.execute(
        """CREATE TABLE s3_parts (
            upload_id     TEXT NOT NULL,
            part_number   INTEGER NOT NULL,
            etag          TEXT NOT NULL,
            size          INTEGER NOT NULL,
            blob          TEXT NOT NULL,
            last_modified REAL NOT NULL,
            checksums     TEXT NOT NULL DEFAULT '{}',
            PRIMARY KEY (upload_id, part_number)
        )"""
    )
    ensure_indexes(conn)


def ensure_indexes(conn):
    # Whether another version still references a blob (an overwrite frees the old one),
    # without scanning the table.
    conn.execute("CREATE INDEX IF NOT EXISTS s3_objects_blob ON s3_objects (blob) "
                 "WHERE blob IS NOT NULL")
