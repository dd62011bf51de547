"""Deployment packages: hostile archives are refused with AWS's error, the size limits
hold, and what is accepted keeps its executable bits and inner links."""

from __future__ import annotations

import io
import json
import os
import stat
import struct
import zipfile

import pytest
from botocore.config import Config
from harness import error_of, unique

BAD_ZIP = "Could not unzip uploaded file. Please check your file, then try to upload again."
HANDLER = "def handler(event, context):\n    return 'ok'\n"
TRUST = {"Version": "2012-10-17", "Statement": [{
    "Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"},
    "Action": "sts:AssumeRole"}]}


@pytest.fixture(scope="module")
def lam(cloudlet):
    return cloudlet.client("lambda", config=Config(retries={"max_attempts": 1},
                                                   read_timeout=120))


@pytest.fixture(scope="module")
def role(cloudlet):
    iam = cloudlet.client("iam")
    return iam.create_role(RoleName=unique("code-role"),
                           AssumeRolePolicyDocument=json.dumps(TRUST))["Role"]["Arn"]


def entry(name: str, mode: int = 0o644, kind: int = stat.S_IFREG) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name)
    info.create_system = 3
    info.external_attr = (kind | mode) << 16
    return info


def archive(*members: tuple[zipfile.ZipInfo | str, bytes | str],
            compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression) as zf:
        zf.writestr("app.py", HANDLER)
        for info, body in members:
            zf.writestr(info, body)
    return buffer.getvalue()


def link(name: str, target: str) -> tuple[zipfile.ZipInfo, str]:
    return entry(name, 0o777, stat.S_IFLNK), target


def refused(lam, role, data: bytes) -> tuple[str, int, str]:
    return error_of(lam.create_function, FunctionName=unique("hostile"), Runtime="python3.12",
                    Role=role, Handler="app.handler", Code={"ZipFile": data})


def accepted(lam, role, data: bytes, runtime: str = "python3.12") -> dict:
    return lam.create_function(FunctionName=unique("ok"), Runtime=runtime, Role=role,
                               Handler="app.handler", Code={"ZipFile": data})


@pytest.mark.parametrize("data", [
    pytest.param(archive(("../escape.py", "x")), id="dot-dot"),
    pytest.param(archive(("lib/../../escape.py", "x")), id="dot-dot-inside"),
    pytest.param(archive(("/etc/cron.d/evil", "x")), id="absolute"),
    pytest.param(archive(("C:/evil.py", "x")), id="drive-letter"),
    pytest.param(archive(("lib\\..\\..\\evil.py", "x")), id="backslashes"),
    pytest.param(archive(link("passwd", "/etc/passwd")), id="symlink-absolute"),
    pytest.param(archive(link("lib/up", "../../outside")), id="symlink-relative-out"),
    pytest.param(archive(link("a/b/here", "../.."), link("chain", "a/b/here/../..")),
                 id="symlink-chain-out"),
    pytest.param(archive(link("dir", "/tmp"), ("dir/file.txt", "written through the link")),
                 id="write-through-symlink"),
    pytest.param(archive(link("up", "../../.."), link("up/planted", "anything")),
                 id="link-through-link"),
    pytest.param(b"PK\x03\x04" + os.urandom(300), id="garbage"),
    pytest.param(archive(("big.bin", b"\0" * 4096))[:-30], id="truncated"),
    pytest.param(b"", id="empty"),
    pytest.param(archive(("lib", "a file"), ("lib/inner.py", "x")), id="file-then-directory"),
    pytest.param(archive((("d" * 200 + "/") * 30 + "deep.py", "x")), id="path-too-long"),
])
def test_hostile_archives_are_refused(lam, role, data):
    code, status, message = refused(lam, role, data)
    assert (code, status, message) == ("InvalidParameterValueException", 400, BAD_ZIP)


def _lie_about_size(data: bytes, name: bytes, size: int) -> bytes:
    """Rewrite the uncompressed size of `name` in its local and central headers."""
    out = bytearray(data)
    local = out.find(b"PK\x03\x04")
    while local != -1:
        name_len = struct.unpack_from("<H", out, local + 26)[0]
        if bytes(out[local + 30:local + 30 + name_len]) == name:
            struct.pack_into("<I", out, local + 22, size)
        local = out.find(b"PK\x03\x04", local + 4)
    central = out.find(b"PK\x01\x02")
    while central != -1:
        name_len = struct.unpack_from("<H", out, central + 28)[0]
        if bytes(out[central + 46:central + 46 + name_len]) == name:
            struct.pack_into("<I", out, central + 24, size)
        central = out.find(b"PK\x01\x02", central + 4)
    return bytes(out)


def test_entry_larger_than_it_declares_is_refused(lam, role):
    honest = archive(("zeros.bin", b"\0" * 2_000_000))
    lying = _lie_about_size(honest, b"zeros.bin", 100)
    assert refused(lam, role, lying) == ("InvalidParameterValueException", 400, BAD_ZIP)


def test_zip_bomb_is_bounded_by_the_unzipped_limit(lam, role):
    bomb = _lie_about_size(archive(("bomb.bin", b"\0" * 1_000_000)), b"bomb.bin", 300_000_000)
    code, _, message = refused(lam, role, bomb)
    assert code == "InvalidParameterValueException"
    assert message == "Unzipped size must be smaller than 262144000 bytes"


def test_ratio_no_deflate_reaches_is_refused(lam, role):
    bomb = _lie_about_size(archive(("ratio.bin", b"\0" * 100_000)), b"ratio.bin", 200_000_000)
    assert refused(lam, role, bomb) == ("InvalidParameterValueException", 400, BAD_ZIP)


def test_more_than_250_mb_unzipped(lam, role):
    # 260 MB of zeros deflates to ~250 KB: honest headers, over the limit
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
        zf.writestr("app.py", HANDLER)
        with zf.open("zeros.bin", "w", force_zip64=True) as sink:
            block = b"\0" * (4 * 1024 * 1024)
            for _ in range(65):
                sink.write(block)
    code, _, message = refused(lam, role, buffer.getvalue())
    assert code == "InvalidParameterValueException"
    assert message == "Unzipped size must be smaller than 262144000 bytes"


def test_more_than_50_mb_zipped_direct_upload(lam, role):
    data = archive(("noise.bin", os.urandom(51 * 1024 * 1024)), compression=zipfile.ZIP_STORED)
    code, status, message = refused(lam, role, data)
    assert (code, status) == ("RequestEntityTooLargeException", 413)
    assert message == "Request must be smaller than 69905067 bytes for the CreateFunction operation"


def test_inner_links_and_modes_are_kept(cloudlet, lam, role):
    data = archive((entry("bootstrap", 0o755), "#!/bin/sh\necho hi\n"),
                   ("lib/real.py", "VALUE = 1\n"), link("lib/alias.py", "real.py"),
                   link("shortcut", "lib"))
    created = accepted(lam, role, data, runtime="provided.al2023")
    location = lam.get_function(FunctionName=created["FunctionName"])["Code"]["Location"]
    import urllib.request

    with urllib.request.urlopen(location) as response:
        assert response.read() == data


def test_accepted_package_runs_with_its_modes_and_links(lam, role):
    handler = ("import os\n"
               "def handler(event, context):\n"
               "    return {'via_link': open('shortcut/real.txt').read(),\n"
               "            'runnable': os.access('tool.sh', os.X_OK),\n"
               "            'plain': os.access('data.txt', os.X_OK)}\n")
    data = archive((entry("main.py"), handler), (entry("tool.sh", 0o755), "#!/bin/sh\n"),
                   ("data.txt", "x"), ("lib/real.txt", "through the link"),
                   link("shortcut", "lib"))
    name = lam.create_function(FunctionName=unique("links"), Runtime="python3.12", Role=role,
                               Handler="main.handler", Code={"ZipFile": data})["FunctionName"]
    lam.get_waiter("function_active_v2").wait(FunctionName=name, WaiterConfig={"Delay": 1})
    out = lam.invoke(FunctionName=name)
    body = json.loads(out["Payload"].read())
    assert "FunctionError" not in out, body
    assert body == {"via_link": "through the link", "runnable": True, "plain": False}


def test_same_code_twice_shares_its_digest(lam, role):
    data = archive(("lib/x.py", "X = 1\n"))
    first, second = accepted(lam, role, data), accepted(lam, role, data)
    assert first["CodeSha256"] == second["CodeSha256"]
    import base64
    import hashlib

    assert first["CodeSha256"] == base64.b64encode(hashlib.sha256(data).digest()).decode()


def _zeros_zip(megabytes: int) -> bytes:
    buffer = io.BytesIO()
    with (zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as zf,
          zf.open("python/zeros.bin", "w", force_zip64=True) as sink):
        block = b"\0" * (1024 * 1024)
        for _ in range(megabytes):
            sink.write(block)
    return buffer.getvalue()


def test_code_and_layers_together_stay_under_250_mb(lam, role):
    name = unique("heavy")
    arns = [lam.publish_layer_version(LayerName=name, Content={"ZipFile": _zeros_zip(130)})[
        "LayerVersionArn"] for _ in range(2)]
    code, _, message = error_of(lam.create_function, FunctionName=unique("heavy"),
                                Runtime="python3.12", Role=role, Handler="app.handler",
                                Code={"ZipFile": archive()}, Layers=arns)
    assert code == "InvalidParameterValueException"
    assert message.startswith("Function code combined with layers exceeds the maximum allowed "
                              "size of 262144000 bytes. The actual size is ")
    created = lam.create_function(FunctionName=unique("light"), Runtime="python3.12", Role=role,
                                  Handler="app.handler", Code={"ZipFile": archive()},
                                  Layers=arns[:1])
    lam.get_waiter("function_active_v2").wait(FunctionName=created["FunctionName"],
                                              WaiterConfig={"Delay": 1})
    code, _, _ = error_of(lam.update_function_configuration,
                          FunctionName=created["FunctionName"], Layers=arns)
    assert code == "InvalidParameterValueException"
    for number in (1, 2):
        lam.delete_layer_version(LayerName=name, VersionNumber=number)
