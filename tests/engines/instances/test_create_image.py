"""CreateImage at the engines' level: a stopped instance's root (its upper layer over the
image) flattened into a new image, from which a new instance boots with the changes, runs
its own user data (a new instance-id) and makes its own host keys."""

from __future__ import annotations

import os

from cloudlet.engines.images import ImageCache
from cloudlet.engines.instances.volumes import mounted_upper
from tests.engines.instances.support import cloud_init_done, root, ssh


def test_an_image_made_from_an_instance_boots_with_its_changes(launch, built_image):
    box = launch()
    assert root(box.net, box.key, "echo baked > /opt/baked && rm /etc/motd").returncode == 0
    old_key = root(box.net, box.key, "cat /etc/ssh/ssh_host_ed25519_key.pub").stdout
    box.engine.stop(box.id)

    cache = ImageCache()
    name = f"ami-test-{os.getpid()}"
    with mounted_upper(box.spec.root_volume) as upper:
        image = cache.flatten(name, [upper, *built_image.layers], "from an instance", "ec2-user")
    try:
        new = launch(layers=list(image.layers), user_data=b"#!/bin/sh\ntouch /root/new-user-data\n")
        cloud_init_done(new.net, new.key)
        done = root(new.net, new.key, "cat /opt/baked; test -e /etc/motd || echo no-motd; "
                                      "test -e /root/new-user-data && echo ran")
        assert done.stdout.split() == ["baked", "no-motd", "ran"], done.stderr
        new_key = ssh(new.net, new.key, "cat /etc/ssh/ssh_host_ed25519_key.pub").stdout
        assert new_key and new_key != old_key
        new.engine.stop(new.id)
    finally:
        cache.remove(name)
        cache.remove_layer(image.layers[0])
