import sys
from pathlib import Path

import pytest

# Test-support modules (harness, conformance loader) import by their plain names.
sys.path.insert(0, str(Path(__file__).parent / "support"))

from harness import CloudletProcess  # noqa: E402


@pytest.fixture(scope="session")
def cloudlet():
    """One real Cloudlet process for the session, with an ephemeral data directory."""
    server = CloudletProcess().start()
    yield server
    server.stop()


@pytest.fixture
def fresh_cloudlet(tmp_path):
    """Start Cloudlet processes with a data directory under tmp_path; stopped at the end."""
    started = []

    def start(**kwargs):
        kwargs.setdefault("data_dir", tmp_path / "data")
        server = CloudletProcess(**kwargs).start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()
