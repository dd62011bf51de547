"""LocalEngine with the other runtimes: Node.js (CommonJS, ES modules, async and callback
handlers), provided.al2023 (a shell bootstrap), and AWS's own runtime interface client, awslambdaric."""

from __future__ import annotations

import shutil
import sys

import pytest

from cloudlet.engines.lambda_ import LocalEngine, sandbox
from tests.engines.test_lambda_support import body, call, spec, write_code

# In a sandbox the host's site-packages may be covered (under /tmp); boto3's directory,
# where awslambdaric is installed too, is bound at /var/runtime/site-packages.
SITE = ":".join(["/var/runtime/site-packages",
                 *(p for p in sys.path if p.endswith("-packages"))])
needs_node = pytest.mark.skipif(not shutil.which("node"), reason="no Node.js on this host")


@pytest.fixture(scope="module")
def engine():
    eng = LocalEngine(idle_seconds=600)
    yield eng
    eng.shutdown()


@needs_node
def test_node_commonjs_async(engine, tmp_path):
    code = write_code(tmp_path, {"index.js": """
        let calls = 0;
        exports.handler = async (event, context) => {
          calls += 1;
          console.log("hello", event.name);
          return { statusCode: 200, body: `Hello, ${event.name}!`, calls,
                   id: context.awsRequestId, fn: context.functionName,
                   remaining: context.getRemainingTimeInMillis() };
        };
    """})
    fn = spec(code, handler="index.handler", runtime="nodejs20.x")
    result = call(engine, fn, {"name": "Ada"})
    assert result.error is None, result.payload
    out = body(result)
    assert out["body"] == "Hello, Ada!" and out["id"] == result.request_id
    assert out["fn"] == fn.function_name and 0 < out["remaining"] <= 3000
    assert any(line.endswith(f"\t{result.request_id}\tINFO\thello Ada")
               for line in result.log_lines)
    assert result.init_ms is not None
    again = call(engine, fn, {"name": "Bo"})
    assert body(again)["calls"] == 2 and again.init_ms is None


@needs_node
def test_node_esm_and_callback(engine, tmp_path):
    esm = write_code(tmp_path / "esm", {"app.mjs": """
        export const handler = async (event) => ({ esm: true, got: event.x });
    """})
    result = call(engine, spec(esm, handler="app.handler", runtime="nodejs20.x"), {"x": 1})
    assert body(result) == {"esm": True, "got": 1}
    cb = write_code(tmp_path / "cb", {"index.js": """
        exports.handler = (event, context, callback) => {
          setTimeout(() => callback(null, { callback: true }), 5);
        };
    """})
    result = call(engine, spec(cb, handler="index.handler", runtime="nodejs20.x"))
    assert body(result) == {"callback": True}


@needs_node
def test_node_errors(engine, tmp_path):
    code = write_code(tmp_path, {"index.js": """
        exports.handler = async () => { throw new TypeError("bad thing"); };
    """})
    result = call(engine, spec(code, handler="index.handler", runtime="nodejs20.x"))
    assert result.error == "Unhandled"
    err = body(result)
    assert err["errorType"] == "TypeError" and err["errorMessage"] == "bad thing"
    assert isinstance(err["trace"], list)
    assert any(f"\t{result.request_id}\tERROR\tInvoke Error \t" in line
               for line in result.log_lines)
    missing = call(engine, spec(code, handler="nope.handler", runtime="nodejs20.x"))
    assert body(missing)["errorType"] == "Runtime.ImportModuleError"
    not_found = call(engine, spec(code, handler="index.other", runtime="nodejs20.x"))
    assert body(not_found)["errorType"] == "Runtime.HandlerNotFound"
    assert body(not_found)["errorMessage"] == "index.other is undefined or not exported"


def test_provided_shell_bootstrap(engine, tmp_path):
    # a bootstrap in shell, with the Runtime API spoken by the host's python for HTTP
    code = write_code(tmp_path, {"bootstrap": f"""
        #!/bin/sh
        set -e
        API="http://$AWS_LAMBDA_RUNTIME_API/2018-06-01/runtime"
        while true; do
          {sandbox.host_python()[0]} -S -c '
        import json, os, sys, urllib.request
        api = sys.argv[1]
        with urllib.request.urlopen(api + "/invocation/next") as r:
            rid = r.headers["Lambda-Runtime-Aws-Request-Id"]
            event = json.loads(r.read())
        print("shell got", event["name"], flush=True)
        body = json.dumps({{"echo": event["name"], "handler": os.environ["_HANDLER"],
                           "tmp": os.access("/tmp", os.W_OK)}}).encode()
        urllib.request.urlopen(urllib.request.Request(api + "/invocation/" + rid + "/response",
                               data=body, method="POST")).read()
        ' "$API"
        done
    """}, mode=0o644)  # execute bit lost, as zip tools often do
    fn = spec(code, handler="function.handler", runtime="provided.al2023")
    result = call(engine, fn, {"name": "Ada"})
    assert result.error is None, (result.payload, result.log_lines)
    assert body(result) == {"echo": "Ada", "handler": "function.handler", "tmp": True}
    assert "shell got Ada" in result.log_lines


def test_provided_without_bootstrap(engine, tmp_path):
    code = write_code(tmp_path, {"main.go": "package main\n"})
    result = call(engine, spec(code, runtime="provided.al2023"))
    assert result.error == "Unhandled" and result.error_type == "Runtime.InvalidEntrypoint"
    assert body(result)["errorMessage"].startswith("Couldn't find valid bootstrap(s)")


def test_runtime_api_status_codes(engine, tmp_path):
    code = write_code(tmp_path, {"app.py": """
        import json, os, urllib.request, urllib.error
        API = "http://" + os.environ["AWS_LAMBDA_RUNTIME_API"] + "/2018-06-01/runtime"
        def post(path, data=b"{}"):
            try:
                with urllib.request.urlopen(urllib.request.Request(API + path, data=data,
                                                                   method="POST")) as r:
                    return r.status
            except urllib.error.HTTPError as e:
                return e.code
        def handler(event, context):
            return {"unknown_id": post("/invocation/not-a-request/response"),
                    "init_error_late": post("/init/error")}
    """})
    out = body(call(engine, spec(code)))
    assert out == {"unknown_id": 400, "init_error_late": 403}


def test_awslambdaric_as_bootstrap(engine, tmp_path):
    pytest.importorskip("awslambdaric")
    code = write_code(tmp_path, {
        "bootstrap": f"#!/bin/sh\nexport PYTHONPATH={SITE}\n"
                     f"exec {sandbox.host_python()[0]} -m awslambdaric app.handler\n",
        "app.py": """
            def handler(event, context):
                print("ric says hi")
                if event.get("fail"):
                    raise RuntimeError("ric failure")
                return {"ric": True, "id": context.aws_request_id, "name": event["name"]}
        """}, mode=0o755)
    fn = spec(code, runtime="provided.al2023", handler="app.handler", timeout_s=10)
    result = call(engine, fn, {"name": "Ada"})
    assert result.error is None, (result.payload, result.log_lines)
    assert body(result) == {"ric": True, "id": result.request_id, "name": "Ada"}
    failed = call(engine, fn, {"fail": True, "name": "x"})
    assert failed.error == "Unhandled"
    err = body(failed)
    assert err["errorType"] == "RuntimeError" and err["errorMessage"] == "ric failure"
    assert err["requestId"] == failed.request_id
