"""The awsQuery protocol (IAM, STS, RDS, SNS, CloudWatch's query endpoint).

A request is a form — the body, or for GET the query string — naming the operation in
`Action` and the API in `Version`. Every other field is one scalar of the input, at a
dotted path built from the input shape:

    Nested.StringArg=foo                 structure member (its locationName, else its name)
    ListArg.member.1=foo                 list item (the member's locationName, else "member")
    ListArg=                             an empty list
    Flat.1=foo                           flattened list
    MapArg.entry.1.key=k / .value=v      map entry (key/value locationNames); flattened maps
                                         drop the ".entry"

`QueryCodec.parse()` walks the input shape over the form and returns
`(OperationModel, params)`. Responses are XML:

    <OpResponse xmlns="..."><OpResult>members</OpResult>
      <ResponseMetadata><RequestId>id</RequestId></ResponseMetadata></OpResponse>

and errors `<ErrorResponse><Error><Type>Sender|Receiver</Type><Code/><Message/>fields
</Error><RequestId/></ErrorResponse>` with the error's HTTP status.

`Ec2Codec` (ec2.py) is this class with EC2's field names and envelopes.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

from botocore.model import OperationModel, Shape

from cloudlet.errors import SerializationError, ServiceError
from cloudlet.protocols.base import Codec, HttpRequest, HttpResponse, is_utf8
from cloudlet.protocols.xml import (
    XmlWriter,
    scalar_from_text,
    set_namespace,
    to_bytes,
    write_error_fields,
)

MISSING = object()


class Form:
    """A flat form with a fast "is anything under this prefix?" test."""

    def __init__(self, fields: dict[str, str]):
        self.fields = fields
        self.prefixes: set[str] = set()
        for key in fields:
            parts = key.split(".")
            for end in range(1, len(parts) + 1):
                self.prefixes.add(".".join(parts[:end]))

    def get(self, name: str) -> str | None:
        return self.fields.get(name)

    def has(self, prefix: str) -> bool:
        return prefix in self.prefixes

    def indexes(self, prefix: str):
        """1, 2, ... for as long as `prefix.N` has anything under it."""
        index = 1
        while f"{prefix}.{index}" in self.prefixes:
            yield f"{prefix}.{index}"
            index += 1


def join(prefix: str, name: str) -> str:
    return f"{prefix}.{name}" if prefix else name


class QueryCodec(Codec):
    protocol = "query"
    content_type = "text/xml"
    validation_error_code = "ValidationError"

    # -- request side -------------------------------------------------------------
    def operation_for(self, request: HttpRequest) -> OperationModel:
        return self._operation_for(request.form())

    def _operation_for(self, fields: dict[str, str]) -> OperationModel:
        action = fields.get("Action")
        if not action:
            raise ServiceError(
                "The request must contain the parameter Action.", code="MissingAction", status=400
            )
        try:
            return self.model.operation_model(action)
        except Exception:
            raise self.invalid_action(action, fields.get("Version", "")) from None

    def invalid_action(self, action: str, version: str) -> ServiceError:
        return ServiceError(
            f"Could not find operation {action} for version {version}",
            code="InvalidAction", status=400,
        )

    def parse(self, request: HttpRequest) -> tuple[OperationModel, dict]:
        fields = request.form()
        operation = self._operation_for(fields)
        shape = operation.input_shape
        if shape is None:
            return operation, {}
        return operation, self._parse_members(shape, Form(fields), "")

    def _parse(self, shape: Shape, form: Form, name: str):
        return getattr(self, f"_parse_{shape.type_name}", self._parse_scalar)(shape, form, name)

    def _parse_members(self, shape: Shape, form: Form, prefix: str) -> dict:
        params = {}
        for member_name, member in shape.members.items():
            value = self._parse(member, form, join(prefix, self.field_name(member, member_name)))
            if value is not MISSING:
                params[member_name] = value
        return params

    def field_name(self, member: Shape, member_name: str) -> str:
        return member.serialization.get("name", member_name)

    def _parse_structure(self, shape, form, name):
        if not form.has(name):
            return MISSING
        return self._parse_members(shape, form, name)

    def _parse_list(self, shape, form, name):
        prefix = self.list_prefix(shape, name)
        if not form.has(prefix):
            return [] if form.get(name) == "" else MISSING
        items = [self._parse(shape.member, form, item) for item in form.indexes(prefix)]
        return [item for item in items if item is not MISSING]

    def list_prefix(self, shape: Shape, name: str) -> str:
        if not shape.serialization.get("flattened"):
            return f"{name}.{shape.member.serialization.get('name', 'member')}"
        item_name = shape.member.serialization.get("name")
        if item_name:
            return ".".join(name.split(".")[:-1] + [item_name])
        return name

    def _parse_map(self, shape, form, name):
        prefix = name if shape.serialization.get("flattened") else f"{name}.entry"
        if not form.has(prefix):
            return {} if form.get(name) == "" else MISSING
        key_name = shape.key.serialization.get("name", "key")
        value_name = shape.value.serialization.get("name", "value")
        result = {}
        for entry in form.indexes(prefix):
            key = self._parse(shape.key, form, f"{entry}.{key_name}")
            if key is MISSING:
                continue
            value = self._parse(shape.value, form, f"{entry}.{value_name}")
            result[key] = None if value is MISSING else value
        return result

    def _parse_scalar(self, shape, form, name):
        text = form.get(name)
        if text is None:
            return MISSING
        if not is_utf8(text):
            raise self.not_utf8(name)
        try:
            return scalar_from_text(shape, text)
        except SerializationError as e:
            raise ServiceError(
                f"Value '{text[:100]}' for parameter {name} is invalid. {e.message}",
                code=self.validation_error_code, status=400,
            ) from None

    # -- response side ------------------------------------------------------------
    @property
    def xml_namespace(self) -> str:
        metadata = self.model.metadata
        if metadata.get("xmlNamespace"):
            return metadata["xmlNamespace"]
        prefix = metadata.get("endpointPrefix") or self.model.service_name
        return f"https://{prefix}.amazonaws.com/doc/{metadata.get('apiVersion', '')}/"

    def headers(self, request_id: str) -> dict[str, str]:
        return {"Content-Type": self.content_type, "x-amzn-RequestId": request_id}

    def serialize(self, operation: OperationModel, result: dict, request_id: str) -> HttpResponse:
        root = ET.Element(f"{operation.name}Response", {"xmlns": self.xml_namespace})
        self.write_result(root, operation, result or {})
        metadata = ET.SubElement(root, "ResponseMetadata")
        ET.SubElement(metadata, "RequestId").text = request_id
        return HttpResponse(200, self.headers(request_id), to_bytes(root))

    def write_result(self, root: ET.Element, operation: OperationModel, result: dict) -> None:
        shape = operation.output_shape
        if shape is None:
            return
        wrapper = shape.serialization.get("resultWrapper")
        element = ET.SubElement(root, wrapper) if wrapper else root
        if wrapper:
            set_namespace(element, shape)
        XmlWriter().write_members(element, shape, result)

    def serialize_error(
        self, error: ServiceError, operation: OperationModel | None, request_id: str
    ) -> HttpResponse:
        root = ET.Element("ErrorResponse", {"xmlns": self.xml_namespace})
        element = ET.SubElement(root, "Error")
        ET.SubElement(element, "Type").text = "Sender" if error.sender_fault else "Receiver"
        self.write_error_detail(element, error)
        ET.SubElement(root, "RequestId").text = request_id
        headers = {**self.headers(request_id), **error.headers}
        return HttpResponse(error.status, headers, to_bytes(root))

    def write_error_detail(self, element: ET.Element, error: ServiceError) -> None:
        """`<Code>`, `<Message>` and the error shape's other members."""
        ET.SubElement(element, "Code").text = error.code
        ET.SubElement(element, "Message").text = error.message or ""
        write_error_fields(element, self.error_shape(error.code), error.fields)

