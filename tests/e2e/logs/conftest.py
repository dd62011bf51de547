import pytest
from harness import unique


@pytest.fixture
def logs(cloudlet):
    return cloudlet.client("logs")


@pytest.fixture
def stream(logs):
    """A fresh (group, stream) pair."""
    group, name = unique("/test/group"), unique("stream")
    logs.create_log_group(logGroupName=group)
    logs.create_log_stream(logGroupName=group, logStreamName=name)
    return group, name
