"""Control calls from the command line: signed requests to a running Cloudlet's
/_cloudlet/ endpoints (`cloudlet down`, `clock`, `mail`, `oidc token`).

    status, answer = call("127.0.0.1", 4566, "POST", "/_cloudlet/clock", {"advance": 60})

Each is signed with SigV4 for the signing name `cloudlet` by botocore's signer, with the
credentials of the standard environment variables (AWS_ACCESS_KEY_ID,
AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN; region AWS_REGION or AWS_DEFAULT_REGION), by
default `test`/`test`: the root of account 000000000000. The answer is the endpoint's
JSON, an error's included (`{"code", "message"}`); OSError when nothing answers.
"""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.parse
import urllib.request

from cloudlet.config import (
    CONTROL_SIGNING_NAME,
    DEFAULT_ACCESS_KEY,
    DEFAULT_REGION,
    DEFAULT_SECRET_KEY,
)


def call(host: str, port: int, method: str, path: str, body: dict | None = None,
         query: dict | None = None, timeout: float = 10) -> tuple[int, dict]:
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    url = f"http://{host}:{port}{path}"
    if query:
        url += "?" + urllib.parse.urlencode(query)
    data = json.dumps(body).encode() if body is not None else b""
    headers = {"Content-Type": "application/json"} if body is not None else {}
    request = AWSRequest(method=method, url=url, data=data, headers=headers)
    credentials = Credentials(os.environ.get("AWS_ACCESS_KEY_ID") or DEFAULT_ACCESS_KEY,
                              os.environ.get("AWS_SECRET_ACCESS_KEY") or DEFAULT_SECRET_KEY,
                              os.environ.get("AWS_SESSION_TOKEN") or None)
    region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or DEFAULT_REGION
    SigV4Auth(credentials, CONTROL_SIGNING_NAME, region).add_auth(request)
    prepared = urllib.request.Request(url, data=data or None, method=method,
                                      headers=dict(request.headers.items()))
    try:
        with urllib.request.urlopen(prepared, timeout=timeout) as reply:
            return reply.status, _json(reply.read())
    except urllib.error.HTTPError as e:
        return e.code, _json(e.read())


def _json(raw: bytes) -> dict:
    try:
        answer = json.loads(raw or b"{}")
    except ValueError:
        return {"message": raw.decode("utf-8", "replace")}
    return answer if isinstance(answer, dict) else {"message": str(answer)}
