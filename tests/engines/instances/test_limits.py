"""Instance types as cgroup limits: memory (OOM kill at the limit), vCPUs (CFS quota),
capped to the host."""

from __future__ import annotations

import os

from tests.engines.instances.support import root


def test_memory_limit_oom_kills_a_process_that_goes_over_it(launch):
    box = launch(memory_mib=128)
    done = root(box.net, box.key, "python3 -c 'b = bytearray(400 << 20); print(len(b))'")
    assert done.returncode != 0 and "Killed" in done.stderr + done.stdout
    assert box.engine.stats(box.id).oom_kills >= 1
    assert root(box.net, box.key, "echo still running").stdout == "still running\n"


def test_vcpus_are_a_cfs_quota(launch, instance_engine):
    box = launch(vcpus=0.5)
    group = instance_engine._get(box.id).group
    quota = int((group.dirs["cpu"] / "cpu.cfs_quota_us").read_text())
    period = int((group.dirs["cpu"] / "cpu.cfs_period_us").read_text())
    assert quota / period == 0.5


def test_types_bigger_than_the_host_are_capped_and_the_limit_reported(instance_engine):
    limits = instance_engine.effective_limits(vcpus=192, memory_mib=2 << 20, pids_max=1024)
    assert limits.vcpus == os.cpu_count()
    assert limits.memory_mib < 2 << 20
    assert limits.devices_allowlist and limits.seccomp
