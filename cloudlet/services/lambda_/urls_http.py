"""Function URLs served on Cloudlet's port.

    http://<url-id>.lambda-url.<region>.localhost:<port>/<path>     (Host-based dispatch)
    http://127.0.0.1:<port>/_cloudlet/lambda/url/<url-id>/<path>    (any resolver)

The request becomes API Gateway's payload format 2.0 event; the function's answer becomes
the HTTP response as AWS interprets it (a dict with statusCode: headers, body,
isBase64Encoded, cookies; anything else: 200 with the value as JSON). AuthType NONE needs
the resource policy to allow lambda:InvokeFunctionUrl to everyone (with the
lambda:FunctionUrlAuthType condition AWS writes); AWS_IAM needs a SigV4 signature for
service "lambda" and lambda:InvokeFunctionUrl allowed to the signer as IAM decides it (its
identity-based policies, boundary and session policies, the function's resource policy).
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import re
import uuid
from datetime import UTC, datetime
from urllib.parse import parse_qsl

from cloudlet.engines.lambda_.engine import Invocation
from cloudlet.errors import ServiceError

log = logging.getLogger("cloudlet.lambda.urls")

URL_HOST = re.compile(r"([a-z0-9]{32})\.lambda-url\.([a-z0-9-]+)\.localhost(?::\d+)?\Z")
URL_PATH = "/_cloudlet/lambda/url/"
MAX_BODY = 6 * 1024 * 1024


def url_target(request) -> tuple[str, str] | None:
    """(url-id, path) when a request is for a function URL."""
    match = URL_HOST.match((request.host or "").lower())
    if match:
        return match.group(1), request.path or "/"
    if request.path.startswith(URL_PATH):
        rest = request.path[len(URL_PATH):]
        url_id, _, path = rest.partition("/")
        return url_id, "/" + path
    return None


def _message(status: int, text: str) -> tuple[int, dict[str, str], bytes]:
    return status, {"Content-Type": "application/json",
                    "x-amzn-ErrorType": text.replace(" ", "")}, json.dumps(
        {"Message": text}).encode()


def _origin_allowed(cors: dict, origin: str) -> bool:
    allowed = cors.get("AllowOrigins") or []
    return "*" in allowed or origin in allowed


def _cors_headers(cors: dict, origin: str) -> dict[str, str]:
    """The Cors configuration's answer to a request from `origin` (none if not allowed)."""
    if not _origin_allowed(cors, origin):
        return {}
    headers = {"Access-Control-Allow-Origin": "*" if "*" in (cors.get("AllowOrigins") or [])
               and not cors.get("AllowCredentials") else origin}
    if cors.get("AllowCredentials"):
        headers["Access-Control-Allow-Credentials"] = "true"
    if cors.get("ExposeHeaders"):
        headers["Access-Control-Expose-Headers"] = ",".join(cors["ExposeHeaders"])
    return headers


def _preflight(cors: dict, origin: str, request) -> dict[str, str]:
    headers = _cors_headers(cors, origin)
    if not headers:
        return {}
    method = request.headers.get("access-control-request-method", "")
    methods = cors.get("AllowMethods") or []
    if "*" not in methods and method.upper() not in [m.upper() for m in methods]:
        return {}
    headers["Access-Control-Allow-Methods"] = ",".join(methods)
    if cors.get("AllowHeaders"):
        headers["Access-Control-Allow-Headers"] = ",".join(cors["AllowHeaders"])
    if cors.get("MaxAge") is not None:
        headers["Access-Control-Max-Age"] = str(cors["MaxAge"])
    return headers


class FunctionUrlServing:
    async def url_route(self, request, verify=None) -> tuple[int, dict[str, str], bytes]:
        """The handler of the function URL routes (on URL_HOST, under URL_PATH); `verify`
        is the gateway's SigV4 check, called only for AuthType AWS_IAM."""
        url_id, path = url_target(request)
        return await asyncio.get_running_loop().run_in_executor(
            self.invoke_pool, self.serve_url, request, url_id, path, verify)

    def serve_url(self, request, url_id: str, path: str,
                  verify=None) -> tuple[int, dict[str, str], bytes]:
        try:
            return self._serve_url(request, url_id, path, verify)
        except ServiceError as error:
            if error.code == "TooManyRequestsException":
                return _message(429, "Rate Exceeded.")
            if error.code == "ResourceNotFoundException":
                return _message(404, "Not Found")
            log.info("function URL %s: %s", url_id, error)
            return _message(502, "Internal Server Error")

    def _serve_url(self, request, url_id: str, path: str,
                   verify) -> tuple[int, dict[str, str], bytes]:
        found = self.function_url_target(url_id)
        if found is None:
            return _message(403, "Forbidden")
        account, region, name, qualifier, config = found
        cors = config.get("Cors")
        origin = request.headers.get("origin")
        if (cors and origin and request.method == "OPTIONS"
                and request.headers.get("access-control-request-method")):
            return 200, _preflight(cors, origin, request), b""
        response = self._answer_url(request, url_id, path, verify, found)
        if cors and origin:
            response[1].update(_cors_headers(cors, origin))
        return response

    def _answer_url(self, request, url_id: str, path: str, verify,
                    found) -> tuple[int, dict[str, str], bytes]:
        account, region, name, qualifier, config = found
        body = request.body or b""
        if len(body) > MAX_BODY:
            return _message(413, "Request Entity Too Large")
        auth = config.get("AuthType", "NONE")
        identity = None
        if auth == "AWS_IAM":
            identity = self._url_caller(request, verify)
            if identity is None or not self.caller_allowed(
                    account, region, name, qualifier or None, "lambda:InvokeFunctionUrl",
                    identity, {"lambda:FunctionUrlAuthType": "AWS_IAM"}):
                return _message(403, "Forbidden")
        elif not self._public_url_allowed(account, region, name, qualifier):
            return _message(403, "Forbidden")
        spec = self.function_spec(account, region, name, qualifier or None)
        record = self.invoke_record(spec)
        event = self._url_event(request, url_id, region, account, path, body, identity)
        request_id = str(uuid.uuid4())
        result = self.run(spec, record, Invocation(request_id=request_id,
                                                   payload=json.dumps(event).encode()),
                          qualifier=qualifier or None)
        if result.error:
            return _message(502, "Internal Server Error")
        return self._url_response(result.payload, request_id)

    def _public_url_allowed(self, account: str, region: str, name: str, qualifier: str) -> bool:
        return self.policy_allows(account, region, name, qualifier or None,
                                  "lambda:InvokeFunctionUrl", "*", "Anonymous",
                                  {"lambda:FunctionUrlAuthType": "NONE"})

    @staticmethod
    def _url_caller(request, verify):
        """The SigV4 signer of the request (verify: the gateway's check), or None."""
        if verify is None:
            return None
        try:
            return verify(request)
        except ServiceError:
            return None

    @staticmethod
    def _url_event(request, url_id: str, region: str, account: str, path: str, body: bytes,
                   identity) -> dict:
        now = datetime.now(UTC)
        headers: dict[str, str] = {}
        cookies: list[str] = []
        for key, value in request.headers.items():
            key = key.lower()
            if key == "cookie":
                cookies += [c.strip() for c in value.split(";") if c.strip()]
                continue
            headers[key] = f"{headers[key]},{value}" if key in headers else value
        query: dict[str, str] = {}
        for key, value in parse_qsl(request.query or "", keep_blank_values=True):
            query[key] = f"{query[key]},{value}" if key in query else value
        try:
            text, encoded = body.decode("utf-8"), False
            content_type = headers.get("content-type", "")
            if body and not (content_type.startswith("text/") or "json" in content_type
                             or "xml" in content_type or "x-www-form-urlencoded" in content_type
                             or not content_type):
                text, encoded = base64.b64encode(body).decode(), True
        except UnicodeDecodeError:
            text, encoded = base64.b64encode(body).decode(), True
        context = {
            "accountId": "anonymous" if identity is None else account, "apiId": url_id,
            "domainName": f"{url_id}.lambda-url.{region}.on.aws", "domainPrefix": url_id,
            "http": {"method": request.method, "path": path, "protocol": "HTTP/1.1",
                     "sourceIp": request.client_ip,
                     "userAgent": headers.get("user-agent", "")},
            "requestId": headers.get("x-amzn-trace-id", "") or url_id,
            "routeKey": "$default", "stage": "$default",
            "time": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
            "timeEpoch": int(now.timestamp() * 1000)}
        if identity is not None:
            context["authorizer"] = {"iam": {
                "accessKey": identity.access_key_id, "accountId": identity.account_id,
                "callerId": identity.user_id or "", "cognitoIdentity": None,
                "principalOrgId": None, "userArn": identity.arn,
                "userId": identity.user_id or ""}}
        event = {"version": "2.0", "routeKey": "$default", "rawPath": path,
                 "rawQueryString": request.query or "", "headers": headers,
                 "requestContext": context, "isBase64Encoded": encoded}
        if cookies:
            event["cookies"] = cookies
        if query:
            event["queryStringParameters"] = query
        if body:
            event["body"] = text
        return event

    @staticmethod
    def _url_response(payload: bytes, request_id: str) -> tuple[int, dict[str, str], bytes]:
        try:
            value = json.loads(payload) if payload else None
        except ValueError:
            value = payload.decode("utf-8", "replace")
        base = {"x-amzn-RequestId": request_id}
        if not isinstance(value, dict) or "statusCode" not in value:
            return 200, {**base, "Content-Type": "application/json"}, json.dumps(value).encode()
        try:
            status = int(value.get("statusCode") or 200)
        except (TypeError, ValueError):
            return _message(502, "Internal Server Error")
        headers = {str(k): str(v) for k, v in (value.get("headers") or {}).items()}
        body = value.get("body")
        if body is None:
            data = b""
        elif value.get("isBase64Encoded"):
            try:
                data = base64.b64decode(str(body))
            except ValueError:
                return _message(502, "Internal Server Error")
        else:
            data = body.encode() if isinstance(body, str) else json.dumps(body).encode()
        headers.setdefault("Content-Type", "application/json")
        out = {**base, **headers}
        if value.get("cookies"):
            out["Set-Cookie"] = str(value["cookies"][0])
        return status, out, data
