from __future__ import annotations

import shutil
import threading
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from cloudlet.engines.instances import Engine, InstanceEvent, InstanceSpec
from tests.engines.instances.support import VethNet, make_key


class Events:
    def __init__(self):
        self.seen: list[InstanceEvent] = []
        self.changed = threading.Condition()

    def __call__(self, event: InstanceEvent):
        with self.changed:
            self.seen.append(event)
            self.changed.notify_all()

    def wait(self, instance_id: str, kind: str, timeout: float = 60, after: int = 0):
        """The first event of kind for instance_id, among those after the first `after`."""
        with self.changed:
            found = self.changed.wait_for(lambda: self._find(instance_id, kind, after), timeout)
        return found

    def _find(self, instance_id, kind, after):
        for event in self.seen[after:]:
            if event.instance_id == instance_id and event.kind == kind:
                return event
        return None


@dataclass
class Running:
    engine: Engine
    spec: InstanceSpec
    net: VethNet
    key: Path
    events: Events
    extra: dict = field(default_factory=dict)

    @property
    def id(self) -> str:
        return self.spec.instance_id


@pytest.fixture(scope="module")
def instance_engine(built_image, tmp_path_factory):
    events = Events()
    state = tmp_path_factory.mktemp("instances")
    engine = Engine(state, on_event=events, grace_seconds=5)
    missing = engine.status() or next(
        (f"{tool} is not installed" for tool in ("ip", "ssh", "ssh-keygen") if not shutil.which(tool)),
        None)
    if missing:
        pytest.skip(missing)
    engine.events = events
    yield engine
    engine.close()
    engine.reclaim()


@pytest.fixture(scope="module")
def ssh_key(tmp_path_factory):
    return make_key(tmp_path_factory.mktemp("ssh"))


@pytest.fixture
def launch(instance_engine, built_image, ssh_key, tmp_path):
    """launch(**spec fields) boots an instance in a fresh test network and waits for sshd."""
    started: list[Running] = []

    def start(wait: bool = True, **overrides) -> Running:
        net = VethNet.create()
        instance_id = "i-" + uuid.uuid4().hex[:17]
        fields = dict(instance_id=instance_id, layers=list(built_image.layers),
                      root_volume=tmp_path / f"{instance_id}.img", netns=net.netns,
                      hostname=f"ip-{net.address.replace('.', '-')}.ec2.internal",
                      public_keys=[ssh_key.with_suffix(".pub").read_text().strip()],
                      private_ip=net.address, nameserver=net.client_address,
                      memory_mib=512, vcpus=1)
        fields.update(overrides)
        spec = InstanceSpec(**fields)
        running = Running(instance_engine, spec, net, ssh_key, instance_engine.events)
        started.append(running)
        instance_engine.start(spec)
        if wait:
            assert instance_engine.wait_booted(instance_id, 60), instance_engine.console_output(instance_id)
        return running

    yield start
    for running in started:
        if running.id in instance_engine.running():
            instance_engine.stop(running.id, force=True)
        running.net.remove()
