"""The pieces of gateway/connections.py: the per-address count and the header watchdog."""

from __future__ import annotations

from cloudlet.gateway.connections import ClientConnections, HeaderWatchdog


def test_one_address_is_admitted_up_to_its_limit_and_again_once_one_leaves():
    clients = ClientConnections(2)
    assert clients.admit("127.0.0.1") and clients.admit("127.0.0.1")
    assert not clients.admit("127.0.0.1")
    assert clients.admit("127.0.0.2")
    clients.release("127.0.0.1")
    assert clients.admit("127.0.0.1")
    for _ in range(2):
        clients.release("127.0.0.1")
    clients.release("127.0.0.2")
    assert clients.open == {}


class Loop:
    def __init__(self):
        self.now = 100.0
        self.scheduled = []

    def time(self) -> float:
        return self.now

    def call_later(self, delay, callback, *args):
        self.scheduled.append((delay, callback, args))


class Connection:
    def __init__(self, since):
        self.waiting_since = since
        self.dropped = False

    def headers_late(self):
        self.dropped = True


def test_the_watchdog_drops_only_connections_past_the_deadline_and_sleeps_when_idle():
    loop, dog = Loop(), HeaderWatchdog(timeout=2.0)
    late, waiting, busy = Connection(97.0), Connection(99.0), Connection(None)
    connections = {late, waiting, busy}
    dog.watch(loop, connections)
    dog.watch(loop, connections)  # one timer per server, however many connections
    assert [delay for delay, _, _ in loop.scheduled] == [0.5]
    _, tick, args = loop.scheduled.pop()
    tick(*args)
    assert (late.dropped, waiting.dropped, busy.dropped) == (True, False, False)
    assert len(loop.scheduled) == 1  # it goes on while there are connections
    connections.clear()
    _, tick, args = loop.scheduled.pop()
    tick(*args)
    assert loop.scheduled == [] and not dog.running
    dog.watch(loop, {waiting})
    assert len(loop.scheduled) == 1
