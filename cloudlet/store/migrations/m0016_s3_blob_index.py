"""S3: the index on `s3_objects.blob`, for data directories whose m0004 predates it.

m0004 creates it for new directories; older ones got it from a call at every start, which
this migration replaces (state changes only through numbered migrations)."""

from __future__ import annotations

from cloudlet.store.migrations import m0004_s3


def migrate(conn) -> None:
    m0004_s3.ensure_indexes(conn)
