"""The `json` protocol (awsJson 1.0 and 1.1): CloudWatch Logs, CloudWatch's JSON mode.

Every request is `POST /` with `X-Amz-Target: <targetPrefix>.<Operation>` and the
input structure as a JSON object (an empty body is `{}`).

    JsonCodec(Codec)
        operation_for(request) -> OperationModel        from X-Amz-Target
        parse(request)         -> (OperationModel, params)
        serialize(...)         -> 200, application/x-amz-json-<jsonVersion>, the output object
                                  (an event-stream member: eventstream.encode's frames)
        serialize_error(...)   -> {"__type": <shape name>, "message": ...} and the error's
                                  modeled members; `awsQueryCompatible` services also get
                                  `x-amzn-query-error: <query code>;Sender|Receiver`
"""

from __future__ import annotations

from botocore.model import OperationModel, Shape

from cloudlet.errors import SerializationError, ServiceError, UnknownOperation
from cloudlet.protocols import eventstream, jsonvalue
from cloudlet.protocols.base import Codec, HttpRequest, HttpResponse


class JsonCodec(Codec):
    protocol = "json"
    validation_error_code = "ValidationException"

    def __init__(self, model):
        super().__init__(model)
        version = model.metadata.get("jsonVersion", "1.0")
        self.content_type = f"application/x-amz-json-{version}"
        self.target_prefix = model.metadata.get("targetPrefix", "")
        self.query_compatible = "awsQueryCompatible" in model.metadata

    # -- request side -------------------------------------------------------------
    def operation_for(self, request: HttpRequest) -> OperationModel:
        target = request.headers.get("x-amz-target") or ""
        prefix, _, name = target.rpartition(".")
        if not name or (self.target_prefix and prefix != self.target_prefix):
            raise UnknownOperation(f"Unknown operation target: {target!r}.")
        return self.operation(name)

    def parse(self, request: HttpRequest) -> tuple[OperationModel, dict]:
        operation = self.operation_for(request)
        body = jsonvalue.loads(request.body)
        if not isinstance(body, dict):
            raise SerializationError("The request body must be a JSON object.")
        shape = operation.input_shape
        return operation, jsonvalue.decode_members(shape, body) if shape is not None else {}

    # -- response side ------------------------------------------------------------
    def serialize(self, operation: OperationModel, result: dict, request_id: str) -> HttpResponse:
        shape = operation.output_shape
        stream = shape.event_stream_name if shape is not None else None
        if stream and (result or {}).get(stream) is not None:  # StartLiveTail
            others = {k: v for k, v in result.items() if k != stream}
            initial = jsonvalue.dumps(jsonvalue.encode_members(shape, others))
            headers = {"Content-Type": eventstream.CONTENT_TYPE, "x-amzn-RequestId": request_id}
            return HttpResponse(200, headers, eventstream.encode(
                shape.members[stream], result[stream], initial))
        body = jsonvalue.encode_members(shape, result or {}) if shape is not None else {}
        return HttpResponse(200, self._headers(request_id), jsonvalue.dumps(body))

    def serialize_error(
        self, error: ServiceError, operation: OperationModel | None, request_id: str
    ) -> HttpResponse:
        shape = self.error_shape(error.code)
        headers = self._headers(request_id)
        headers.update(error.headers)
        body = {"__type": shape.name if shape is not None else error.code}
        body.update(_error_members(shape, error))
        if self.query_compatible:
            fault = "Sender" if error.sender_fault else "Receiver"
            headers["x-amzn-query-error"] = f"{query_code(shape, error)};{fault}"
        return HttpResponse(error.status, headers, jsonvalue.dumps(body))

    def _headers(self, request_id: str) -> dict[str, str]:
        return {"Content-Type": self.content_type, "x-amzn-RequestId": request_id}


def query_code(shape: Shape | None, error: ServiceError) -> str:
    """The code an `awsQueryCompatible` service's query clients know the error by."""
    if shape is not None:
        return shape.metadata.get("error", {}).get("code", shape.name)
    return error.code


def message_key(shape: Shape | None, default: str = "message") -> str:
    """The spelling of the message member the error shape declares (`message`, `Message`)."""
    if shape is not None:
        for name, member in shape.members.items():
            if name.lower() == "message":
                return jsonvalue.member_key(name, member)
    return default


def _error_members(shape: Shape | None, error: ServiceError) -> dict:
    body = {}
    if error.message:
        body[message_key(shape)] = error.message
    if shape is not None and error.fields:
        body.update(jsonvalue.encode_members(shape, error.fields, _body_members(shape)))
    return body


def _body_members(shape: Shape) -> dict[str, Shape]:
    return {n: m for n, m in shape.members.items() if "location" not in m.serialization}
