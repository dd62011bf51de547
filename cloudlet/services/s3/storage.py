"""S3's data access: buckets, object versions and multipart uploads in SQLite, bytes in
blob files. Nothing here knows HTTP; the operation families, the lifecycle sweeper and
`reads.py` (what other services read of S3) read and write through this module.

Records are plain dicts. An object version:

    {"bucket", "key", "version_id" ("null" when unversioned), "is_latest",
     "delete_marker", "size", "etag" (quoted), "last_modified" (epoch seconds), "blob",
     "storage_class", "owner" (account), "seq", **meta}

where `meta` holds the Content-* headers, "metadata" (user metadata), "checksums"
({algorithm: base64}), "checksum_type", "parts" (part sizes of a multipart object),
"tags", "website_redirect", ...
"""

from __future__ import annotations

import json
import os
import queue
import secrets
import threading
from collections.abc import Iterator

from cloudlet.store import Store

_COLUMNS = ("bucket", "key", "version_id", "is_latest", "delete_marker", "size", "etag",
            "last_modified", "blob", "storage_class", "owner")


def new_version_id() -> str:
    return secrets.token_urlsafe(24)


def _version(row) -> dict:
    record = json.loads(row["meta"])
    record.update({name: row[name] for name in _COLUMNS})
    record["seq"] = row["seq"]
    record["is_latest"] = bool(row["is_latest"])
    record["delete_marker"] = bool(row["delete_marker"])
    return record


def _split(record: dict) -> tuple[list, str]:
    meta = {k: v for k, v in record.items() if k not in _COLUMNS and k != "seq"}
    return [record.get(name) for name in _COLUMNS], json.dumps(meta)


class S3Storage:
    def __init__(self, store: Store):
        self.store = store
        self.db = store.db
        self.blobs = store.blobs
        self._freed: queue.Queue[str] = queue.Queue()
        self._reaper: threading.Thread | None = None
        self._reaper_lock = threading.Lock()
        self._sweeper: threading.Thread | None = None

    # -- buckets ------------------------------------------------------------------------
    def get_bucket(self, name: str) -> dict | None:
        rows = self.db.query("SELECT * FROM s3_buckets WHERE name = ?", (name,))
        return dict(rows[0]) if rows else None

    def create_bucket(self, name: str, account: str, region: str, created: float,
                      object_lock: bool = False) -> dict | None:
        """Create the bucket; return the existing record instead if the name is taken."""
        with self.db.transaction() as conn:
            row = conn.execute("SELECT * FROM s3_buckets WHERE name = ?", (name,)).fetchone()
            if row is not None:
                return dict(row)
            conn.execute(
                "INSERT INTO s3_buckets (name, account, region, created, versioning, object_lock)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (name, account, region, created, "Enabled" if object_lock else "", int(object_lock)),
            )
        return None

    def delete_bucket(self, name: str) -> bool:
        """Delete an empty bucket; False when it still holds versions or uploads."""
        with self.db.transaction() as conn:
            if conn.execute("SELECT 1 FROM s3_objects WHERE bucket = ? LIMIT 1", (name,)).fetchone():
                return False
            if conn.execute("SELECT 1 FROM s3_uploads WHERE bucket = ? LIMIT 1", (name,)).fetchone():
                return False
            conn.execute("DELETE FROM s3_buckets WHERE name = ?", (name,))
        return True

    def list_buckets(self, account: str, prefix: str = "", after: str = "",
                     region: str | None = None, limit: int = 10000) -> list[dict]:
        sql = "SELECT * FROM s3_buckets WHERE account = ? AND name > ? AND name >= ?"
        args: list = [account, after, prefix]
        if prefix:
            sql += " AND name < ?"
            args.append(successor(prefix))
        if region:
            sql += " AND region = ?"
            args.append(region)
        sql += " ORDER BY name LIMIT ?"
        args.append(limit)
        return [dict(r) for r in self.db.query(sql, tuple(args))]

    def set_object_lock(self, name: str) -> None:
        with self.db.transaction() as conn:
            conn.execute("UPDATE s3_buckets SET object_lock = 1 WHERE name = ?", (name,))

    def set_versioning(self, name: str, status: str) -> None:
        with self.db.transaction() as conn:
            conn.execute("UPDATE s3_buckets SET versioning = ? WHERE name = ?", (status, name))

    # -- object versions ----------------------------------------------------------------
    def get_object(self, bucket: str, key: str, version_id: str | None = None) -> dict | None:
        """The latest version (possibly a delete marker), or the named version."""
        if version_id is None:
            rows = self.db.query(
                "SELECT * FROM s3_objects WHERE bucket = ? AND key = ? AND is_latest = 1",
                (bucket, key))
        else:
            rows = self.db.query(
                "SELECT * FROM s3_objects WHERE bucket = ? AND key = ? AND version_id = ?",
                (bucket, key, version_id))
        return _version(rows[0]) if rows else None

    def put_object(self, record: dict, check=None) -> list[str]:
        """Make `record` the latest version of its key. A "null" version replaces the key's
        previous null version. `check(conn, current)` runs inside the transaction (for
        conditional writes) and may raise. Returns blob ids no longer referenced."""
        with self.db.transaction() as conn:
            if check is not None:
                row = conn.execute(
                    "SELECT * FROM s3_objects WHERE bucket = ? AND key = ? AND is_latest = 1",
                    (record["bucket"], record["key"])).fetchone()
                check(conn, _version(row) if row else None)
            return self._put(conn, record)

    def put_objects(self, records: list[dict]) -> list[str]:
        """`put_object` for many records in one transaction (bulk loads: the benchmark
        fills a bucket of a million keys this way)."""
        freed: list[str] = []
        with self.db.transaction() as conn:
            for record in records:
                freed += self._put(conn, record)
        return freed

    def _put(self, conn, record: dict) -> list[str]:
        bucket, key = record["bucket"], record["key"]
        values, meta = _split({**record, "is_latest": 1})
        freed = self._drop_null(conn, bucket, key) if record["version_id"] == "null" else []
        conn.execute("UPDATE s3_objects SET is_latest = 0 WHERE bucket = ? AND key = ? "
                     "AND is_latest = 1", (bucket, key))
        cursor = conn.execute(
            f"INSERT INTO s3_objects ({', '.join(_COLUMNS)}, meta) "
            f"VALUES ({', '.join('?' * len(_COLUMNS))}, ?)", (*values, meta))
        record["seq"] = cursor.lastrowid
        return freed

    def _drop_null(self, conn, bucket: str, key: str) -> list[str]:
        row = conn.execute("SELECT blob FROM s3_objects WHERE bucket = ? AND key = ? AND "
                           "version_id = 'null'", (bucket, key)).fetchone()
        if row is None:
            return []
        conn.execute("DELETE FROM s3_objects WHERE bucket = ? AND key = ? AND version_id = 'null'",
                     (bucket, key))
        return [row["blob"]] if row["blob"] and not self._blob_shared(conn, row["blob"]) else []

    @staticmethod
    def _blob_shared(conn, blob: str) -> bool:
        return conn.execute("SELECT 1 FROM s3_objects WHERE blob = ? LIMIT 1", (blob,)).fetchone() is not None

    def delete_object_version(self, bucket: str, key: str, version_id: str) -> tuple[dict | None, list[str]]:
        """Remove one version; the newest remaining one becomes the latest."""
        with self.db.transaction() as conn:
            row = conn.execute(
                "SELECT * FROM s3_objects WHERE bucket = ? AND key = ? AND version_id = ?",
                (bucket, key, version_id)).fetchone()
            if row is None:
                return None, []
            conn.execute("DELETE FROM s3_objects WHERE seq = ?", (row["seq"],))
            if row["is_latest"]:
                conn.execute(
                    "UPDATE s3_objects SET is_latest = 1 WHERE seq = (SELECT MAX(seq) FROM "
                    "s3_objects WHERE bucket = ? AND key = ?)", (bucket, key))
            blob = row["blob"]
            freed = [blob] if blob and not self._blob_shared(conn, blob) else []
        return _version(row), freed

    def set_storage_class(self, bucket: str, key: str, version_id: str, cls: str) -> None:
        with self.db.transaction() as conn:
            conn.execute("UPDATE s3_objects SET storage_class = ? WHERE bucket = ? AND key = ? "
                         "AND version_id = ?", (cls, bucket, key, version_id))

    def update_meta(self, bucket: str, key: str, version_id: str, **changes) -> None:
        """Merge `changes` into a version's meta (tags, restore status, ...)."""
        with self.db.transaction() as conn:
            row = conn.execute("SELECT meta FROM s3_objects WHERE bucket = ? AND key = ? AND "
                               "version_id = ?", (bucket, key, version_id)).fetchone()
            if row is not None:
                meta = {**json.loads(row["meta"]), **changes}
                conn.execute("UPDATE s3_objects SET meta = ? WHERE bucket = ? AND key = ? AND "
                             "version_id = ?", (json.dumps(meta), bucket, key, version_id))

    def free(self, blobs: list[str]) -> None:
        """Delete blobs no version references any more, off the request path (their
        metadata has committed; a crash before the unlink only leaves an unused file)."""
        for blob in blobs:
            if blob:
                self._freed.put(blob)
        if blobs and (self._reaper is None or not self._reaper.is_alive()):
            with self._reaper_lock:
                if self._reaper is None or not self._reaper.is_alive():
                    self._reaper = threading.Thread(target=self._reap, name="s3-blob-reaper",
                                                    daemon=True)
                    self._reaper.start()

    def _reap(self) -> None:
        while True:
            self.blobs.delete(self._freed.get())

    # -- what a crash left --------------------------------------------------------------
    def start(self) -> None:
        """After a crash, look for blobs no row references, off the request path."""
        if self.blobs.needs_sweep:
            self._sweeper = threading.Thread(target=self.sweep_orphans, name="s3-orphans",
                                             daemon=True)
            self._sweeper.start()

    def sweep_orphans(self) -> int:
        """Delete the blobs earlier processes wrote that no version and no part references:
        renamed before a crash cut their commit short, or freed and not yet unlinked. This
        process's blobs are never looked at (BlobStore.earlier), and an earlier blob that
        is unreferenced stays so: new versions and parts always get new blobs."""
        parts = {r["blob"] for r in self.db.query("SELECT blob FROM s3_parts")}
        gone = 0
        for batch in self.blobs.earlier():
            used = {r["blob"] for r in self.db.query(
                f"SELECT blob FROM s3_objects WHERE blob IS NOT NULL AND blob IN "
                f"({','.join('?' * len(batch))})", tuple(batch))}
            for blob in batch:
                if blob not in used and blob not in parts:
                    self.blobs.delete(blob)
                    gone += 1
        return gone

    def close(self) -> None:
        """At a clean stop: finish the frees, then tell the next start it need not sweep
        (unless this start's own sweep has not finished)."""
        while True:
            try:
                self.blobs.delete(self._freed.get_nowait())
            except queue.Empty:
                break
        if self._sweeper is None or not self._sweeper.is_alive():
            self.blobs.mark_clean()

    # -- listing ------------------------------------------------------------------------
    def list_current(self, bucket: str, after: str, prefix: str, limit: int,
                     inclusive: bool = False) -> list[dict]:
        """Current, visible versions with key > `after` (>= with `inclusive`) under
        `prefix`, in UTF-8 byte order: one range scan of the listing index."""
        if prefix and after < prefix:
            after, inclusive = prefix, True
        op = ">=" if inclusive else ">"
        sql = (f"SELECT * FROM s3_objects WHERE bucket = ? AND is_latest = 1 AND "
               f"delete_marker = 0 AND key {op} ?")
        args: list = [bucket, after]
        if prefix:
            sql += " AND key < ?"
            args.append(successor(prefix))
        sql += " ORDER BY key LIMIT ?"
        args.append(limit)
        return [_version(r) for r in self.db.query(sql, tuple(args))]

    def list_versions(self, bucket: str, start: str, inclusive: bool,
                      within: tuple[str, int] | None, prefix: str, limit: int) -> list[dict]:
        """Versions and delete markers in (key, newest first) order: first the versions of
        `within=(key, seq)` older than `seq`, then keys > `start` (>= with `inclusive`)."""
        rows: list = []
        if within is not None:
            rows = list(self.db.query(
                "SELECT * FROM s3_objects WHERE bucket = ? AND key = ? AND seq < ? "
                "ORDER BY seq DESC LIMIT ?", (bucket, within[0], within[1], limit)))
        if prefix and start < prefix:
            start, inclusive = prefix, True
        sql = f"SELECT * FROM s3_objects WHERE bucket = ? AND key {'>=' if inclusive else '>'} ?"
        args: list = [bucket, start]
        if prefix:
            sql += " AND key < ?"
            args.append(successor(prefix))
        sql += " ORDER BY key, seq DESC LIMIT ?"
        args.append(limit - len(rows))
        if limit > len(rows):
            rows += list(self.db.query(sql, tuple(args)))
        return [_version(r) for r in rows]

    def version_seq(self, bucket: str, key: str, version_id: str) -> int | None:
        rows = self.db.query("SELECT seq FROM s3_objects WHERE bucket = ? AND key = ? AND "
                             "version_id = ?", (bucket, key, version_id))
        return rows[0]["seq"] if rows else None

    def iter_objects(self, bucket: str, prefix: str = "", batch: int = 500) -> Iterator[dict]:
        """Every version and delete marker under `prefix` (for the lifecycle sweeper)."""
        after = ("", 0)
        while True:
            sql = ("SELECT * FROM s3_objects WHERE bucket = ? AND (key > ? OR (key = ? AND "
                   "seq > ?))")
            args: list = [bucket, after[0], after[0], after[1]]
            if prefix:
                sql += " AND key >= ? AND key < ?"
                args += [prefix, successor(prefix)]
            rows = self.db.query(sql + " ORDER BY key, seq LIMIT ?", (*args, batch))
            for row in rows:
                yield _version(row)
            if len(rows) < batch:
                return
            after = (rows[-1]["key"], rows[-1]["seq"])

    # -- multipart uploads --------------------------------------------------------------
    def create_upload(self, upload_id: str, bucket: str, key: str, initiated: float,
                      owner: str, meta: dict) -> None:
        with self.db.transaction() as conn:
            conn.execute("INSERT INTO s3_uploads VALUES (?, ?, ?, ?, ?, ?)",
                         (upload_id, bucket, key, initiated, owner, json.dumps(meta)))

    def get_upload(self, upload_id: str) -> dict | None:
        rows = self.db.query("SELECT * FROM s3_uploads WHERE upload_id = ?", (upload_id,))
        if not rows:
            return None
        upload = dict(rows[0])
        upload["meta"] = json.loads(upload["meta"])
        return upload

    def put_part(self, upload_id: str, number: int, etag: str, size: int, blob: str,
                 when: float, part_checksums: dict) -> list[str]:
        with self.db.transaction() as conn:
            if conn.execute("SELECT 1 FROM s3_uploads WHERE upload_id = ?", (upload_id,)).fetchone() is None:
                return [blob]
            old = conn.execute("SELECT blob FROM s3_parts WHERE upload_id = ? AND part_number = ?",
                               (upload_id, number)).fetchone()
            conn.execute("INSERT OR REPLACE INTO s3_parts VALUES (?, ?, ?, ?, ?, ?, ?)",
                         (upload_id, number, etag, size, blob, when, json.dumps(part_checksums)))
        return [old["blob"]] if old else []

    def list_parts(self, upload_id: str, after: int = 0, limit: int = 10000) -> list[dict]:
        rows = self.db.query("SELECT * FROM s3_parts WHERE upload_id = ? AND part_number > ? "
                             "ORDER BY part_number LIMIT ?", (upload_id, after, limit))
        parts = [dict(r) for r in rows]
        for part in parts:
            part["checksums"] = json.loads(part["checksums"])
        return parts

    def delete_upload(self, upload_id: str, keep: set[str] = frozenset()) -> list[str]:
        """Forget the upload and its parts; returns the part blobs to free (minus `keep`)."""
        with self.db.transaction() as conn:
            rows = conn.execute("SELECT blob FROM s3_parts WHERE upload_id = ?", (upload_id,)).fetchall()
            conn.execute("DELETE FROM s3_parts WHERE upload_id = ?", (upload_id,))
            conn.execute("DELETE FROM s3_uploads WHERE upload_id = ?", (upload_id,))
        return [r["blob"] for r in rows if r["blob"] not in keep]

    def list_uploads(self, bucket: str, key_after: str, id_after: str, prefix: str,
                     limit: int) -> list[dict]:
        sql = ("SELECT * FROM s3_uploads WHERE bucket = ? AND (key > ? OR (key = ? AND "
               "upload_id > ?))")
        args: list = [bucket, key_after, key_after, id_after]
        if prefix:
            sql += " AND key >= ? AND key < ?"
            args += [prefix, successor(prefix)]
        rows = self.db.query(sql + " ORDER BY key, upload_id LIMIT ?", (*args, limit))
        uploads = [dict(r) for r in rows]
        for upload in uploads:
            upload["meta"] = json.loads(upload["meta"])
        return uploads

    def uploads_of(self, bucket: str) -> list[dict]:
        return self.list_uploads(bucket, "", "", "", 1 << 30)


def successor(prefix: str) -> str:
    """The smallest string greater than every string that starts with `prefix`."""
    while prefix:
        last = ord(prefix[-1])
        if last < 0x10FFFF:
            return prefix[:-1] + chr(last + 1)
        prefix = prefix[:-1]
    return "\U0010ffff" * 2


class FileBody:
    """An object's bytes (or a range of them) to send, from a file opened now, so that an
    overwrite that frees the blob meanwhile cannot cut the download short. `file_range`
    (fd, offset, length) lets the gateway send it in large pieces and close the fd; plain
    iteration works too."""

    CHUNK = 1024 * 1024

    def __init__(self, path, offset: int, length: int):
        self.file_range = (os.open(path, os.O_RDONLY), offset, length)

    def read_all(self) -> bytes:
        return b"".join(self)

    def read_cached(self) -> bytes | None:
        """All the bytes if the page cache holds them (read without waiting for the disk,
        `RWF_NOWAIT`), the fd then closed; None, and nothing read, otherwise."""
        fd, offset, length = self.file_range
        nowait = getattr(os, "RWF_NOWAIT", None)
        if nowait is None:
            return None
        buffer = bytearray(length)
        try:
            got = os.preadv(fd, [buffer], offset, nowait)
        except (BlockingIOError, OSError):
            return None
        if got != length:
            return None
        os.close(fd)
        return bytes(buffer)

    def __iter__(self):
        fd, offset, length = self.file_range
        try:
            while length > 0:
                chunk = os.pread(fd, min(self.CHUNK, length), offset)
                if not chunk:
                    return
                offset += len(chunk)
                length -= len(chunk)
                yield chunk
        finally:
            os.close(fd)
