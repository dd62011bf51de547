"""S3's quirks on top of rest-xml.

- Virtual-hosted addressing: `bucket.s3.<anything>` (or `bucket.s3-<region>.<anything>`)
  carries the bucket in the Host header; the codec reads it as the path-style request
  `/<bucket>/<key>` so one set of URI templates serves both.
- GetBucketLocation answers the bare `<LocationConstraint>` element, its text the region
  (empty for us-east-1), which is what clients parse.
- Errors are a bare `<Error>` with `<RequestId>` and `<HostId>`, and request ids travel in
  `x-amz-request-id` and `x-amz-id-2`.
"""

from __future__ import annotations

import base64
import dataclasses
import xml.etree.ElementTree as ET
from urllib.parse import unquote

from botocore.model import OperationModel, Shape

from cloudlet.errors import ServiceError
from cloudlet.protocols.base import HttpRequest
from cloudlet.protocols.hosts import bucket_from_host
from cloudlet.protocols.restxml import RestXmlCodec
from cloudlet.protocols.xml import write_error_fields


def path_style(request: HttpRequest) -> HttpRequest:
    bucket = bucket_from_host(request.host)
    if bucket is None:
        return request
    return dataclasses.replace(request, path=f"/{bucket}{request.path}")


class S3Codec(RestXmlCodec):
    validation_error_code = "InvalidArgument"

    def operation_for(self, request: HttpRequest) -> OperationModel:
        return super().operation_for(path_style(request))

    def parse(self, request: HttpRequest) -> tuple[OperationModel, dict]:
        return super().parse(path_style(request))

    def validate(self, operation: OperationModel, params: dict) -> None:
        """An unknown storage class is S3's own `InvalidStorageClass`, not a generic
        enum failure."""
        member = operation.input_shape.members.get("StorageClass") if operation.input_shape else None
        value = params.get("StorageClass")
        if member is not None and value is not None and value not in (member.enum or [value]):
            raise ServiceError("The storage class you specified is not valid",
                               code="InvalidStorageClass", status=400,
                               fields={"StorageClassRequested": value})
        super().validate(operation, params)

    def serialize(self, operation: OperationModel, result: dict, request_id: str):
        response = super().serialize(operation, result, request_id)
        if operation.name == "GetBucketLocation":
            root = ET.Element("LocationConstraint", xmlns="http://s3.amazonaws.com/doc/2006-03-01/")
            root.text = (result or {}).get("LocationConstraint") or None
            response.body = ET.tostring(root, xml_declaration=True, encoding="UTF-8")
        return response

    def bucket_of(self, request: HttpRequest) -> str | None:
        """The bucket a request addresses, virtual-hosted or path style (the gateway's CORS
        steps ask, where no operation parses: a preflight OPTIONS)."""
        name = unquote(path_style(request).path.lstrip("/").split("/", 1)[0])
        return name or None

    def request_id_headers(self, request_id: str) -> dict[str, str]:
        host_id = base64.b64encode(request_id.encode()).decode()
        return {"x-amz-request-id": request_id, "x-amz-id-2": host_id}

    def error_document(
        self, error: ServiceError, shape: Shape | None, fields: dict, request_id: str
    ) -> ET.Element:
        root = ET.Element("Error")
        ET.SubElement(root, "Code").text = error.code
        ET.SubElement(root, "Message").text = error.message or ""
        write_error_fields(root, shape, fields)
        ET.SubElement(root, "RequestId").text = request_id
        ET.SubElement(root, "HostId").text = base64.b64encode(request_id.encode()).decode()
        return root
