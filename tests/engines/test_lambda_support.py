"""Shared helpers for the Lambda engine tests (no tests here): specs over code directories
written by the test, and calling the engine."""

from __future__ import annotations

import json
import textwrap
import uuid
from pathlib import Path

from cloudlet.engines.lambda_.engine import FunctionSpec, Invocation, Result

ACCOUNT = "000000000000"


def write_code(root: Path, files: dict[str, str], mode: int = 0o644) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip())
        path.chmod(mode)
    return root


def spec(code_dir: Path, handler: str = "app.handler", runtime: str = "python3.11",
         name: str | None = None, **kw) -> FunctionSpec:
    name = name or f"fn-{uuid.uuid4().hex[:8]}"
    arn = f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:{name}"
    return FunctionSpec(key=kw.pop("key", f"{arn}:$LATEST:{uuid.uuid4().hex}"),
                        function_name=name, function_arn=f"{arn}:$LATEST", version="$LATEST",
                        account=ACCOUNT, region="us-east-1", runtime=runtime, handler=handler,
                        code_dir=code_dir, log_group=f"/aws/lambda/{name}", **kw)


def call(engine, fn: FunctionSpec, event=None) -> Result:
    payload = json.dumps({} if event is None else event).encode()
    return engine.invoke(fn, Invocation(request_id=str(uuid.uuid4()), payload=payload))


def body(result: Result):
    return json.loads(result.payload)
