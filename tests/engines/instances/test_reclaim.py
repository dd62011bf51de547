"""kill -9 of the process that owns the engine: every process of its instances dies with it,
and reclaim() at the next start removes the rest (cgroups, loop devices, run files)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

from cloudlet.engines.instances import Engine
from cloudlet.engines.instances.volumes import backing_file, create_data_volume
from tests.engines.instances.support import VethNet, wait_for

OWNER = textwrap.dedent("""
    import json, sys, time
    from pathlib import Path
    from cloudlet.engines.instances import Engine, InstanceSpec
    args = json.loads(sys.argv[1])
    engine = Engine(Path(args["state"]))
    spec = InstanceSpec(instance_id="i-0feedfacefeedface", layers=[Path(p) for p in args["layers"]],
                        root_volume=Path(args["root"]), netns=args["netns"], hostname="doomed")
    engine.start(spec)
    assert engine.wait_booted(spec.instance_id, 60)
    loop = engine.attach_volume(spec.instance_id, Path(args["volume"]), "/dev/xvdf")
    box = engine._get(spec.instance_id)
    print(json.dumps({"pid1": box.pid1, "pids": box.group.pids(), "loop": loop,
                      "groups": [str(p) for p in box.group.dirs.values()]}), flush=True)
    time.sleep(600)
""")


def test_kill_9_of_the_owner_leaves_nothing_running_after_reclaim(built_image, tmp_path):
    engine = Engine(tmp_path / "state")
    if engine.status():
        import pytest

        pytest.skip(engine.status())
    net = VethNet.create()
    try:
        volume = tmp_path / "data.img"
        create_data_volume(volume, 1)
        import cloudlet

        args = {"state": str(tmp_path / "state"), "layers": [str(p) for p in built_image.layers],
                "root": str(tmp_path / "root.img"), "netns": net.netns, "volume": str(volume)}
        env = {**os.environ, "PYTHONPATH": str(Path(cloudlet.__file__).parent.parent)}
        owner = subprocess.Popen([sys.executable, "-c", OWNER, json.dumps(args)],
                                 stdout=subprocess.PIPE, text=True, env=env)
        try:
            line = owner.stdout.readline()
            assert line, "the owner did not boot its instance"
            seen = json.loads(line)
            assert Path(f"/proc/{seen['pid1']}").exists() and len(seen["pids"]) >= 3
        finally:
            os.kill(owner.pid, signal.SIGKILL)
            owner.wait()
        assert wait_for(lambda: not any(Path(f"/proc/{p}").exists() for p in seen["pids"]), 10)
        assert backing_file(seen["loop"]) == str(volume)  # still attached: for reclaim

        found = engine.reclaim()
        assert "i-0feedfacefeedface" in found
        assert backing_file(seen["loop"]) is None
        assert not any(Path(g).exists() for g in seen["groups"])
        assert not (tmp_path / "state" / "run" / "i-0feedfacefeedface").exists()
    finally:
        net.remove()
