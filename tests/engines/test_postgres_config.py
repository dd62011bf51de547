"""The PostgreSQL engine's configuration helpers, without a server."""

from __future__ import annotations

from pathlib import Path

import pytest

from cloudlet.engines.db import postgres_config as conf
from cloudlet.engines.db.server import ServerSpec


@pytest.mark.parametrize(("value", "shape", "ok"), [
    ("on", ("bool", "", "", "", ""), True),
    ("maybe", ("bool", "", "", "", ""), False),
    ("replica", ("enum", "", "", "", "minimal,replica,logical"), True),
    ("LOGICAL", ("enum", "", "", "", "minimal,replica,logical"), True),
    ("archive", ("enum", "", "", "", "minimal,replica,logical"), False),
    ("8192", ("integer", "64", "2147483647", "kB", ""), True),
    ("8MB", ("integer", "64", "2147483647", "kB", ""), True),
    ("8 parsecs", ("integer", "64", "2147483647", "kB", ""), False),
    ("10", ("integer", "64", "2147483647", "kB", ""), False),
    ("1.5", ("integer", "1", "100", "", ""), False),
    ("0.2", ("real", "0", "100", "", ""), True),
    ("lots", ("real", "0", "100", "", ""), False),
    ("anything at all", ("string", "", "", "", ""), True),
])
def test_values_are_checked_like_the_server_does(value, shape, ok):
    assert conf.valid_value(value, *shape) is ok


def test_sizing_follows_rds_formulas_within_the_caps():
    assert conf.shared_buffers_mb(256) == 64
    assert conf.shared_buffers_mb(16384) == conf.SHARED_BUFFERS_CAP_MB
    assert conf.max_connections(1024) == 112          # 1 GiB / 9531392
    assert conf.max_connections(1 << 20) == conf.MAX_CONNECTIONS_CAP


def test_the_synchronous_list_round_trips():
    value = conf.synchronous_standby_names(["a_1", "b_2"])
    assert value == 'ANY 1 ("a_1", "b_2")'
    assert conf.standbys_of(value) == ["a_1", "b_2"]
    assert conf.standbys_of("") == []


def test_recovery_targets_are_exact_utc_timestamps():
    assert conf.iso(1700000000.25) == "2023-11-14 22:13:20.250000+00"


def test_settings_are_quoted_and_the_archive_is_enforced():
    spec = ServerSpec(data_dir=Path("/d"), port=5555, master_username="m", master_password="p",
                      archive_dir=Path("/arch ive"), parameters={"port": "1", "work_mem": "it's"})
    text = conf.main_conf(spec, Path("/s"), ssl=True)
    assert "port = '5555'" in text and "archive_command = 'if [ -f ''/arch ive''/%f ]" in text
    assert text.index("include_if_exists") < text.index("port = ")   # enforced after the group
    assert conf.parameters_conf(spec.parameters, {"port"}).splitlines()[1:] == [
        "work_mem = 'it''s'"]
    assert "hostssl" in conf.hba_conf(ssl_only=True)
    assert "reject" not in conf.hba_conf(ssl_only=False)
