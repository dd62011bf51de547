"""Figures, printed (never asserted): create -> ssh runs a command, stop -> start -> ssh, and
an idle instance's memory. `pytest -s` shows them."""

from __future__ import annotations

import statistics
import time
from pathlib import Path

from tests.engines.instances.support import ssh, wait_for

RUNS = 5


def _ssh_until_it_runs(box) -> None:
    assert wait_for(lambda: ssh(box.net, box.key, "true", timeout=20).returncode == 0, 60, 0.02)


def _rss_kib(pid: int) -> tuple[int, int]:
    rss = pss = 0
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Rss:"):
                rss = int(line.split()[1])
            elif line.startswith("Pss:"):
                pss = int(line.split()[1])
    except OSError:
        pass
    return rss, pss


def test_boot_figures(launch):
    create, restart = [], []
    box = None
    for _ in range(RUNS):
        t0 = time.monotonic()
        box = launch(wait=False)
        _ssh_until_it_runs(box)
        create.append(time.monotonic() - t0)
        box.engine.stop(box.id)
        t0 = time.monotonic()
        box.engine.start(box.spec)
        _ssh_until_it_runs(box)
        restart.append(time.monotonic() - t0)
    # an idle instance, once cloud-init's stages are done
    assert wait_for(lambda: "python3" not in ssh(box.net, box.key, "ps -e -o comm").stdout, 30, 0.2)
    time.sleep(1)
    group = box.engine._get(box.id).group
    pids = group.pids()
    rss = [_rss_kib(p) for p in pids]
    memory = group.memory()
    print(f"\ncreate -> ssh runs a command: p50 {statistics.median(create):.2f} s "
          f"(runs: {', '.join(f'{t:.2f}' for t in create)})")
    print(f"stop -> start -> ssh: p50 {statistics.median(restart):.2f} s "
          f"(runs: {', '.join(f'{t:.2f}' for t in restart)})")
    print(f"idle instance: {len(pids)} processes, RSS {sum(r for r, _ in rss) / 1024:.1f} MiB, "
          f"PSS {sum(p for _, p in rss) / 1024:.1f} MiB, cgroup anon {memory['rss'] / 2**20:.1f} MiB,"
          f" cgroup total (page cache included) {memory['usage'] / 2**20:.1f} MiB")
    assert create and restart
