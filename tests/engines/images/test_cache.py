"""The image cache: one mmdebstrap base for the standard images, registered as instances
need it, immutable layers, concurrent builds done once, flatten."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from cloudlet.engines.images import STANDARD, ImageCache, Recipe


def test_the_standard_images_share_the_base_and_carry_their_default_user(built_image):
    cache = ImageCache()
    images = {name: cache.build(name) for name in STANDARD}
    bases = {image.layers[-1] for image in images.values()}
    assert bases == {built_image.layers[-1]}
    for name, image in images.items():
        cfg = (image.layers[0] / "etc/cloud/cloud.cfg.d/10_cloudlet_user.cfg").read_text()
        assert f"name: {STANDARD[name].default_user}" in cfg
        assert sum(1 for _ in image.layers[0].rglob("*")) < 10  # a thin layer
    assert {s.name for s in cache.list_images() if s.built} >= set(STANDARD)


def test_the_base_is_registered_for_instances(built_image):
    base = built_image.layers[-1]
    assert not list((base / "etc/ssh").glob("ssh_host_*"))
    assert (base / "etc/machine-id").read_text() == ""
    assert "127.0.0.53" not in (base / "etc/resolv.conf").read_text()
    cfg = (base / "etc/cloud/cloud.cfg.d/05_cloudlet.cfg").read_text()
    assert "datasource_list: [NoCloud, None]" in cfg and "network: {config: disabled}" in cfg
    assert " - locale" not in cfg
    for tool in ("usr/sbin/sshd", "usr/bin/cloud-init", "usr/bin/python3", "usr/bin/curl",
                 "usr/bin/sudo", "usr/bin/tini", "usr/sbin/mkfs.ext4", "usr/bin/mount"):
        assert (base / tool).exists(), tool
    log = base.parent / f"{base.name}.log"
    assert "newly installed" in log.read_text()


def test_a_recipe_change_gets_a_new_layer_and_the_old_one_stays(built_image):
    cache = ImageCache()
    name = f"test-{os.getpid()}"
    one = ImageCache(recipes={name: Recipe(name, "alice")}).build(name)
    two = ImageCache(recipes={name: Recipe(name, "bob")}).build(name)
    assert one.layers[0] != two.layers[0] and one.layers[0].is_dir()
    assert one.layers[-1] == two.layers[-1] == built_image.layers[-1]
    assert ImageCache(recipes={name: Recipe(name, "bob")}).get(name).default_user == "bob"
    (cache.root / "images" / f"{name}.json").unlink()


CONCURRENT = textwrap.dedent("""
    import json, os, sys, time
    from pathlib import Path
    from cloudlet.engines.images import ImageCache, Recipe, mmdebstrap
    import cloudlet.engines.images.cache as cache_module

    def fake_run(target, packages, image, report=None, log=None):
        with open(sys.argv[2], "a") as f:
            f.write("built\\n")
        time.sleep(1)
        for d in ("etc/ssh", "etc/cloud/cloud.cfg.d", "var/cache/apt"):
            (target / d).mkdir(parents=True)
        (target / "etc/ssh/ssh_host_rsa_key").write_text("secret")

    cache_module.mmdebstrap.run = fake_run
    cache_module.mmdebstrap.available = lambda: None
    image = ImageCache(Path(sys.argv[1]), {"x": Recipe("x", "ec2-user")}).build("x")
    print(json.dumps([str(p) for p in image.layers]))
""")


def test_two_processes_asking_for_one_image_build_it_once(tmp_path):
    import cloudlet

    env = {**os.environ, "PYTHONPATH": str(Path(cloudlet.__file__).parent.parent)}
    count = tmp_path / "count"
    procs = [subprocess.Popen([sys.executable, "-c", CONCURRENT, str(tmp_path / "cache"), str(count)],
                              stdout=subprocess.PIPE, text=True, env=env) for _ in range(2)]
    outputs = [json.loads(p.communicate(timeout=60)[0]) for p in procs]
    assert outputs[0] == outputs[1]
    assert count.read_text() == "built\n"
    base = Path(outputs[0][-1])
    assert not list((base / "etc/ssh").glob("ssh_host_*"))  # registered before it was renamed in
    assert not list((tmp_path / "cache" / "tmp").iterdir())


def test_flatten_merges_an_instance_root_into_a_new_immutable_image(built_image, tmp_path):
    if os.geteuid() != 0:
        pytest.skip("flatten mounts an overlay")
    upper = tmp_path / "upper"
    (upper / "etc/ssh").mkdir(parents=True)
    (upper / "opt").mkdir()
    (upper / "opt/app.txt").write_text("installed by the user\n")
    (upper / "etc/ssh/ssh_host_ed25519_key").write_text("the instance's own key")
    subprocess.run(["mknod", str(upper / "etc/motd"), "c", "0", "0"], check=True)  # a whiteout
    cache = ImageCache()
    name = f"flat-{os.getpid()}"
    image = cache.flatten(name, [upper, *built_image.layers], "my AMI", "ec2-user")
    try:
        (root,) = image.layers
        assert (root / "opt/app.txt").read_text() == "installed by the user\n"
        assert (root / "usr/sbin/sshd").exists()
        assert not (root / "etc/motd").exists()  # deleted in the instance
        assert not list((root / "etc/ssh").glob("ssh_host_*"))
        assert cache.get(name) == image
        with pytest.raises(FileExistsError):
            cache.flatten(name, [upper, *built_image.layers])
    finally:
        cache.remove(name)
        cache.remove_layer(image.layers[0])
    assert cache.get(name) is None and not image.layers[0].exists()
