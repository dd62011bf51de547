"""Metric storage with CloudWatch's resolutions, rollups and retention.

Every point is an `Aggregate` (statistics.py) of all values written into one period of its
resolution. High-resolution points (1 s) live 3 hours, then roll into 1-minute points kept
15 days, which roll into 5-minute points kept 63 days, which roll into 1-hour points kept
455 days. A sweeper thread on the service clock does the rolling; it runs every few
seconds of real time and at once when the clock jumps, and every read first sweeps if the
clock moved since the last sweep, so a read never sees data finer than its age allows.

A read asks for a period; a stored point counts only when the period is a multiple of its
resolution, except that points of the last 3 hours count at any period (AWS: "If the
StartTime ... is greater than 15 days ago, you must specify the period as a multiple of
300 seconds or no data points are returned"), so data 20 days old is readable at 5-minute
periods and not at 1-minute ones.

    store = MetricStore(db)
    store.put(account, region, namespace, [Datum(...)])
    store.statistics(account, region, namespace, name, dims, start, end, 60, "p99")
    store.evaluate(account, region, metric_data_queries, start, end)   # queries.py
"""

from __future__ import annotations

import json
import logging
import threading
from dataclasses import dataclass

from cloudlet import clock
from cloudlet.services.cloudwatch import queries
from cloudlet.services.cloudwatch import statistics as stats
from cloudlet.services.cloudwatch.periods import DAY, HOUR, period_start
from cloudlet.services.cloudwatch.statistics import Aggregate
from cloudlet.store.db import Database

log = logging.getLogger("cloudlet.cloudwatch")

# resolution -> (how long it is kept, the resolution it then rolls into; None: dropped)
RETENTION = {
    1: (3 * HOUR, 60),
    60: (15 * DAY, 300),
    300: (63 * DAY, 3600),
    3600: (455 * DAY, None),
}
SWEEP_INTERVAL = 5.0  # real seconds between sweeps when the clock does not jump
_BATCH = 5000
_SQL_STATISTIC = {
    "SampleCount": "SUM(sample_count)",
    "Sum": "SUM(sum)",
    "Average": "SUM(sum) / SUM(sample_count)",
    "Minimum": "MIN(min)",
    "Maximum": "MAX(max)",
}


@dataclass
class Datum:
    name: str
    dimensions: list[dict]  # [{"Name", "Value"}], as given
    timestamp: float
    resolution: int  # 1 or 60
    unit: str
    agg: Aggregate


def dims_key(dimensions: list[dict]) -> str:
    return json.dumps(sorted((d["Name"], d["Value"]) for d in dimensions or ()),
                      separators=(",", ":"))


def _bucket_query(columns: str, metric_id: int, origin: int, end: float, period: int,
                  unit: str | None) -> tuple[str, tuple]:
    """The points of one metric in [origin, end) with their period bucket and `columns`, from
    the resolution a period of this length reads (a point older than three hours is read only
    when its resolution divides the period), optionally of one unit."""
    sql = (f"SELECT (ts - ?) / ? AS bucket, {columns} FROM cw_points"
           " WHERE metric_id=? AND ts>=? AND ts<?"
           " AND (? % resolution = 0 OR (resolution <= 60 AND ts >= ?))")
    args: tuple = (origin, period, metric_id, origin, end, period,
                   clock.timestamp() - 3 * HOUR)
    if unit is not None:
        sql += " AND unit=?"
        args += (unit,)
    return sql, args


class MetricStore:
    def __init__(self, db: Database):
        self.db = db
        self._ids: dict[tuple, tuple[int, float]] = {}
        self._ids_lock = threading.Lock()
        self._swept_offset: float | None = None
        self._swept_at = 0.0
        self._sweep_lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # -- lifecycle --------------------------------------------------------------------

    def start(self) -> None:
        if self._thread is None:
            self._stop.clear()
            self._thread = threading.Thread(target=self._run, name="cw-metrics-sweeper",
                                            daemon=True)
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def _run(self) -> None:
        import time

        while not self._stop.wait(0.5):
            jumped = self._swept_offset != clock.offset()
            if jumped or time.monotonic() - self._swept_at >= SWEEP_INTERVAL:
                try:
                    self.sweep()
                except Exception:
                    log.exception("metric sweep failed")

    # -- writing ----------------------------------------------------------------------

    def put(self, account: str, region: str, namespace: str, data: list[Datum]) -> None:
        now = clock.timestamp()
        merged: dict[tuple, tuple[Aggregate, Datum]] = {}
        for datum in data:
            if datum.agg.count <= 0:
                continue
            res = datum.resolution
            ts = int(datum.timestamp // res) * res
            key = (datum.name, dims_key(datum.dimensions), ts, res, datum.unit)
            if key in merged:
                merged[key][0].merge(datum.agg)
            else:
                copy = Aggregate()
                copy.merge(datum.agg)
                merged[key] = (copy, datum)
        with self.db.transaction() as conn:
            for (name, dkey, ts, res, unit), (agg, datum) in merged.items():
                metric_id = self._metric_id(conn, account, region, namespace, name, dkey,
                                            datum.dimensions, now)
                self._upsert(conn, metric_id, res, ts, unit, agg)

    def _metric_id(self, conn, account, region, namespace, name, dkey, dimensions, now) -> int:
        key = (account, region, namespace, name, dkey)
        with self._ids_lock:
            cached = self._ids.get(key)
        if cached is not None and now - cached[1] < 60:
            return cached[0]
        row = conn.execute(
            "SELECT id FROM cw_metrics WHERE account=? AND region=? AND namespace=? AND name=?"
            " AND dims_key=?", key).fetchone()
        if row is None:
            metric_id = conn.execute(
                "INSERT INTO cw_metrics (account, region, namespace, name, dims_key, dimensions,"
                " last_put) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (*key, json.dumps([{"Name": d["Name"], "Value": d["Value"]}
                                   for d in dimensions or ()]), now)).lastrowid
        else:
            metric_id = row[0]
            conn.execute("UPDATE cw_metrics SET last_put=max(last_put, ?) WHERE id=?",
                         (now, metric_id))
        with self._ids_lock:
            self._ids[key] = (metric_id, now)
        return metric_id

    @staticmethod
    def _upsert(conn, metric_id: int, res: int, ts: int, unit: str, agg: Aggregate) -> None:
        row = conn.execute(
            "SELECT sample_count, sum, min, max, exact, dist FROM cw_points"
            " WHERE metric_id=? AND ts=? AND resolution=? AND unit=?",
            (metric_id, ts, res, unit)).fetchone()
        if row is not None:
            old = Aggregate(row[0], row[1], row[2], row[3], bool(row[4]), stats.unpack(row[5]))
            old.merge(agg)
            agg = old
        agg.bounded()
        conn.execute(
            "INSERT OR REPLACE INTO cw_points (metric_id, resolution, ts, unit, sample_count,"
            " sum, min, max, exact, dist) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (metric_id, res, ts, unit, agg.count, agg.sum, agg.min, agg.max, int(agg.exact),
             stats.pack(agg.dist) if agg.exact else None))

    # -- rollup and retention -----------------------------------------------------------

    def maybe_sweep(self) -> None:
        if self._swept_offset != clock.offset():
            self.sweep()

    def sweep(self) -> None:
        import time

        with self._sweep_lock:
            offset = clock.offset()
            now = clock.timestamp()
            dropped = False
            for res, (keep, coarser) in RETENTION.items():
                horizon = now - keep
                while self._roll(res, coarser, horizon):
                    dropped = dropped or coarser is None
            if dropped:  # metrics whose last points expired go too
                with self.db.transaction() as conn:
                    conn.execute(
                        "DELETE FROM cw_metrics WHERE last_put < ? AND NOT EXISTS"
                        " (SELECT 1 FROM cw_points WHERE metric_id = cw_metrics.id)",
                        (now - RETENTION[3600][0],))
                with self._ids_lock:
                    self._ids.clear()
            self._swept_offset = offset
            self._swept_at = time.monotonic()

    def _roll(self, res: int, coarser: int | None, horizon: float) -> bool:
        """Roll (or drop) one batch of points of `res` older than `horizon`; True if any."""
        if not self.db.query("SELECT 1 FROM cw_points WHERE resolution=? AND ts < ? LIMIT 1",
                             (res, horizon - res + 1)):
            return False  # the usual case: no write transaction at all
        with self.db.transaction() as conn:
            rows = conn.execute(
                "SELECT metric_id, ts, unit, sample_count, sum, min, max, exact, dist"
                " FROM cw_points WHERE resolution=? AND ts < ? LIMIT ?",
                (res, horizon - res + 1, _BATCH)).fetchall()
            if not rows:
                return False
            groups: dict[tuple, Aggregate] = {}
            for r in rows:
                conn.execute("DELETE FROM cw_points WHERE metric_id=? AND ts=? AND resolution=?"
                             " AND unit=?", (r[0], r[1], res, r[2]))
                if coarser is None:
                    continue
                key = (r[0], int(r[1] // coarser) * coarser, r[2])
                agg = Aggregate(r[3], r[4], r[5], r[6], bool(r[7]), stats.unpack(r[8]))
                if key in groups:
                    groups[key].merge(agg)
                else:
                    groups[key] = agg
            for (metric_id, ts, unit), agg in groups.items():
                self._upsert(conn, metric_id, coarser, ts, unit, agg)
            return True

    # -- reading ----------------------------------------------------------------------

    def metric_id(self, account, region, namespace, name, dimensions) -> int | None:
        rows = self.db.query(
            "SELECT id FROM cw_metrics WHERE account=? AND region=? AND namespace=? AND name=?"
            " AND dims_key=?", (account, region, namespace, name, dims_key(dimensions)))
        return rows[0][0] if rows else None

    def periods(self, metric_id: int, start: float, end: float, period: int,
                unit: str | None, distributions: bool,
                by_unit: bool = False) -> dict[float, tuple[Aggregate, str]]:
        """The aggregate of each period of [start, end) with data: {period start: (agg, unit)}
        ({(period start, unit): (agg, unit)} by_unit: each unit's data apart)."""
        self.maybe_sweep()
        origin = period_start(start, period)
        recent = clock.timestamp() - 3 * HOUR
        cols = "ts, resolution, unit, sample_count, sum, min, max, exact"
        sql = (f"SELECT {cols}{', dist' if distributions else ''} FROM cw_points"
               " WHERE metric_id=? AND ts>=? AND ts<?")
        args: tuple = (metric_id, origin, end)
        if unit is not None:
            sql += " AND unit=?"
            args += (unit,)
        cursor = self.db.connection().cursor()
        cursor.row_factory = None
        out: dict[float, tuple[Aggregate, str]] = {}
        for row in cursor.execute(sql, args):
            ts, res = row[0], row[1]
            if period % res and not (res <= 60 and ts >= recent):
                continue
            bucket = origin + ((ts - origin) // period) * period
            if by_unit:
                bucket = (bucket, row[2])
            agg = Aggregate(row[3], row[4], row[5], row[6], bool(row[7]),
                            stats.unpack(row[8]) if distributions else {})
            have = out.get(bucket)
            if have is None:
                out[bucket] = (agg, row[2])
            else:
                have[0].merge(agg)
        return out

    def series(self, metric_id: int | None, start: float, end: float, period: int, stat: str,
               unit: str | None = None) -> tuple[list[float], list[float]]:
        if metric_id is None:
            return [], []
        if not stats.is_extended(stat):
            return self._basic_series(metric_id, start, end, period, stat, unit)
        if stats.distribution_statistic(stat) is not None:
            return self._distribution_series(metric_id, start, end, period, stat, unit)
        buckets = self.periods(metric_id, start, end, period, unit, stats.is_extended(stat))
        times, values = [], []
        statistic = stats.compile_statistic(stat)
        for ts in sorted(buckets):
            v = statistic(buckets[ts][0])
            if v is not None:
                times.append(ts)
                values.append(v)
        return times, values

    def _basic_series(self, metric_id: int, start: float, end: float, period: int, stat: str,
                      unit: str | None) -> tuple[list[float], list[float]]:
        """A basic statistic per period, aggregated by SQLite: no row becomes a Python object."""
        self.maybe_sweep()
        origin = int(period_start(start, period))
        sql, args = _bucket_query(_SQL_STATISTIC[stat], metric_id, origin, end, period, unit)
        sql += " GROUP BY bucket ORDER BY bucket"
        cursor = self.db.connection().cursor()
        cursor.row_factory = None
        rows = cursor.execute(sql, args).fetchall()
        return ([origin + b * period for b, _ in rows], [v for _, v in rows])

    def _distribution_series(self, metric_id: int, start: float, end: float, period: int,
                             stat: str, unit: str | None) -> tuple[list[float], list[float]]:
        """An extended statistic per period, from the distributions of the stored points;
        a period holding one point (the usual case) reads that point's pairs directly."""
        self.maybe_sweep()
        statistic = stats.distribution_statistic(stat)
        origin = int(period_start(start, period))
        sql, args = _bucket_query("exact, dist", metric_id, origin, end, period, unit)
        cursor = self.db.connection().cursor()
        cursor.row_factory = None
        rows = cursor.execute(sql + " ORDER BY ts", args).fetchall()
        times, values = [], []
        i, n = 0, len(rows)
        while i < n:
            bucket = rows[i][0]
            j = i + 1
            while j < n and rows[j][0] == bucket:
                j += 1
            group = rows[i:j]
            i = j
            if not all(exact and blob for _, exact, blob in group):
                continue  # a statistic set with spread: no percentiles, as in AWS
            if len(group) == 1:
                pairs = stats.sorted_pairs(group[0][2])
            else:
                merged: dict[float, float] = {}
                for _, _, blob in group:
                    for v, c in stats.sorted_pairs(blob):
                        merged[v] = merged.get(v, 0.0) + c
                pairs = sorted(merged.items())
            v = statistic(pairs)
            if v is not None:
                times.append(origin + bucket * period)
                values.append(v)
        return times, values

    def statistics(self, account: str, region: str, namespace: str, metric_name: str,
                   dimensions: list[dict], start: float, end: float, period: int,
                   statistic: str, unit: str | None = None) -> list[tuple[float, float]]:
        """(period start, value) of one statistic, ascending, only periods with data."""
        metric_id = self.metric_id(account, region, namespace, metric_name, dimensions)
        times, values = self.series(metric_id, start, end, period, statistic, unit)
        return list(zip(times, values, strict=True))

    def evaluate(self, account: str, region: str, metric_data_queries: list[dict], start: float,
                 end: float, scan_by: str = "TimestampDescending") -> list[dict]:
        """GetMetricData's MetricDataQueries to its MetricDataResults (queries.py)."""
        return queries.evaluate(self, account, region, metric_data_queries, start, end,
                                scan_by)

    def metrics(self, account: str, region: str, namespace: str | None = None,
                name: str | None = None, since: float | None = None) -> list[dict]:
        """Metrics with data put since `since`: {"Namespace", "MetricName", "Dimensions"},
        ordered by namespace, name and dimensions."""
        sql = ("SELECT id, namespace, name, dimensions, dims_key FROM cw_metrics"
               " WHERE account=? AND region=?")
        args: list = [account, region]
        if namespace is not None:
            sql += " AND namespace=?"
            args.append(namespace)
        if name is not None:
            sql += " AND name=?"
            args.append(name)
        if since is not None:
            sql += " AND last_put>=?"
            args.append(since)
        sql += " ORDER BY namespace, name, dims_key"
        return [{"Id": r[0], "Namespace": r[1], "MetricName": r[2],
                 "Dimensions": json.loads(r[3])} for r in self.db.query(sql, tuple(args))]
