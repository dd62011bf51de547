import pytest
from fabric_support import Listener, new_fabric


@pytest.fixture
def fabric():
    fabric = new_fabric()
    yield fabric
    fabric.teardown()


@pytest.fixture
def listen(fabric):
    """Start listeners (closed at the end): listen(where, address, port, reply=b"hello")."""
    started = []

    def start(where, address, port, reply=b"hello"):
        listener = Listener(fabric, where, address, port, reply)
        started.append(listener)
        return listener

    yield start
    for listener in started:
        listener.close()
