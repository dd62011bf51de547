"""Where the host cannot run instances, the engine says what is missing and runs nothing."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

STATUS = """
import sys
from pathlib import Path
from cloudlet.engines.instances import Engine, InstanceError, InstanceSpec
engine = Engine(Path(sys.argv[1]))
print(engine.status())
try:
    engine.start(InstanceSpec("i-0123456789abcdef0", [], Path(sys.argv[1]) / "r.img", "/run/netns/x"))
except InstanceError as e:
    print("refused:", e)
"""


def test_without_root_status_says_so_and_start_refuses(tmp_path):
    if os.geteuid() != 0 or not shutil.which("setpriv"):
        pytest.skip("needs root to become another user")
    import cloudlet

    tmp_path.chmod(0o777)
    env = {"PYTHONPATH": str(Path(cloudlet.__file__).parent.parent), "PATH": os.environ["PATH"]}
    done = subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                           sys.executable, "-c", STATUS, str(tmp_path)],
                          capture_output=True, text=True, env=env, timeout=60)
    lines = done.stdout.splitlines()
    assert lines == ["instances need root (namespaces, loop devices, overlayfs)",
                     "refused: instances need root (namespaces, loop devices, overlayfs)"], done.stderr


def test_on_this_host_nothing_is_missing(instance_engine):
    assert instance_engine.status() is None
