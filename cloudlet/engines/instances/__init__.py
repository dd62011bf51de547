"""Instance sandboxes: EC2 instances as namespaces over an overlay root, booted by cloud-init.

    spec.py       InstanceSpec, Limits, InstanceEvent, Stats, InstanceError
    engine.py     Engine: start, stop, reboot, kill, events, console, stats, volumes, reclaim
    process.py    how an instance's processes start, and die with the engine's
    boot.py       the instance's PID 1 until it execs tini: root, mounts, masks, confinement
    guest/        Cloudlet's init, cloud-init's stages, poweroff/reboot (written at boot)
    seed.py       the files written at every boot (NoCloud seed, resolv.conf, hosts, CA)
    volumes.py    sparse files, ext4, loop devices
    mounts.py     the instance's mount/umount2 calls, answered by the engine (seccomp)
    nsexec.py     operations in an instance's mount namespace (mknod, mount, umount)

Hardening (each item has a test that tries it from inside as root): no CAP_SYS_ADMIN (nor
SYS_MODULE, SYS_RAWIO, SYS_TIME, SYS_BOOT, MKNOD, SYS_PTRACE, DAC_READ_SEARCH, ...: the kept
set is engine.KEEP_CAPS); a seccomp filter (sandbox/seccomp.py: kernel modules, kexec, bpf,
perf, keyrings, open_by_handle_at, syslog, user namespaces, ... refused; mount and umount2
answered by the engine, mounts.py); a devices cgroup allowlist (v1: null, zero, full, random,
urandom, tty, ptmx, pts and the instance's own volumes); pids.max (1,024 by default); masked
/proc and /sys paths (/sys/block and friends are empty); no host path in mountinfo (overlay
options are relative, the old root is detached) nor in /proc/self/cgroup (a cgroup
namespace); the network namespace the caller gives (so no path to the host's loopback). No
user namespace: root inside must mount its EBS volumes (ext4 cannot be mounted in one).
"""

from cloudlet.engines.instances.engine import Engine
from cloudlet.engines.instances.spec import (
    InstanceError,
    InstanceEvent,
    InstanceSpec,
    Limits,
    Stats,
    Volume,
)

__all__ = ["Engine", "InstanceError", "InstanceEvent", "InstanceSpec", "Limits", "Stats", "Volume"]
