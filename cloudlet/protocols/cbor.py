"""Smithy RPC v2 CBOR (`smithy-rpc-v2-cbor`), CloudWatch's default protocol.

A request is `POST /service/<ServiceName>/operation/<OperationName>` with the header
`smithy-protocol: rpc-v2-cbor` and, when there is input, a CBOR map body. botocore names
the service by the model's `targetPrefix`; we accept that name or the last segment of the
Smithy service id.

    CborCodec(model).parse(request)  -> (OperationModel, params)

Values map one to one onto CBOR: strings are text strings, blobs byte strings, timestamps
tag 1 (epoch seconds, an integer or a float with milliseconds), lists arrays, structures
and maps CBOR maps keyed by member name. Nulls are absent values.

Errors are a map `{"__type": <error shape>, "message": ...}` plus the shape's members.
For an `awsQueryCompatible` service the header `x-amzn-query-error: <Code>;<Sender|Receiver>`
carries the code a query client would see.

Anything that is not a well-formed CBOR map of the input shape's types is a
`SerializationException`; cbor2 bounds nesting depth and never trusts declared lengths, and
we refuse the tags a Smithy client never sends (shared references, regexes, ...).
"""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

import cbor2
from botocore.model import OperationModel, Shape

from cloudlet.errors import SerializationError, ServiceError
from cloudlet.protocols.base import Codec, HttpRequest, HttpResponse, to_datetime
from cloudlet.protocols.numeric import from_epoch, to_float

UTC = dt.UTC
MAX_DEPTH = 64


def _refuse_tag(decoder, tag=None):
    raise cbor2.CBORDecodeError("unsupported CBOR tag")


# cbor2 decodes these semantic tags itself; a Smithy body only ever uses 1 (epoch
# timestamps) and 2/3/4 (big numbers), so everything else is refused outright.
_REFUSED_TAGS = dict.fromkeys(
    (0, 5, 25, 28, 29, 30, 35, 36, 37, 100, 256, 258, 260, 261, 1004, 55799),
    _refuse_tag,
)


def loads(body: bytes):
    """Decode one CBOR data item that must span the whole body."""
    stream = io.BytesIO(body)
    try:
        decoder = cbor2.CBORDecoder(
            stream,
            tag_hook=_refuse_tag,
            semantic_decoders=_REFUSED_TAGS,
            max_depth=MAX_DEPTH,
            allow_duplicate_keys=False,
            strict_hashable_types=True,
        )
        value = decoder.decode()
    except (cbor2.CBORError, ValueError, TypeError, OverflowError, MemoryError, RecursionError):
        raise SerializationError("The request body is not valid CBOR.") from None
    if stream.tell() != len(body):
        raise SerializationError("The request body has data after its CBOR item.")
    return value


def dumps(value) -> bytes:
    try:
        return cbor2.dumps(value)
    except (cbor2.CBOREncodeError, UnicodeEncodeError):
        # Text with lone surrogates (a value echoed in an error message) has no UTF-8
        # form: written with "?" for each, as a Java service writes it.
        return cbor2.dumps(_encodable(value))


def _encodable(value):
    if isinstance(value, str):
        return value.encode("utf-8", "replace").decode("utf-8")
    if isinstance(value, dict):
        return {_encodable(k): _encodable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_encodable(v) for v in value]
    if isinstance(value, cbor2.CBORTag):
        return cbor2.CBORTag(value.tag, _encodable(value.value))
    return value


class CborCodec(Codec):
    protocol = "smithy-rpc-v2-cbor"
    content_type = "application/cbor"

    def __init__(self, model):
        super().__init__(model)
        self.query_compatible = "awsQueryCompatible" in model.metadata
        # Query clients know this service's validation failures as `ValidationError`.
        self.validation_error_code = (
            "ValidationError" if self.query_compatible else "ValidationException"
        )

    @property
    def service_names(self) -> set[str]:
        names = {self.model.metadata.get("targetPrefix", "")}
        uid = self.model.metadata.get("uid") or ""
        names.add(self.model.metadata.get("serviceId", "").replace(" ", ""))
        names.add(uid.rsplit("#", 1)[-1])
        return names - {""}

    # -- request side -------------------------------------------------------------
    def operation_for(self, request: HttpRequest) -> OperationModel:
        parts = request.unquoted_path.rstrip("/").split("/")
        if len(parts) < 5 or parts[-4] != "service" or parts[-2] != "operation":
            raise SerializationError(
                "An RPC v2 request path is /service/<ServiceName>/operation/<Operation>."
            )
        return self.operation(parts[-1])

    def parse(self, request: HttpRequest) -> tuple[OperationModel, dict]:
        operation = self.operation_for(request)
        shape = operation.input_shape
        body = request.body
        if not body or shape is None:
            return operation, {}
        value = loads(body)
        if not isinstance(value, dict):
            raise SerializationError("The request body must be a CBOR map.")
        try:
            return operation, self._parse(shape, value)
        except RecursionError:
            raise SerializationError("The request body is nested too deeply.") from None

    def _parse(self, shape: Shape, value):
        if value is None:
            return None
        return getattr(self, f"_parse_{shape.type_name}", self._parse_any)(shape, value)

    def _parse_structure(self, shape, value):
        if not isinstance(value, dict):
            raise _wrong_type(shape, value)
        return _each_member(shape, value, self._parse)

    def _parse_list(self, shape, value):
        if not isinstance(value, list):
            raise _wrong_type(shape, value)
        member = shape.member
        return [self._parse(member, item) for item in value if item is not None]

    def _parse_map(self, shape, value):
        if not isinstance(value, dict):
            raise _wrong_type(shape, value)
        key, val = shape.key, shape.value
        return {self._parse(key, k): self._parse(val, v) for k, v in value.items() if v is not None}

    def _parse_string(self, shape, value):
        if not isinstance(value, str):
            raise _wrong_type(shape, value)
        return value

    def _parse_boolean(self, shape, value):
        if not isinstance(value, bool):
            raise _wrong_type(shape, value)
        return value

    def _parse_integer(self, shape, value):
        """Any integer, a bignum too: the validator holds it to its type's range."""
        if isinstance(value, bool) or not isinstance(value, int):
            raise _wrong_type(shape, value)
        return value

    _parse_long = _parse_integer

    def _parse_float(self, shape, value):
        """A float, an integer or bignum, or a decimal fraction; beyond a double's range
        it is +-Infinity."""
        if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
            raise _wrong_type(shape, value)
        try:
            return to_float(value)
        except ValueError:  # a signalling NaN
            raise SerializationError(f"Invalid number for {shape.name}.") from None

    _parse_double = _parse_float

    def _parse_blob(self, shape, value):
        if not isinstance(value, bytes):
            raise _wrong_type(shape, value)
        return value

    def _parse_timestamp(self, shape, value):
        if isinstance(value, dt.datetime):
            return value if value.tzinfo else value.replace(tzinfo=UTC)
        if type(value) is float or type(value) is int:
            return from_epoch(value)
        raise _wrong_type(shape, value)

    def _parse_any(self, shape, value):
        return value  # documents and shapes we do not know: as decoded

    # -- response side ------------------------------------------------------------
    def serialize(self, operation: OperationModel, result: dict, request_id: str) -> HttpResponse:
        headers = self._headers(request_id)
        shape = operation.output_shape
        if shape is None:
            return HttpResponse(200, headers, b"")
        headers["Content-Type"] = self.content_type
        return HttpResponse(200, headers, dumps(self._serialize(shape, result or {})))

    def serialize_error(
        self, error: ServiceError, operation: OperationModel | None, request_id: str
    ) -> HttpResponse:
        shape = self.error_shape(error.code)
        body = {"__type": shape.name if shape is not None else error.code}
        if shape is not None and error.fields:
            body.update(self._serialize(shape, error.fields))
        message_key = "Message" if shape is not None and "Message" in shape.members else "message"
        if error.message:
            body[message_key] = error.message
        headers = self._headers(request_id)
        headers["Content-Type"] = self.content_type
        if self.query_compatible:
            code = error.code
            if shape is not None:
                code = shape.metadata.get("error", {}).get("code") or code
            fault = "Sender" if error.sender_fault else "Receiver"
            headers["x-amzn-query-error"] = f"{code};{fault}"
        headers.update(error.headers)
        return HttpResponse(error.status, headers, dumps(body))

    def _headers(self, request_id: str) -> dict[str, str]:
        return {"smithy-protocol": "rpc-v2-cbor", "x-amzn-RequestId": request_id}

    def _serialize(self, shape: Shape, value):
        return getattr(self, f"_serialize_{shape.type_name}", _same)(shape, value)

    def _serialize_structure(self, shape, value):
        return _each_member(shape, value, self._serialize)

    def _serialize_list(self, shape, value):
        member = shape.member
        if member.type_name in ("double", "float"):
            return [float(item) for item in value]
        serialize = getattr(self, f"_serialize_{member.type_name}", _same)
        return [serialize(member, item) for item in value]

    def _serialize_map(self, shape, value):
        val = shape.value
        return {k: self._serialize(val, v) for k, v in value.items() if v is not None}

    def _serialize_timestamp(self, shape, value):
        if type(value) is int:  # epoch seconds already (GetMetricData's many timestamps)
            return cbor2.CBORTag(1, value)
        seconds = value if type(value) is float else to_datetime(value).timestamp()
        millis = round(seconds * 1000)
        return cbor2.CBORTag(1, millis // 1000 if millis % 1000 == 0 else millis / 1000)

    def _serialize_blob(self, shape, value):
        if isinstance(value, str):
            return value.encode("utf-8")
        if hasattr(value, "read"):
            return value.read()
        return bytes(value)

    def _serialize_float(self, shape, value):
        return float(value)  # also "NaN", "Infinity" and "-Infinity"

    _serialize_double = _serialize_float

    def _serialize_integer(self, shape, value):
        return int(value)

    _serialize_long = _serialize_integer

    def _serialize_boolean(self, shape, value):
        if isinstance(value, str):
            return value.lower() == "true"
        return bool(value)


def _same(shape, value):
    return value


def _each_member(shape: Shape, value: dict, convert) -> dict:
    """The members of `value` the shape knows and that are not null, each converted."""
    members = shape.members
    return {
        name: convert(members[name], item)
        for name, item in value.items()
        if item is not None and name in members
    }


def _wrong_type(shape: Shape, value) -> SerializationError:
    kind = type(value).__name__
    return SerializationError(f"Expected a {shape.type_name} for {shape.name}, found {kind}.")
