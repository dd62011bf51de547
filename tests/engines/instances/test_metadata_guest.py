"""IMDS as a real instance reads it: a booted instance (the engine's, in a test network) asks
169.254.169.254, served from its client namespace by Cloudlet's IMDS server, and cloud-init's
own Ec2 crawler (the code its Ec2 datasource runs) walks the tree, with IMDSv2 tokens."""

from __future__ import annotations

import json
import subprocess

import pytest

from cloudlet.engines.network import netns
from cloudlet.services.ec2.compute.metadata_handler import MetadataHandler, Tokens
from cloudlet.services.ec2.compute.metadata_http import MetadataServers
from tests.engines.instances.support import root
from tests.services.ec2_instances import instance
from tests.services.test_ec2_metadata import facts

CRAWL = r"""
import json, sys
from cloudinit import url_helper
from cloudinit.sources.helpers import ec2
base = "http://169.254.169.254"
token = url_helper.readurl(base + "/latest/api/token", request_method="PUT",
    headers={"X-aws-ec2-metadata-token-ttl-seconds": "21600"}, timeout=5).contents.decode()
headers = lambda url: {"X-aws-ec2-metadata-token": token}
version = "2021-03-23"
print(json.dumps({
    "meta": ec2.get_instance_metadata(version, base, headers_cb=headers, retries=0),
    "user": ec2.get_instance_userdata(version, base, headers_cb=headers, retries=0).decode(),
    "identity": ec2.get_instance_identity(version, base, headers_cb=headers, retries=0),
}))
"""


@pytest.fixture
def imds_for(launch):
    servers = MetadataServers()
    stops = []

    def serve(box, doc):
        net = box.net
        subprocess.run(["ip", "-n", net.client_ns, "addr", "add", "169.254.169.254/32", "dev",
                        "lo"], check=True, capture_output=True)
        subprocess.run(["ip", "-n", net.instance_ns, "route", "add", "169.254.169.254/32",
                        "via", net.client_address], check=True, capture_output=True)
        sock = netns.socket(net.client_ns)
        sock.bind(("169.254.169.254", 80))
        sock.listen(16)
        doc["PrivateIpAddress"] = net.address
        served = facts(doc)
        stops.append(servers.serve(sock, MetadataHandler(
            lambda peer: served if peer == net.address else None, Tokens())))
        return served

    yield serve
    for stop in stops:
        stop()
    servers.close()


def test_cloud_init_crawls_the_tree_with_tokens(launch, imds_for):
    box = launch()
    doc = instance()
    doc["MetadataOptions"]["HttpTokens"] = "required"
    imds_for(box, doc)
    done = root(box.net, box.key, f"python3 -c '{CRAWL}'")
    assert done.returncode == 0, done.stderr
    crawled = json.loads(done.stdout)
    meta = crawled["meta"]
    assert meta["instance-id"] == "i-0123456789abcdef0"
    assert meta["local-ipv4"] == box.net.address
    assert meta["placement"]["availability-zone"] == "us-east-1a"
    assert meta["public-keys"]["my-key"].startswith("ssh-ed25519 ")
    assert meta["block-device-mapping"] == {"ami": "/dev/xvda", "ebs1": "sdf", "root": "/dev/xvda"}
    mac = meta["network"]["interfaces"]["macs"]["0e:49:61:0f:c3:11"]
    assert mac["vpc-ipv4-cidr-blocks"] == ["10.0.0.0/16", "10.1.0.0/16"]
    assert mac["security-group-ids"] == ["sg-0ccccccccccccccc1", "sg-0ccccccccccccccc2"]
    assert meta["iam"]["info"]["Code"] == "Success"
    assert "security-credentials" not in meta["iam"]  # cloud-init never crawls them
    assert crawled["user"] == "#!/bin/sh\necho hello > /tmp/hello\n"
    assert crawled["identity"]["document"]["instanceId"] == "i-0123456789abcdef0"


def test_without_a_token_a_required_instance_gets_401(launch, imds_for):
    box = launch()
    doc = instance()
    doc["MetadataOptions"]["HttpTokens"] = "required"
    imds_for(box, doc)
    done = root(box.net, box.key, "curl -s -o /dev/null -w '%{http_code}' "
                                  "http://169.254.169.254/latest/meta-data/")
    assert done.stdout == "401", done.stderr
