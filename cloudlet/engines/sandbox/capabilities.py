"""Linux capabilities by name, and dropping them from the bounding set (so that no process
started afterwards, root or setuid, can have them)."""

from __future__ import annotations

from cloudlet.engines.sandbox import linux

NAMES = (
    "CHOWN", "DAC_OVERRIDE", "DAC_READ_SEARCH", "FOWNER", "FSETID", "KILL", "SETGID", "SETUID",
    "SETPCAP", "LINUX_IMMUTABLE", "NET_BIND_SERVICE", "NET_BROADCAST", "NET_ADMIN", "NET_RAW",
    "IPC_LOCK", "IPC_OWNER", "SYS_MODULE", "SYS_RAWIO", "SYS_CHROOT", "SYS_PTRACE", "SYS_PACCT",
    "SYS_ADMIN", "SYS_BOOT", "SYS_NICE", "SYS_RESOURCE", "SYS_TIME", "SYS_TTY_CONFIG", "MKNOD",
    "LEASE", "AUDIT_WRITE", "AUDIT_CONTROL", "SETFCAP", "MAC_OVERRIDE", "MAC_ADMIN", "SYSLOG",
    "WAKE_ALARM", "BLOCK_SUSPEND", "AUDIT_READ", "PERFMON", "BPF", "CHECKPOINT_RESTORE",
)
NUMBERS = {name: number for number, name in enumerate(NAMES)}


def last_cap() -> int:
    try:
        with open("/proc/sys/kernel/cap_last_cap") as f:
            return int(f.read())
    except (OSError, ValueError):
        return len(NAMES) - 1


def drop_bounding(keep: frozenset[str] | set[str]) -> None:
    """Drop every capability but keep from the calling process's bounding set (needs
    CAP_SETPCAP, which is dropped last if it is not kept)."""
    keep_numbers = {NUMBERS[name] for name in keep}
    setpcap = NUMBERS["SETPCAP"]
    for number in range(last_cap() + 1):
        if number not in keep_numbers and number != setpcap:
            linux.prctl(linux.PR_CAPBSET_DROP, number)
    if setpcap not in keep_numbers:
        linux.prctl(linux.PR_CAPBSET_DROP, setpcap)


def bounding_set(pid: int | str = "self") -> set[str]:
    """The names of a process's bounding capabilities (from /proc/PID/status)."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("CapBnd:"):
                mask = int(line.split()[1], 16)
                return {name for name, n in NUMBERS.items() if mask >> n & 1}
    return set()
