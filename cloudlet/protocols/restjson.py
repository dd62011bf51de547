"""The `rest-json` protocol (Lambda).

`RestJsonCodec` is `RestCodec` (rest.py: routing and the members bound to the URI, query
string, headers and host) plus a JSON body:

- a shape with a `payload` member: a blob or string payload is the raw body; a
  structure or document payload is the whole JSON body;
- otherwise the members left for the body make up one JSON object.

`parse()` returns `(OperationModel, params)`. A JSON body that is malformed, of the wrong
JSON type, or sent with a non-JSON Content-Type is a 4xx `ServiceError`. Responses carry
`x-amzn-RequestId`; errors are

    x-amzn-ErrorType: <Code>            status: the error's
    {"Type": "User"|"Service", "<message member as the shape spells it>": ..., fields}
"""

from __future__ import annotations

from botocore.model import OperationModel, Shape

from cloudlet.errors import ServiceError
from cloudlet.protocols import eventstream, jsonvalue
from cloudlet.protocols.base import HttpRequest, HttpResponse
from cloudlet.protocols.json import message_key
from cloudlet.protocols.rest import RestCodec, decode_utf8


class UnsupportedMediaType(ServiceError):
    code = "UnsupportedMediaTypeException"
    status = 415


def is_json_media_type(content_type: str) -> bool:
    return (
        content_type in ("", "application/json", "text/json", "binary/octet-stream")
        or content_type.startswith("application/x-amz-json")
        or content_type.endswith("+json")
    )


class RestJsonCodec(RestCodec):
    protocol = "rest-json"
    content_type = "application/json"
    validation_error_code = "ValidationException"

    # -- request side -------------------------------------------------------------
    def _parse_members(self, shape: Shape, request: HttpRequest, members: dict) -> dict:
        body = self._json_body(request)
        return jsonvalue.decode_members(shape, body, members) if body is not None else {}

    def _parse_payload(self, name: str, member: Shape, request: HttpRequest) -> dict:
        body = request.body
        if member.type_name == "blob":
            return {name: body} if body else {}
        if member.type_name == "string" and not jsonvalue.is_document(member):
            return {name: decode_utf8(body)} if body else {}
        value = self._json_body(request)
        if value is None:
            return {}
        value = jsonvalue.decode(member, value)
        return {name: value} if value or jsonvalue.is_document(member) else {}

    def _json_body(self, request: HttpRequest):
        """The body as JSON; None when empty."""
        if not request.body.strip():
            return None
        if not is_json_media_type(request.content_type):
            raise UnsupportedMediaType(
                f"Unsupported Content-Type {request.content_type!r}: expected application/json."
            )
        return jsonvalue.loads(request.body)

    # -- response side ------------------------------------------------------------
    def serialize(self, operation: OperationModel, result: dict, request_id: str) -> HttpResponse:
        response = super().serialize(operation, result or {}, request_id)
        if not _claims_every_header(operation.output_shape):
            response.headers["x-amzn-RequestId"] = request_id
        return response

    def _serialize_body(self, operation: OperationModel, body: dict, response: HttpResponse):
        shape = operation.output_shape
        payload = shape.serialization.get("payload") if shape is not None else None
        if payload:
            self._serialize_payload(shape.members[payload], body.get(payload), response)
            return
        if shape is None or not _body_members(shape):
            return
        _set_default(response, "Content-Type", self.content_type)
        response.body = jsonvalue.dumps(jsonvalue.encode_members(shape, body))

    def _serialize_payload(self, member: Shape, value, response: HttpResponse):
        if value is None:
            return
        if member.serialization.get("eventstream"):  # InvokeWithResponseStream
            response.headers["Content-Type"] = eventstream.CONTENT_TYPE
            response.body = eventstream.encode_rest(member, value)
        elif member.type_name == "blob":
            _set_default(response, "Content-Type", "application/octet-stream")
            response.body = _blob_body(value)
        elif member.type_name == "string" and not jsonvalue.is_document(member):
            _set_default(response, "Content-Type", "text/plain")
            response.body = value.encode("utf-8")
        else:
            _set_default(response, "Content-Type", self.content_type)
            response.body = jsonvalue.dumps(jsonvalue.encode(member, value))

    def serialize_error(
        self, error: ServiceError, operation: OperationModel | None, request_id: str
    ) -> HttpResponse:
        shape = self.error_shape(error.code)
        response = HttpResponse(status=error.status)
        body = {}
        if shape is None or "Type" in shape.members:
            body["Type"] = "User" if error.sender_fault else "Service"
        if error.message:
            body[message_key(shape)] = error.message
        if shape is not None and error.fields:
            rest = self._serialize_bindings_of(shape, error.fields, response)
            body.update(jsonvalue.encode_members(shape, rest))
        response.headers.update(error.headers)
        response.headers["x-amzn-ErrorType"] = error.code
        response.headers["x-amzn-RequestId"] = request_id
        response.headers["Content-Type"] = self.content_type
        response.body = jsonvalue.dumps(body)
        return response


def _body_members(shape: Shape) -> dict[str, Shape]:
    return {n: m for n, m in shape.members.items() if "location" not in m.serialization}


def _claims_every_header(shape: Shape | None) -> bool:
    """An output with a prefix-headers map of prefix "" reads every header back as a member."""
    return shape is not None and any(
        m.serialization.get("location") == "headers" and not m.serialization.get("name")
        for m in shape.members.values()
    )


def _blob_body(value):
    if isinstance(value, str):
        return value.encode("utf-8")
    if hasattr(value, "read"):
        return value.read()
    return value


def _set_default(response: HttpResponse, name: str, value: str) -> None:
    if not any(key.lower() == name.lower() for key in response.headers):
        response.headers[name] = value
