"""The ec2 protocol: awsQuery with EC2's field names and envelopes.

`Ec2Codec` is `QueryCodec` (query.py) with three differences:

- field names: a member's `queryName`, else its `locationName` with the first letter
  capitalized, else its name; lists are always flattened (`Name.1`, `Name.2`), an empty
  list sends nothing;
- responses have no result wrapper: `<OpResponse xmlns="http://ec2.amazonaws.com/doc/
  <apiVersion>/"><requestId>id</requestId>members</OpResponse>`, after the XML declaration
  (as AWS sends it, errors too);
- errors: `<Response><Errors><Error><Code/><Message/></Error></Errors>
  <RequestID>id</RequestID></Response>`; a bad value is `InvalidParameterValue`, a
  missing required member `MissingParameter`.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

from botocore.model import OperationModel, Shape

from cloudlet.errors import ServiceError
from cloudlet.protocols.base import HttpResponse
from cloudlet.protocols.query import QueryCodec
from cloudlet.protocols.xml import escape_text, members_writer, to_bytes

# AWS's EC2 endpoints open every answer, success or error, with this line.
DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>\n'


class Ec2Codec(QueryCodec):
    protocol = "ec2"
    content_type = "text/xml;charset=UTF-8"
    validation_error_code = "InvalidParameterValue"

    # -- request side -------------------------------------------------------------
    def field_name(self, member: Shape, member_name: str) -> str:
        serialization = member.serialization
        if serialization.get("queryName"):
            return serialization["queryName"]
        if serialization.get("name"):
            name = serialization["name"]
            return name[:1].upper() + name[1:]
        return member_name

    def list_prefix(self, shape: Shape, name: str) -> str:
        return name

    def invalid_action(self, action: str, version: str) -> ServiceError:
        return ServiceError(
            f"The action {action} is not valid for this web service.",
            code="InvalidAction", status=400,
        )

    def validate(self, operation: OperationModel, params: dict) -> None:
        missing = missing_required(operation.input_shape, params, self)
        if missing:
            raise ServiceError(
                f"The request must contain the parameter {missing}",
                code="MissingParameter", status=400,
            )
        super().validate(operation, params)

    # -- response side ------------------------------------------------------------
    @property
    def xml_namespace(self) -> str:
        return f"http://ec2.amazonaws.com/doc/{self.model.metadata.get('apiVersion', '2016-11-15')}/"

    def serialize(self, operation: OperationModel, result: dict, request_id: str) -> HttpResponse:
        """Through the compiled writer (xml.py): a DescribeSecurityGroups of a thousand
        groups is written without building a tree."""
        name = f"{operation.name}Response"
        out = [f'{DECLARATION}<{name} xmlns="{self.xml_namespace}"><requestId>'
               f"{escape_text(request_id)}</requestId>"]
        if operation.output_shape is not None:
            members_writer(operation.output_shape)(out, result or {})
        out.append(f"</{name}>")
        body = "".join(out).encode("utf-8", "surrogatepass")
        return HttpResponse(200, self.headers(request_id), body)

    def serialize_error(
        self, error: ServiceError, operation: OperationModel | None, request_id: str
    ) -> HttpResponse:
        root = ET.Element("Response")
        element = ET.SubElement(ET.SubElement(root, "Errors"), "Error")
        self.write_error_detail(element, error)
        ET.SubElement(root, "RequestID").text = request_id
        headers = {**self.headers(request_id), **error.headers}
        return HttpResponse(error.status, headers, DECLARATION.encode() + to_bytes(root))


def missing_required(shape: Shape | None, params, codec: Ec2Codec, prefix: str = "") -> str | None:
    """The wire name of the first required member absent from `params`, looking into
    nested structures and list items."""
    if shape is None or not isinstance(params, dict):
        return None
    for name in shape.required_members:
        if params.get(name) is None and name in shape.members:
            return prefix + codec.field_name(shape.members[name], name)
    for name, member in shape.members.items():
        value = params.get(name)
        field = prefix + codec.field_name(member, name)
        if member.type_name == "structure":
            found = missing_required(member, value, codec, f"{field}.")
        elif member.type_name == "list" and member.member.type_name == "structure":
            found = next(
                (m for i, item in enumerate(value or [], 1)
                 if (m := missing_required(member.member, item, codec, f"{field}.{i}."))),
                None,
            )
        else:
            found = None
        if found:
            return found
    return None
