"""A hostile root user inside an instance fails at each isolation item."""

from __future__ import annotations

import os
import re
import socket
from pathlib import Path

import pytest

from cloudlet.engines.images import cache_dir
from cloudlet.engines.instances import nsexec
from cloudlet.engines.sandbox import capabilities
from tests.engines.instances.support import root, ssh

DROPPED = {"SYS_ADMIN", "SYS_MODULE", "SYS_RAWIO", "SYS_TIME", "SYS_BOOT", "MKNOD",
           "DAC_READ_SEARCH", "SYS_PTRACE", "SYSLOG", "BPF", "PERFMON", "MAC_ADMIN"}


@pytest.fixture(scope="module")
def box(request, instance_engine):
    launch = request.getfixturevalue("launch_module")
    return launch()


@pytest.fixture(scope="module")
def launch_module(instance_engine, built_image, ssh_key, tmp_path_factory):
    import uuid

    from cloudlet.engines.instances import InstanceSpec
    from tests.engines.instances.conftest import Running
    from tests.engines.instances.support import VethNet

    started = []
    tmp = tmp_path_factory.mktemp("hardening")

    def start():
        net = VethNet.create()
        instance_id = "i-" + uuid.uuid4().hex[:17]
        spec = InstanceSpec(instance_id=instance_id, layers=list(built_image.layers),
                            root_volume=tmp / "root.img", netns=net.netns, hostname="hostile",
                            public_keys=[ssh_key.with_suffix(".pub").read_text().strip()],
                            memory_mib=512, pids_max=64)
        running = Running(instance_engine, spec, net, ssh_key, instance_engine.events)
        started.append(running)
        instance_engine.start(spec)
        assert instance_engine.wait_booted(instance_id, 60)
        return running

    yield start
    for running in started:
        if running.id in instance_engine.running():
            instance_engine.stop(running.id, force=True)
        running.net.remove()


def test_capabilities_are_dropped(box):
    status = root(box.net, box.key, "grep CapBnd /proc/self/status").stdout
    bounding = {name for name, n in capabilities.NUMBERS.items() if int(status.split()[1], 16) >> n & 1}
    assert bounding and not bounding & DROPPED
    assert root(box.net, box.key, "date -s @0").returncode != 0
    assert root(box.net, box.key, "hostname evil").returncode != 0
    assert ssh(box.net, box.key, "hostname").stdout.strip() == "hostile"


def test_seccomp_refuses_user_namespaces_keyrings_and_kernel_modules(box):
    assert "Seccomp:\t2" in root(box.net, box.key, "cat /proc/self/status").stdout
    assert root(box.net, box.key, "unshare -U true").returncode != 0
    probe = ("import ctypes; libc = ctypes.CDLL(None, use_errno=True); "
             "out = []\n"
             "for nr in (250, 175, 313, 246, 321, 298, 304, 103):\n"
             "    libc.syscall(nr, 0, 0, 0, 0, 0); out.append(ctypes.get_errno())\n"
             "print(out)")
    # keyctl, init_module, finit_module, kexec_load, bpf, perf_event_open, open_by_handle_at, syslog
    done = root(box.net, box.key, f'python3 -c "{probe}"')
    assert done.stdout.strip() == "[1, 1, 1, 1, 1, 1, 1, 1]", done.stderr
    assert root(box.net, box.key, "dmesg").returncode != 0


def test_only_allowed_devices_open_even_when_a_host_disk_node_exists(box):
    host_disk = os.stat("/").st_dev
    result = nsexec.call(box.engine._get(box.id).pid1, {
        "op": "mknod", "path": "/dev/hostdisk", "major": os.major(host_disk),
        "minor": os.minor(host_disk)})
    assert result["errno"] == 0
    done = root(box.net, box.key, "head -c 512 /dev/hostdisk | wc -c")
    assert "Operation not permitted" in done.stderr and done.stdout.strip() == "0"
    assert root(box.net, box.key, "mknod /dev/vdb b 254 16").returncode != 0
    assert root(box.net, box.key, "head -c 16 /dev/urandom | wc -c").stdout.strip() == "16"


def test_mounts_that_would_unmask_or_escape_are_refused(box):
    for command in ("mount -t proc proc /mnt", "mount -t sysfs sysfs /mnt",
                    "mount -t cgroup -o memory cgroup /mnt", "mount --bind / /mnt",
                    "umount /proc/keys", "umount -l /sys/block", "umount -l /proc",
                    "mount -o remount,rw /proc/sys", "mount -o remount,rw /sys"):
        done = root(box.net, box.key, command)
        assert done.returncode != 0, command
    assert root(box.net, box.key, "ls /sys/block | wc -l").stdout.strip() == "0"
    # what users do mount still works
    assert root(box.net, box.key, "mount -t tmpfs -o size=1m tmpfs /mnt && umount /mnt").returncode == 0


def test_sys_and_proc_do_not_show_the_hosts_devices(box):
    assert os.listdir("/sys/block"), "the host has block devices to hide"
    for path in ("/sys/block", "/sys/class/block", "/sys/dev/block", "/sys/devices/virtual/block"):
        assert root(box.net, box.key, f"ls {path} | wc -l").stdout.strip() == "0", path
    assert root(box.net, box.key, "cat /proc/partitions /proc/diskstats | wc -c").stdout.strip() == "0"
    for path in ("/proc/kcore", "/proc/sysrq-trigger", "/proc/kallsyms", "/proc/keys"):
        if Path(path).exists():
            done = root(box.net, box.key, f"head -c 64 {path} | wc -c")
            assert done.stdout.strip() == "0", path
    assert root(box.net, box.key, "echo 1 > /proc/sys/kernel/panic").returncode != 0
    assert root(box.net, box.key, "echo 1 > /proc/sys/net/ipv4/ip_forward").returncode == 0


def test_no_host_path_in_mountinfo_or_cgroup(box, instance_engine):
    mountinfo = root(box.net, box.key, "cat /proc/self/mountinfo /proc/1/mountinfo").stdout
    tokens = re.split(r"[\s,=:]+", mountinfo)
    for host_path in (str(cache_dir()), str(instance_engine.state_dir), str(box.spec.root_volume),
                      "/work", "/run/netns", "/root", "/tmp/"):
        assert not [t for t in tokens if t.startswith(host_path)], host_path
    assert "lowerdir=l0:l1,upperdir=vol/upper" in mountinfo
    cgroup = root(box.net, box.key, "cat /proc/self/cgroup").stdout
    assert all(line.endswith(":/") for line in cgroup.splitlines()), cgroup
    links = root(box.net, box.key, "ls -l /proc/1/fd /proc/self/fd").stdout
    for host_path in (str(instance_engine.state_dir), "/work", "/tmp/"):
        assert host_path not in links, host_path


def test_no_path_to_the_hosts_loopback_or_files(box):
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        probe = f"import socket; socket.create_connection(('127.0.0.1', {port}), timeout=2)"
        done = root(box.net, box.key, f'python3 -c "{probe}"')
        assert done.returncode != 0 and "Connection refused" in done.stderr
    assert root(box.net, box.key, "ls /work /run/netns").returncode != 0
    assert root(box.net, box.key, "cat /proc/1/root/etc/cloudlet-image.json").returncode == 0


def test_pids_limit(box, instance_engine):
    group = instance_engine._get(box.id).group
    assert (group.dirs["pids"] / "pids.max").read_text().strip() == "64"
    done = root(box.net, box.key, "for i in $(seq 100); do sleep 20 & done; kill $(jobs -p)",
                timeout=60)
    assert "Cannot fork" in done.stdout + done.stderr
    assert len(group.pids()) <= 64


def test_default_pids_limit_is_awss_1024(instance_engine):
    assert instance_engine.effective_limits(2, 4096, 1024).pids_max == 1024


def test_mounts_made_for_the_instance_are_nodev(box):
    done = root(box.net, box.key, "mount -t tmpfs -o size=1m tmpfs /mnt && grep ' /mnt ' /proc/self/mountinfo; umount /mnt")
    assert "nodev" in done.stdout.split(" - ")[0], done.stdout
