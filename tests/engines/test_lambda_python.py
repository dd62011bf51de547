"""LocalEngine with the python runtime: the handler contract, errors in AWS's shape, the
START/END/REPORT lines, warm reuse, Init Duration once, crashes, limits and the sandbox."""

from __future__ import annotations

import os
import re
import threading
import time
import uuid

import pytest

from cloudlet.engines.lambda_ import LocalEngine, sandbox
from tests.engines.test_lambda_support import body, call, spec, write_code

HELLO = """
import json, os
calls = 0

def handler(event, context):
    global calls
    calls += 1
    print("hello from", context.function_name)
    name = event.get("name", "world")
    return {"statusCode": 200, "body": f"Hello, {name}!", "calls": calls,
            "environment": os.environ["AWS_LAMBDA_LOG_STREAM_NAME"],
            "uid": os.getuid(), "request_id": context.aws_request_id,
            "memory": context.memory_limit_in_mb, "arn": context.invoked_function_arn,
            "remaining": context.get_remaining_time_in_millis(),
            "group": context.log_group_name, "stream": context.log_stream_name,
            "env": {k: v for k, v in os.environ.items()}}
"""


@pytest.fixture(scope="module")
def engine(tmp_path_factory):
    data = tmp_path_factory.mktemp("cloudlet-data")
    (data / "secret.txt").write_text("cloudlet's own")
    eng = LocalEngine(hidden_paths=(data,), idle_seconds=600)
    eng.data_dir = data
    yield eng
    eng.shutdown()


@pytest.fixture(scope="module")
def hello(engine, tmp_path_factory):
    code = write_code(tmp_path_factory.mktemp("hello"), {"app.py": HELLO})
    return spec(code, memory_mb=256, environment={"GREETING": "hi"},
                endpoint_url="http://127.0.0.1:4566",
                credentials=lambda: {"AccessKeyId": "ASIAEXAMPLE", "SecretAccessKey": "s",
                                     "SessionToken": "t", "Expiration": time.time() + 3600})


def test_hello_and_the_seed_handler(engine, hello):
    result = call(engine, hello, {"name": "Ada"})
    assert result.error is None, result.payload
    out = body(result)
    assert out["statusCode"] == 200 and out["body"] == "Hello, Ada!"
    assert out["request_id"] == result.request_id
    assert out["memory"] == "256"
    assert out["arn"] == hello.function_arn
    assert 0 < out["remaining"] <= 3000
    assert out["group"] == hello.log_group and out["stream"] == result.log_stream
    assert re.fullmatch(r"\d{4}/\d{2}/\d{2}/\[\$LATEST\][0-9a-f]{32}", result.log_stream)
    env = out["env"]
    assert env["AWS_LAMBDA_FUNCTION_NAME"] == hello.function_name
    assert env["AWS_LAMBDA_FUNCTION_VERSION"] == "$LATEST"
    assert env["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] == "256"
    assert env["_HANDLER"] == "app.handler"
    assert env["AWS_REGION"] == env["AWS_DEFAULT_REGION"] == "us-east-1"
    assert env["AWS_ACCESS_KEY_ID"] == "ASIAEXAMPLE" and env["AWS_SESSION_TOKEN"] == "t"
    assert env["AWS_ENDPOINT_URL"] == "http://127.0.0.1:4566"
    assert env["AWS_LAMBDA_RUNTIME_API"].startswith("127.0.0.1:")
    assert env["TZ"] == ":UTC" and env["AWS_EXECUTION_ENV"] == "AWS_Lambda_python3.11"
    assert env["GREETING"] == "hi"
    assert env["LAMBDA_TASK_ROOT"] == ("/var/task" if sandbox.mount_namespaces()
                                       else str(hello.code_dir))
    if os.geteuid() == 0:
        assert out["uid"] != 0


def test_boto3_is_importable(engine, tmp_path):
    code = write_code(tmp_path, {"app.py": """
        import boto3
        def handler(event, context):
            return boto3.__version__
    """})
    result = call(engine, spec(code))
    assert result.error is None, result.payload
    assert isinstance(body(result), str)


def test_log_lines_in_aws_format(engine, tmp_path):
    code = write_code(tmp_path, {"app.py": """
        print("init line")
        def handler(event, context):
            print("one")
            print("two")
            return None
    """})
    fn = spec(code)
    cold = call(engine, fn)
    assert cold.payload == b"null"
    rid = cold.request_id
    lines = cold.log_lines
    assert lines[0].startswith("INIT_START Runtime Version: ")
    start = lines.index(f"START RequestId: {rid} Version: $LATEST")
    assert "init line" in lines[:start]
    assert lines[start + 1:start + 3] == ["one", "two"]
    assert lines[-2] == f"END RequestId: {rid}"
    report = re.fullmatch(
        rf"REPORT RequestId: {rid}\tDuration: (\d+\.\d\d) ms\tBilled Duration: (\d+) ms\t"
        r"Memory Size: 128 MB\tMax Memory Used: (\d+) MB\tInit Duration: (\d+\.\d\d) ms\t",
        lines[-1])
    assert report, lines[-1]
    assert int(report.group(2)) >= float(report.group(1))
    assert int(report.group(3)) > 0 and cold.max_memory_mb == int(report.group(3))
    assert cold.init_ms is not None and cold.init_ms > 0
    warm = call(engine, fn)
    assert warm.init_ms is None
    assert "Init Duration" not in warm.log_lines[-1]
    assert warm.log_lines[0] == f"START RequestId: {warm.request_id} Version: $LATEST"
    assert warm.log_lines[1:3] == ["one", "two"]


def test_warm_reuse_keeps_process_and_globals(engine, hello):
    first = body(call(engine, hello))
    second = body(call(engine, hello))
    assert second["environment"] == first["environment"]
    assert second["calls"] == first["calls"] + 1


def test_function_error_in_aws_shape(engine, tmp_path):
    code = write_code(tmp_path, {"app.py": """
        def handler(event, context):
            raise ValueError("boom")
    """})
    result = call(engine, spec(code))
    assert result.error == "Unhandled" and result.error_type == "ValueError"
    err = body(result)
    assert err["errorMessage"] == "boom" and err["errorType"] == "ValueError"
    assert err["requestId"] == result.request_id
    assert any('app.py", line 2, in handler' in frame for frame in err["stackTrace"])
    assert "[ERROR] ValueError: boom" in result.log_lines


@pytest.mark.parametrize("files,handler,error_type,message", [
    ({"app.py": "x = 1\n"}, "missing.handler", "Runtime.ImportModuleError",
     "Unable to import module 'missing': No module named 'missing'"),
    ({"app.py": "x = 1\n"}, "app.handler", "Runtime.HandlerNotFound",
     "Handler 'handler' missing on module 'app'"),
    ({"app.py": "def handler(:\n"}, "app.handler", "Runtime.UserCodeSyntaxError",
     "Syntax error in module 'app': invalid syntax"),
    ({"app.py": "x = 1\n"}, "nodot", "Runtime.MalformedHandlerName",
     "Bad handler 'nodot': not enough values to unpack (expected 2, got 1)"),
])
def test_init_errors(engine, tmp_path, files, handler, error_type, message):
    result = call(engine, spec(write_code(tmp_path, files), handler=handler))
    assert result.error == "Unhandled" and result.error_type == error_type
    err = body(result)
    assert err["errorType"] == error_type
    assert err["errorMessage"].startswith(message)
    assert any(line.startswith(f"[ERROR] {error_type}") for line in result.log_lines)


def test_unserializable_response_is_a_marshal_error(engine, tmp_path):
    code = write_code(tmp_path, {"app.py": "def handler(e, c):\n    return {1, 2}\n"})
    result = call(engine, spec(code))
    assert result.error_type == "Runtime.MarshalError"
    assert body(result)["errorMessage"].startswith("Unable to marshal response:")


def test_timeout(engine, tmp_path):
    code = write_code(tmp_path, {"app.py": """
        import os, time
        def handler(event, context):
            time.sleep(event.get("sleep", 0))
            return os.environ["AWS_LAMBDA_LOG_STREAM_NAME"]
    """})
    fn = spec(code, timeout_s=1.0)
    pid = body(call(engine, fn))
    result = call(engine, fn, {"sleep": 30})
    assert result.error == "Unhandled" and result.error_type == "Sandbox.Timedout"
    err = body(result)
    assert err == {"errorType": "Sandbox.Timedout",
                   "errorMessage": f"RequestId: {result.request_id} Error: Task timed out "
                                   "after 1.00 seconds"}
    assert any(line.endswith(f"{result.request_id} Task timed out after 1.00 seconds")
               for line in result.log_lines)
    assert "Status: timeout" in result.log_lines[-1]
    again = call(engine, fn)  # a new environment, with its own Init Duration
    assert again.error is None and body(again) != pid and again.init_ms is not None


def test_crash_is_replaced(engine, tmp_path):
    code = write_code(tmp_path, {"app.py": """
        import os
        def handler(event, context):
            if event.get("die"):
                os._exit(3)
            return os.environ["AWS_LAMBDA_LOG_STREAM_NAME"]
    """})
    fn = spec(code)
    pid = body(call(engine, fn))
    crash = call(engine, fn, {"die": True})
    assert crash.error == "Unhandled" and crash.error_type == "Runtime.ExitError"
    assert body(crash)["errorMessage"] == (f"RequestId: {crash.request_id} Error: Runtime "
                                           "exited with error: exit status 3")
    after = call(engine, fn)
    assert after.error is None and body(after) != pid and after.init_ms is not None


def test_memory_overflow_is_killed(engine, tmp_path):
    code = write_code(tmp_path, {"app.py": """
        def handler(event, context):
            hog = []
            for _ in range(64):
                hog.append(bytearray(16 * 1024 * 1024))
                hog[-1][::4096] = b"x" * (16 * 1024 * 1024 // 4096)
            return len(hog)
    """})
    result = call(engine, spec(code, memory_mb=128, timeout_s=20))
    assert result.error == "Unhandled"
    err = body(result)
    if sandbox.Cgroups().version:
        assert result.error_type == "Runtime.ExitError"
        assert err["errorMessage"] == (f"RequestId: {result.request_id} Error: Runtime exited "
                                       "with error: signal: killed")
    else:  # RLIMIT_DATA: the allocation fails inside the function
        assert err["errorType"] in ("MemoryError", "Runtime.ExitError")


def test_a_fast_memory_spike_is_killed_too(engine, tmp_path):
    code = write_code(tmp_path, {"app.py": """
        def handler(event, context):
            hog = bytearray(b"x" * (200 * 1024 * 1024))
            return len(hog)
    """})
    result = call(engine, spec(code, memory_mb=128))
    if sandbox.Cgroups().version:
        assert result.error_type == "Runtime.ExitError", result.payload
        assert body(result)["errorMessage"].endswith("Runtime exited with error: signal: killed")
        assert result.max_memory_mb > 128


def test_tmp_is_private_and_limited(engine, tmp_path):
    code = write_code(tmp_path, {"app.py": """
        import os, tempfile
        def handler(event, context):
            tmp = tempfile.gettempdir()
            mine = os.path.join(tmp, "mine.txt")
            if event.get("write"):
                with open(mine, "w") as f:
                    f.write(event["write"])
            seen = sorted(os.listdir(tmp))
            try:
                with open(os.path.join(tmp, "big"), "wb") as f:
                    for _ in range(event.get("mb", 0)):
                        f.write(b"x" * 1024 * 1024)
                full = False
            except OSError:
                full = True
            finally:
                if os.path.exists(os.path.join(tmp, "big")):
                    os.remove(os.path.join(tmp, "big"))
            read_only = []
            for path in ("/var/task/new.txt", "/var/tmp/new.txt", "/opt/new.txt"):
                try:
                    open(path, "w").close()
                except OSError as e:
                    read_only.append(e.errno)
            return {"seen": seen, "full": full, "read_only": read_only}
    """})
    a = spec(code, ephemeral_mb=16, memory_mb=256)
    b = spec(code, ephemeral_mb=16, memory_mb=256)
    assert body(call(engine, a, {"write": "a"}))["seen"] == ["mine.txt"]
    assert body(call(engine, b))["seen"] == []
    if sandbox.mount_namespaces():
        assert body(call(engine, a))["read_only"] == [30, 30, 30]  # EROFS, as on AWS
        assert body(call(engine, a, {"mb": 32}))["full"] is True
        assert body(call(engine, a, {"mb": 8}))["full"] is False


@pytest.mark.skipif(os.geteuid() != 0, reason="isolation by uid needs root")
def test_unprivileged_and_isolated(engine, tmp_path):
    secret_dir = tmp_path / "root-only"
    secret_dir.mkdir()
    (secret_dir / "key").write_text("secret")
    os.chmod(secret_dir, 0o700)
    os.chmod(tmp_path, 0o755)
    marker = f"other-{uuid.uuid4().hex}"
    other_code = write_code(tmp_path / "other", {"app.py": f"""
        import time
        SECRET = "{marker}"
        def handler(event, context):
            return 1
    """})
    other = spec(other_code, environment={"SECRET": marker})
    assert body(call(engine, other)) == 1  # alive and warm while the other function looks
    code = write_code(tmp_path / "mine", {"app.py": """
        import os
        def handler(event, context):
            out = {"uid": os.getuid(), "seen": []}
            for name, path in event["files"].items():
                try:
                    with open(path) as f:
                        out[name] = f.read()
                except OSError as e:
                    out[name] = type(e).__name__
            for pid in filter(str.isdigit, os.listdir("/proc")):  # every process it can see
                for what in ("environ", "root/var/task/app.py"):
                    try:
                        with open(f"/proc/{pid}/{what}", "rb") as f:
                            if event["marker"].encode() in f.read():
                                out["seen"].append(f"/proc/{pid}/{what}")
                    except OSError:
                        pass
            return out
    """})
    probes = {"root_only": str(secret_dir / "key"),
              "data_dir": str(engine.data_dir / "secret.txt"),
              "own_code": "app.py"}
    out = body(call(engine, spec(code), {"files": probes, "marker": marker}))
    assert out["uid"] != 0
    assert out["own_code"].startswith("import os")
    for name in ("root_only", "data_dir"):
        assert out[name] in ("PermissionError", "FileNotFoundError"), (name, out[name])
    assert out["seen"] == []  # neither the other function's code nor its environment


def test_concurrent_invokes_run_in_parallel(engine, tmp_path):
    code = write_code(tmp_path, {"app.py": """
        import os, time
        def handler(event, context):
            time.sleep(0.05)
            return os.environ["AWS_LAMBDA_LOG_STREAM_NAME"]
    """})
    fn = spec(code)
    results, durations = [], []
    lock = threading.Lock()

    def one():
        result = call(engine, fn)
        with lock:
            results.append(result)
            durations.append(result.duration_ms)

    threads = [threading.Thread(target=one) for _ in range(20)]
    for t in threads:
        t.start()
    peak = 0
    while any(t.is_alive() for t in threads):
        peak = max(peak, engine.active(fn.key))
        time.sleep(0.002)
    for t in threads:
        t.join()
    assert all(r.error is None for r in results), [r.payload for r in results if r.error]
    assert len({body(r) for r in results}) > 1  # more than one environment
    assert peak > 1 and engine.active(fn.key) == 0
    print(f"20 parallel 50 ms invokes: max duration {max(durations):.1f} ms, "
          f"environments {len({body(r) for r in results})}")


def test_retire_and_idle_reaping(tmp_path):
    code = write_code(tmp_path, {"app.py": "import os\ndef handler(e, c):\n"
                                 "    return os.environ['AWS_LAMBDA_LOG_STREAM_NAME']\n"})
    eng = LocalEngine(idle_seconds=0.3)
    try:
        fn = spec(code)
        first = body(call(eng, fn))
        assert body(call(eng, fn)) == first
        deadline = time.monotonic() + 10
        while eng.environments(fn.key) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert eng.environments(fn.key) == 0
        assert body(call(eng, fn)) != first
        eng.retire(fn.key.split(":$LATEST")[0])
        assert eng.environments(fn.key) == 0
    finally:
        eng.shutdown()


def test_runtime_version_reported_honestly(engine, hello):
    info = engine.runtime_info("python3.99")
    assert info["Matches"] is False and "python3.99 runs on the host's Python" in info["Message"]
    result = call(engine, spec(hello.code_dir, runtime="python3.99"))
    assert result.error is None
    assert any(line.startswith("Cloudlet: python3.99 runs on the host's Python")
               for line in result.log_lines)


def test_layers_merged_under_opt(engine, tmp_path):
    one = write_code(tmp_path / "layer1", {"python/shared.py": "WHO = 'layer one'\n",
                                          "data/a.txt": "from one"})
    two = write_code(tmp_path / "layer2", {"python/shared.py": "WHO = 'layer two'\n",
                                          "data/b.txt": "from two"})
    code = write_code(tmp_path / "code", {"app.py": """
        import os, shared
        def handler(event, context):
            return {"who": shared.WHO, "opt": sorted(os.listdir("/opt/data"))}
    """})
    if not sandbox.mount_namespaces():
        pytest.skip("layers are merged under /opt only in a mount namespace")
    single = body(call(engine, spec(code, layer_dirs=(one,))))
    assert single == {"who": "layer one", "opt": ["a.txt"]}
    both = body(call(engine, spec(code, layer_dirs=(one, two))))
    assert both == {"who": "layer two", "opt": ["a.txt", "b.txt"]}


def test_credentials_near_expiry_get_a_fresh_environment(engine, tmp_path):
    code = write_code(tmp_path, {"app.py": """
        import os
        def handler(event, context):
            return [os.environ["AWS_LAMBDA_LOG_STREAM_NAME"], os.environ["AWS_SESSION_TOKEN"]]
    """})
    issued = []

    def credentials():
        issued.append(len(issued))
        # expires in 30 s: too soon to keep the environment for another invocation
        return {"AccessKeyId": "ASIA", "SecretAccessKey": "s", "SessionToken": f"t{len(issued)}",
                "Expiration": time.time() + 30}

    fn = spec(code, credentials=credentials)
    first, second = body(call(engine, fn)), body(call(engine, fn))
    assert first[0] != second[0] and first[1] != second[1] and len(issued) == 2


def test_response_over_6_mb(engine, tmp_path):
    code = write_code(tmp_path, {"app.py": "def handler(e, c):\n    return 'x' * (7 * 1024 * 1024)\n"})
    result = call(engine, spec(code, memory_mb=512))
    assert result.error == "Unhandled" and result.error_type == "Function.ResponseSizeTooLarge"
    assert body(result)["errorMessage"] == ("Response payload size exceeded maximum allowed "
                                            "payload size (6291556 bytes).")


@pytest.mark.parametrize("setting", ["CLOUDLET_LAMBDA_ZYGOTE", "CLOUDLET_LAMBDA_SANDBOX"])
def test_without_zygote_or_namespaces(monkeypatch, tmp_path, setting):
    """The shell path (unshare, mount, setpriv) and the no-namespace path (TMPDIR) work too."""
    monkeypatch.setenv(setting, "off")
    code = write_code(tmp_path / "code", {"app.py": """
        import os, tempfile
        def handler(event, context):
            if event.get("fail"):
                raise KeyError("nope")
            path = os.path.join(tempfile.gettempdir(), "x")
            with open(path, "w") as f:
                f.write("ok")
            return {"uid": os.getuid(), "tmp": tempfile.gettempdir(), "pid": os.environ["AWS_LAMBDA_LOG_STREAM_NAME"],
                    "root": os.environ["LAMBDA_TASK_ROOT"]}
    """})
    eng = LocalEngine()
    try:
        fn = spec(code)
        out = body(call(eng, fn))
        again = call(eng, fn)
        assert body(again).get("pid") == out["pid"], (again.payload, again.log_lines)
        if os.geteuid() == 0:
            assert out["uid"] != 0
        if setting == "CLOUDLET_LAMBDA_SANDBOX":
            assert out["root"] != "/var/task" and out["tmp"] != "/tmp"
        else:
            assert out["root"] == "/var/task" and out["tmp"] == "/tmp"
        failed = call(eng, fn, {"fail": True})
        assert failed.error_type == "KeyError" and body(failed)["errorMessage"] == "'nope'"
    finally:
        eng.shutdown()


def test_an_environment_that_cannot_start_is_a_result(engine, hello):
    def broken():
        raise RuntimeError("STS is down")

    result = call(engine, spec(hello.code_dir, credentials=broken))
    assert result.error == "Unhandled" and result.error_type == "Runtime.Unknown"
    assert "STS is down" in body(result)["errorMessage"]


def test_logging_as_aws_writes_it(engine, tmp_path):
    code = write_code(tmp_path, {"app.py": """
        import logging
        logger = logging.getLogger()
        logger.setLevel(logging.INFO)
        def handler(event, context):
            logger.info("two\\nlines")
            logging.getLogger("child").warning("careful")
            return 1
    """})
    result = call(engine, spec(code))
    assert result.log_lines[0].startswith("INIT_START Runtime Version: python:3.")
    rid = result.request_id
    info = [line for line in result.log_lines if line.startswith("[INFO]")]
    assert len(info) == 1 and re.fullmatch(
        rf"\[INFO\]\t\d{{4}}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{{3}}Z\t{rid}\ttwo\rlines", info[0])
    assert any(line.startswith("[WARNING]\t") and line.endswith(f"\t{rid}\tcareful")
               for line in result.log_lines)


@pytest.mark.skipif(os.geteuid() != 0, reason="isolation by uid needs root")
def test_another_functions_runtime_api_is_closed(engine, tmp_path):
    """A function that posts an init error to another environment's Runtime API, while that
    one is still in its init, must not fail it: the other's API is in another namespace (the
    same address reaches the thief's own), or, without namespaces, refuses other uids."""
    victim = write_code(tmp_path / "victim", {"app.py": """
        import os, time
        time.sleep(3)
        def handler(event, context):
            return os.environ["AWS_LAMBDA_RUNTIME_API"]
    """})
    victim_spec = spec(victim, timeout_s=10)
    outcome = []
    cold = threading.Thread(target=lambda: outcome.append(call(engine, victim_spec)))
    cold.start()
    victim_api = None
    deadline = time.monotonic() + 5
    while victim_api is None and time.monotonic() < deadline:
        with engine._lock:
            found = [e for e in engine._busy if e.spec.key == victim_spec.key]
        victim_api = found[0].api.address if found else None
        time.sleep(0.01)
    code = write_code(tmp_path / "thief", {"app.py": """
        import urllib.request
        def handler(event, context):
            url = "http://" + event["api"] + "/2018-06-01/runtime/init/error"
            request = urllib.request.Request(url, data=b'{"errorMessage": "stolen"}',
                                             headers={"Lambda-Runtime-Function-Error-Type": "Thief"})
            try:
                with urllib.request.urlopen(request, timeout=2):
                    return "served"
            except Exception as e:
                return type(e).__name__
    """})
    out = body(call(engine, spec(code, timeout_s=5), {"api": victim_api}))
    cold.join(15)
    assert outcome and outcome[0].error is None, (out, outcome and outcome[0].payload)
    assert body(outcome[0]) == victim_api
    assert out in ("RemoteDisconnected", "ConnectionResetError", "URLError", "HTTPError"), out
