"""The AWS CLI against Cloudlet's Logs: write, read, filter."""

import json
import time

from harness import unique


def test_cli_round_trip(cloudlet):
    group = unique("/cli/app")
    cloudlet.aws("logs", "create-log-group", "--log-group-name", group)
    cloudlet.aws("logs", "create-log-stream", "--log-group-name", group,
                 "--log-stream-name", "s")
    now = int(time.time() * 1000)
    events = json.dumps([{"timestamp": now, "message": "INFO up"},
                         {"timestamp": now + 1, "message": "ERROR down"}])
    cloudlet.aws("logs", "put-log-events", "--log-group-name", group, "--log-stream-name", "s",
                 "--log-events", events)
    found = json.loads(cloudlet.aws("logs", "filter-log-events", "--log-group-name", group,
                                    "--filter-pattern", "ERROR").stdout)
    assert [e["message"] for e in found["events"]] == ["ERROR down"]
