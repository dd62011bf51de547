"""EBS volumes: attached live as real block devices (mkfs, mount), kept across stop and
start, detached (refused while mounted unless forced), data intact in the file."""

from __future__ import annotations

import pytest

from cloudlet.engines.instances import InstanceError
from cloudlet.engines.instances.volumes import create_data_volume
from tests.engines.instances.support import root


def test_a_volume_attached_live_is_a_1_gib_block_device_to_mkfs_and_mount(launch, tmp_path):
    box = launch()
    volume = tmp_path / "vol-1.img"
    create_data_volume(volume, 1)
    box.engine.attach_volume(box.id, volume, "/dev/xvdf")
    done = root(box.net, box.key, "test -b /dev/xvdf && blockdev --getsize64 /dev/xvdf")
    assert done.stdout.strip() == str(1 << 30), done.stderr
    done = root(box.net, box.key, "mkfs.ext4 -q /dev/xvdf && mkdir -p /data && mount /dev/xvdf /data"
                                  " && echo precious > /data/file && df -B1 --output=size /data | tail -1")
    assert done.returncode == 0, done.stderr
    assert 0.9 * (1 << 30) < int(done.stdout.split()[-1]) <= 1 << 30

    with pytest.raises(InstanceError, match="mounted"):
        box.engine.detach_volume(box.id, "/dev/xvdf")
    assert root(box.net, box.key, "umount /data").returncode == 0
    box.engine.detach_volume(box.id, "/dev/xvdf")
    assert root(box.net, box.key, "test -e /dev/xvdf").returncode != 0

    other = launch()  # the data moves with the volume
    other.engine.attach_volume(other.id, volume, "/dev/sdf")
    done = root(other.net, other.key, "mkdir -p /mnt/v && mount -o ro /dev/sdf /mnt/v && cat /mnt/v/file")
    assert done.stdout == "precious\n", done.stderr
    other.engine.detach_volume(other.id, "/dev/sdf", force=True)
    assert root(other.net, other.key, "cat /mnt/v/file").returncode != 0


def test_an_attached_volume_is_there_again_after_stop_and_start(launch, tmp_path):
    box = launch()
    volume = tmp_path / "vol-2.img"
    create_data_volume(volume, 1)
    box.engine.attach_volume(box.id, volume, "/dev/xvdg")
    assert root(box.net, box.key, "mkfs.ext4 -q /dev/xvdg && mount /dev/xvdg /mnt && "
                                  "echo kept > /mnt/f && umount /mnt").returncode == 0
    box.engine.stop(box.id)
    box.engine.start(box.spec)
    assert box.engine.wait_booted(box.id, 60)
    assert root(box.net, box.key, "mount /dev/xvdg /mnt && cat /mnt/f").stdout == "kept\n"


def test_the_root_volume_is_a_sparse_ext4_file_of_its_size(launch):
    box = launch(root_volume_gib=2)
    assert box.spec.root_volume.stat().st_size == 2 << 30
    assert box.spec.root_volume.stat().st_blocks * 512 < 200 << 20  # sparse
    done = root(box.net, box.key, "df -B1 --output=size / | tail -1")
    # the overlay reports its upper filesystem: the root volume
    assert 1.8 * (1 << 30) < int(done.stdout) <= 2 << 30, done.stdout


def test_a_grown_root_volume_is_used_in_full_at_the_next_boot(launch):
    box = launch(root_volume_gib=1)
    box.engine.stop(box.id)
    with open(box.spec.root_volume, "r+b") as f:  # ModifyVolume to 2 GiB
        f.truncate(2 << 30)
    box.engine.start(box.spec)
    assert box.engine.wait_booted(box.id, 60)
    done = root(box.net, box.key, "df -B1 --output=size / | tail -1")
    assert 1.8 * (1 << 30) < int(done.stdout) <= 2 << 30, done.stdout
