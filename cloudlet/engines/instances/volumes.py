"""EBS volumes on the host: sparse files, formatted (root volumes) and loop devices."""

from __future__ import annotations

import contextlib
import os
import subprocess
import tempfile
from pathlib import Path

GIB = 1 << 30


def create_root_volume(path: Path, gib: int) -> None:
    """A sparse file of gib GiB formatted ext4 (lazily initialised: milliseconds)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    with open(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "wb") as f:
        f.truncate(gib * GIB)
    subprocess.run(["mkfs.ext4", "-q", "-F", "-m", "0", "-L", "cloudimg-rootfs",
                    "-E", "lazy_itable_init=1,lazy_journal_init=1,nodiscard", str(tmp)],
                   check=True, capture_output=True)
    os.replace(tmp, path)


def filesystem_bytes(path: Path) -> int:
    """The size of the ext4 file system in a volume file (0 if it has none)."""
    done = subprocess.run(["dumpe2fs", "-h", str(path)], capture_output=True, text=True)
    fields = dict(line.split(":", 1) for line in done.stdout.splitlines() if ":" in line)
    try:
        return int(fields["Block count"]) * int(fields["Block size"])
    except (KeyError, ValueError):
        return 0


def grow_if_needed(path: Path) -> bool:
    """After the file grew (ModifyVolume): the ext4 inside grows to fill it, as cloud-init's
    growpart and resizefs would at boot. Whether it grew."""
    if path.stat().st_size <= filesystem_bytes(path) + (1 << 20):
        return False
    subprocess.run(["e2fsck", "-p", "-f", str(path)], capture_output=True)
    subprocess.run(["resize2fs", str(path)], check=True, capture_output=True)
    return True


def create_data_volume(path: Path, gib: int) -> None:
    """A sparse file of gib GiB, unformatted (as a new EBS volume is)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600), "ab") as f:
        f.truncate(gib * GIB)


def attach_loop(path: Path) -> str:
    """A loop device backed by path (/dev/loopN)."""
    done = subprocess.run(["losetup", "--find", "--show", str(path)],
                          check=True, capture_output=True, text=True)
    return done.stdout.strip()


def detach_loop(device: str) -> None:
    subprocess.run(["losetup", "--detach", device], capture_output=True)


def backing_file(device: str) -> str | None:
    name = os.path.basename(device)
    try:
        return Path(f"/sys/block/{name}/loop/backing_file").read_text().strip()
    except OSError:
        return None


def loops_backed_by(path: Path) -> list[str]:
    """The loop devices (/dev/loopN) whose backing file is `path`."""
    target = str(Path(path).resolve())
    found = []
    for entry in Path("/sys/block").glob("loop*/loop/backing_file"):
        try:
            if entry.read_text().strip() == target:
                found.append(f"/dev/{entry.parent.parent.name}")
        except OSError:
            continue
    return found


def io_counters(devices: list[str]) -> tuple[int, int, int, int]:
    """(read bytes, written bytes, reads, writes) completed by these block devices since they
    were set up: /sys/block/<dev>/stat, whose sectors are 512 bytes whatever the device's."""
    read_bytes = write_bytes = reads = writes = 0
    for device in devices:
        try:
            fields = Path(f"/sys/block/{os.path.basename(device)}/stat").read_text().split()
            reads += int(fields[0])
            read_bytes += int(fields[2]) * 512
            writes += int(fields[4])
            write_bytes += int(fields[6]) * 512
        except (OSError, ValueError, IndexError):
            continue
    return read_bytes, write_bytes, reads, writes


def device_numbers(device: str) -> tuple[int, int]:
    st = os.stat(device)
    return os.major(st.st_rdev), os.minor(st.st_rdev)


@contextlib.contextmanager
def mounted_upper(root_volume: Path):
    """A stopped instance's upper layer (its changes to the image), read-only, for as long
    as the context lasts: what CreateImage flattens over the image's layers."""
    mnt = Path(tempfile.mkdtemp(prefix="cloudlet-root-"))
    try:
        subprocess.run(["mount", "-t", "ext4", "-o", "loop,ro,noload", str(root_volume), str(mnt)],
                       check=True, capture_output=True)
        try:
            yield mnt / "upper"
        finally:
            subprocess.run(["umount", str(mnt)], capture_output=True)
    finally:
        with contextlib.suppress(OSError):
            mnt.rmdir()
