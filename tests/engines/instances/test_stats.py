"""What the engine measures of a running instance for AWS/EC2's metrics: CPU seconds from
its cgroup, I/O from its volumes' loop devices."""

from __future__ import annotations

from tests.engines.instances.support import root


def test_disk_counters_are_the_volumes_real_io(launch):
    box = launch()
    before = box.engine.stats(box.id)
    done = root(box.net, box.key,
                "dd if=/dev/urandom of=/var/tmp/blob bs=1M count=8 oflag=direct status=none && "
                "sync && echo 3 > /proc/sys/vm/drop_caches 2>/dev/null; "
                "dd if=/var/tmp/blob of=/dev/null bs=1M iflag=direct status=none && echo done")
    assert done.stdout.strip().endswith("done"), done.stderr
    after = box.engine.stats(box.id)
    assert after.disk_write_bytes - before.disk_write_bytes >= 8 << 20
    assert after.disk_write_ops > before.disk_write_ops
    assert after.disk_read_bytes - before.disk_read_bytes >= 8 << 20
    assert after.disk_read_ops > before.disk_read_ops


def test_cpu_seconds_grow_with_work(launch):
    box = launch()
    before = box.engine.stats(box.id).cpu_seconds
    done = root(box.net, box.key, "timeout 1 sh -c 'while :; do :; done'; echo spun")
    assert "spun" in done.stdout
    assert box.engine.stats(box.id).cpu_seconds - before >= 0.5
