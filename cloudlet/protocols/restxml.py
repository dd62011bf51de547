"""The rest-xml protocol (S3; Route 53 and CloudFront speak it too).

`RestXmlCodec` is `RestCodec` (rest.py: routing and the members bound to the URI, query
string, headers and host) plus an XML body:

- an input or output shape with a `payload` member: a blob or string payload is the raw
  body; a structure payload is one element named after the member's `locationName`;
- otherwise the members left for the body sit in one root element (its name does not
  matter to clients: the shape's `locationName`, else `<OperationName>Request`/`Result`).

`parse()` returns `(OperationModel, params)`; XML that is malformed or hostile (DTDs,
entities: billion laughs, XXE) is a 400 `MalformedXML`. Errors are

    <ErrorResponse><Error><Type>Sender|Receiver</Type><Code/><Message/>fields</Error>
      <RequestId/></ErrorResponse>

S3 answers with a bare `<Error>` instead and names its roots and request-id headers its
own way; an S3 subclass overrides `error_document`, `output_root_name`,
`request_id_headers` and `xml_namespace` — each one small method here.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

from botocore.model import OperationModel, Shape

from cloudlet.errors import SerializationError, ServiceError
from cloudlet.protocols.base import HttpRequest, HttpResponse
from cloudlet.protocols.rest import RestCodec, decode_utf8
from cloudlet.protocols.xml import (
    HTTP_BOUND,
    XmlReader,
    namespace_attributes,
    parse_xml,
    to_bytes,
    write_document,
    write_error_fields,
)


class RestXmlCodec(RestCodec):
    protocol = "rest-xml"
    content_type = "application/xml"
    validation_error_code = "ValidationError"
    malformed_xml_code = "MalformedXML"
    malformed_xml_message = (
        "The XML you provided was not well-formed or did not validate against our "
        "published schema"
    )

    # -- request side -------------------------------------------------------------
    def _parse_members(self, shape: Shape, request: HttpRequest, members: dict) -> dict:
        if not request.body.strip():
            return {}
        return self._read(lambda: XmlReader().read_members(shape, parse_xml(request.body)))

    def _parse_payload(self, name: str, member: Shape, request: HttpRequest) -> dict:
        body = request.body
        if member.type_name == "blob":
            return {name: body} if body else {}
        if member.type_name == "string":
            return {name: decode_utf8(body)} if body else {}
        if not body.strip():
            return {}
        return {name: self._read(lambda: XmlReader().read_members(member, parse_xml(body)))}

    def _read(self, read):
        try:
            return read()
        except SerializationError as e:
            raise self.malformed_xml(e) from None

    def malformed_xml(self, cause: ServiceError) -> ServiceError:
        return ServiceError(self.malformed_xml_message, code=self.malformed_xml_code, status=400)

    # -- response side ------------------------------------------------------------
    @property
    def xml_namespace(self) -> str | None:
        return self.model.metadata.get("xmlNamespace")

    def request_id_headers(self, request_id: str) -> dict[str, str]:
        return {"x-amzn-RequestId": request_id}

    def output_root_name(self, operation: OperationModel) -> str:
        shape = operation.output_shape
        return shape.serialization.get("name") or f"{operation.name}Result"

    def serialize(self, operation: OperationModel, result: dict, request_id: str) -> HttpResponse:
        response = super().serialize(operation, result or {}, request_id)
        response.headers.update(self.request_id_headers(request_id))
        return response

    def _serialize_body(self, operation: OperationModel, body: dict, response: HttpResponse):
        shape = operation.output_shape
        if shape is None:
            return
        payload = shape.serialization.get("payload")
        if payload:
            self._serialize_payload(shape.members[payload], payload, body.get(payload), response)
        elif has_body_members(shape):
            self._set_xml_document(response, self.output_root_name(operation), shape, body)

    def _serialize_payload(self, member: Shape, name: str, value, response: HttpResponse):
        if value is None:
            return
        if member.type_name in ("blob", "string"):
            response.body = value.encode("utf-8") if isinstance(value, str) else value
            if member.type_name == "string":
                _set_default(response, "Content-Type", "text/plain")
            return
        self._set_xml_document(response, member.serialization.get("name", name), member, value)

    def _root_attributes(self, shape: Shape) -> dict[str, str]:
        attributes = namespace_attributes(shape)
        if "xmlns" not in attributes and self.xml_namespace:
            attributes["xmlns"] = self.xml_namespace
        return attributes

    def _set_xml_document(self, response: HttpResponse, root_name: str, shape: Shape,
                          value: dict) -> None:
        """`value`'s members under one root element, through the compiled writer."""
        response.body = write_document(root_name, self._root_attributes(shape), shape, value,
                                       declaration=True)
        _set_default(response, "Content-Type", self.content_type)

    # -- errors -------------------------------------------------------------------
    def serialize_error(
        self, error: ServiceError, operation: OperationModel | None, request_id: str
    ) -> HttpResponse:
        response = HttpResponse(error.status, {"Content-Type": self.content_type})
        shape = self.error_shape(error.code)
        fields = dict(error.fields)
        if shape is not None and fields:
            # Modeled header members go to headers; unmodeled fields (S3's BucketName,
            # Key, ...) stay in the body beside the modeled ones.
            unmodeled = {k: v for k, v in fields.items() if k not in shape.members}
            fields = {**unmodeled, **self._serialize_bindings_of(shape, fields, response)}
            response.status = error.status
        root = self.error_document(error, shape, fields, request_id)
        response.body = to_bytes(root, declaration=True)
        response.headers.update(self.request_id_headers(request_id))
        response.headers.update(error.headers)
        return response

    def error_document(
        self, error: ServiceError, shape: Shape | None, fields: dict, request_id: str
    ) -> ET.Element:
        root = ET.Element("ErrorResponse")
        if self.xml_namespace:
            root.set("xmlns", self.xml_namespace)
        element = ET.SubElement(root, "Error")
        ET.SubElement(element, "Type").text = "Sender" if error.sender_fault else "Receiver"
        self.write_error_detail(element, error, shape, fields)
        ET.SubElement(root, "RequestId").text = request_id
        return root

    def write_error_detail(
        self, element: ET.Element, error: ServiceError, shape: Shape | None, fields: dict
    ) -> None:
        """`<Code>`, `<Message>` and the error's other body members."""
        ET.SubElement(element, "Code").text = error.code
        ET.SubElement(element, "Message").text = error.message or ""
        write_error_fields(element, shape, fields)


def has_body_members(shape: Shape) -> bool:
    return any(
        member.serialization.get("location") not in HTTP_BOUND for member in shape.members.values()
    )


def _set_default(response: HttpResponse, name: str, value: str) -> None:
    if not any(key.lower() == name.lower() for key in response.headers):
        response.headers[name] = value
