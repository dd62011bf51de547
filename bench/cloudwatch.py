"""CloudWatch benchmark: Logs ingestion, Logs Insights, and metrics reads, each beside moto.

    .venv/bin/python bench/cloudwatch.py [logs|insights|metrics ...]

Each section lives in its own module (bench/cw_logs.py, bench/cw_insights.py,
bench/cw_metrics.py) with a `main()` that prints its figures.
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

SECTIONS = {"logs": "cw_logs", "insights": "cw_insights", "metrics": "cw_metrics"}


def main(argv: list[str]) -> None:
    for name in argv or list(SECTIONS):
        importlib.import_module(SECTIONS[name]).main()


if __name__ == "__main__":
    main(sys.argv[1:])
