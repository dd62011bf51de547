"""Cloudlet's Python runtime: a small, stdlib-only client of Lambda's Runtime API that
loads the handler once (init) and then serves invocations until the environment stops.

Error shapes and messages follow AWS's Python runtime: {"errorMessage", "errorType",
"requestId", "stackTrace"}, Runtime.ImportModuleError, Runtime.HandlerNotFound,
Runtime.UserCodeSyntaxError, Runtime.MalformedHandlerName, Runtime.MarshalError.
"""

import json
import os
import socket
import sys
import time

_HERE = os.path.dirname(os.path.abspath(__file__))
_BASE = "/2018-06-01/runtime"


class _Client:
    """HTTP/1.1 over one kept-alive socket; the Runtime API is always local."""

    def __init__(self, api):
        host, _, port = api.rpartition(":")
        self.api = api
        self.addr = (host, int(port))
        self.sock = None
        self.buf = b""

    def request(self, method, path, body=b"", headers=()):
        head = [f"{method} {_BASE}{path} HTTP/1.1", f"Host: {self.api}",
                f"Content-Length: {len(body)}"]
        head.extend(f"{k}: {v}" for k, v in headers)
        data = ("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + body
        for attempt in (0, 1):
            try:
                if self.sock is None:
                    self.sock = socket.create_connection(self.addr)
                    self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                    self.buf = b""
                self.sock.sendall(data)
                return self._response()
            except OSError:
                self.sock = None
                if attempt:
                    raise

    def _response(self):
        while b"\r\n\r\n" not in self.buf:
            self._recv()
        head, _, rest = self.buf.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        size = int(headers.get("content-length", "0"))
        self.buf = rest
        while len(self.buf) < size:
            self._recv()
        body, self.buf = self.buf[:size], self.buf[size:]
        return status, headers, body

    def _recv(self):
        chunk = self.sock.recv(262144)
        if not chunk:
            raise ConnectionError("Runtime API closed the connection")
        self.buf += chunk


class _Fault(Exception):
    def __init__(self, error_type, message, trace=None):
        super().__init__(message)
        self.error_type, self.message, self.trace = error_type, message, trace


class LambdaContext:
    def __init__(self, request_id, deadline_ms, arn, client_context, identity):
        self.aws_request_id = request_id
        self.log_group_name = os.environ.get("AWS_LAMBDA_LOG_GROUP_NAME")
        self.log_stream_name = os.environ.get("AWS_LAMBDA_LOG_STREAM_NAME")
        self.function_name = os.environ.get("AWS_LAMBDA_FUNCTION_NAME")
        self.memory_limit_in_mb = os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE")
        self.function_version = os.environ.get("AWS_LAMBDA_FUNCTION_VERSION")
        self.invoked_function_arn = arn
        self.client_context = _Obj(client_context) if client_context else None
        if self.client_context is not None and isinstance(getattr(self.client_context, "client", None), dict):
            self.client_context.client = _Obj(self.client_context.client)
        self.identity = _Obj({
            "cognito_identity_id": (identity or {}).get("cognitoIdentityId"),
            "cognito_identity_pool_id": (identity or {}).get("cognitoIdentityPoolId"),
        })
        self._deadline_ms = deadline_ms

    def get_remaining_time_in_millis(self):
        return max(0, self._deadline_ms - int(time.time() * 1000))

    def log(self, msg):
        sys.stdout.write(str(msg))
        sys.stdout.flush()

    def __repr__(self):
        return (f"LambdaContext([aws_request_id={self.aws_request_id},"
                f"function_name={self.function_name},"
                f"function_version={self.function_version},"
                f"invoked_function_arn={self.invoked_function_arn}])")


class _Obj:
    def __init__(self, values):
        for key, value in (values or {}).items():
            setattr(self, key, value)


def _error(error_type, message, trace, request_id=""):
    return {"errorMessage": message or "", "errorType": error_type or "",
            "requestId": request_id or "", "stackTrace": trace or []}


def _log_error(error):
    lines = ["[ERROR] " + error["errorType"] + ": " + error["errorMessage"]
             if error["errorMessage"] else "[ERROR] " + error["errorType"]]
    if error["stackTrace"] is not None:
        lines.append("Traceback (most recent call last):")
        for frame in error["stackTrace"]:
            lines.extend(frame.splitlines())
    sys.stdout.flush()
    # one log event on AWS (the lines joined by \r); here one line each
    sys.stderr.write("\n".join(lines) + "\n")
    sys.stderr.flush()


_request_id = ""


def _install_logging():
    """The root logger writes as AWS's Python runtime does:
    "[INFO]\t2026-01-01T00:00:00.000Z\t<request id>\tmessage" (new lines kept in one line
    as \r); its level stays the user's to set."""
    import logging

    class LambdaFormatter(logging.Formatter):
        def formatTime(self, record, datefmt=None):  # noqa: N802 - logging's name
            return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)) + \
                "." + f"{int(record.msecs):03d}Z"

        def format(self, record):
            record.aws_request_id = _request_id
            return super().format(record).replace("\n", "\r")

    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(LambdaFormatter(
        "[%(levelname)s]\t%(asctime)s\t%(aws_request_id)s\t%(message)s"))
    logging.getLogger().addHandler(handler)


def _load(handler):
    try:
        module_name, function_name = handler.rsplit(".", 1)
    except ValueError as e:
        raise _Fault("Runtime.MalformedHandlerName", f"Bad handler '{handler}': {e}") from None
    import importlib

    try:
        if module_name.split(".")[0] in sys.builtin_module_names:
            raise _Fault("Runtime.BuiltInModuleConflict",
                         f"Cannot use built-in module {module_name} as a handler module")
        module = importlib.import_module(module_name.replace("/", "."))
    except ImportError as e:
        raise _Fault("Runtime.ImportModuleError",
                     f"Unable to import module '{module_name}': {e}") from None
    except SyntaxError as e:
        trace = [f'  File "{e.filename}" Line {e.lineno}\n    {e.text}']
        raise _Fault("Runtime.UserCodeSyntaxError",
                     f"Syntax error in module '{module_name}': {e}", trace) from None
    try:
        return getattr(module, function_name)
    except AttributeError:
        raise _Fault("Runtime.HandlerNotFound",
                     f"Handler '{function_name}' missing on module '{module_name}'") from None


def _trace(tb):
    import traceback

    frames = [f for f in traceback.extract_tb(tb) if f.filename != __file__]
    return [f'  File "{f.filename}", line {f.lineno}, in {f.name}\n    {f.line}\n'
            for f in frames]


def _post_error(client, path, error):
    body = json.dumps(error).encode()
    client.request("POST", path, body, [("Lambda-Runtime-Function-Error-Type", error["errorType"]),
                                         ("Content-Type", "application/json")])


def _invoke(client, handler, headers, body):
    global _request_id
    request_id = _request_id = headers.get("lambda-runtime-aws-request-id", "")
    trace_id = headers.get("lambda-runtime-trace-id")
    if trace_id:
        os.environ["_X_AMZN_TRACE_ID"] = trace_id
    else:
        os.environ.pop("_X_AMZN_TRACE_ID", None)
    try:
        client_context = headers.get("lambda-runtime-client-context")
        identity = headers.get("lambda-runtime-cognito-identity")
        context = LambdaContext(request_id, int(headers.get("lambda-runtime-deadline-ms", "0")),
                                headers.get("lambda-runtime-invoked-function-arn"),
                                json.loads(client_context) if client_context else None,
                                json.loads(identity) if identity else None)
        try:
            event = json.loads(body) if body else {}
        except ValueError as e:
            raise _Fault("Runtime.UnmarshalError", f"Unable to parse event JSON: {e}") from None
        result = handler(event, context)
        try:
            payload = json.dumps(result).encode()
        except (TypeError, ValueError) as e:
            raise _Fault("Runtime.MarshalError", f"Unable to marshal response: {e}") from None
    except _Fault as fault:
        error = _error(fault.error_type, fault.message, fault.trace, request_id)
    except Exception as e:  # noqa: BLE001 - every function error is reported
        error = _error(type(e).__name__, str(e), _trace(e.__traceback__), request_id)
    else:
        sys.stdout.flush()
        sys.stderr.flush()
        client.request("POST", f"/invocation/{request_id}/response", payload)
        return
    _log_error(error)
    _post_error(client, f"/invocation/{request_id}/error", error)


def main():
    if _HERE in sys.path:
        sys.path.remove(_HERE)
    task_root = os.environ.get("LAMBDA_TASK_ROOT", "/var/task")
    if task_root not in sys.path:
        sys.path.insert(0, task_root)
    client = _Client(os.environ["AWS_LAMBDA_RUNTIME_API"])
    _install_logging()
    try:
        handler = _load(os.environ.get("_HANDLER", ""))
    except _Fault as fault:
        error = _error(fault.error_type, fault.message, fault.trace)
        _log_error(error)
        _post_error(client, "/init/error", error)
        sys.exit(1)
    except Exception as e:  # noqa: BLE001 - an exception while importing the module
        error = _error(type(e).__name__, str(e), _trace(e.__traceback__))
        _log_error(error)
        _post_error(client, "/init/error", error)
        sys.exit(1)
    sys.stdout.flush()
    while True:
        status, headers, body = client.request("GET", "/invocation/next")
        if status != 200:
            sys.exit(1)
        _invoke(client, handler, headers, body)


if __name__ == "__main__":
    main()
