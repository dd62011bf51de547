"""S3's quirks on top of rest-xml.

- Virtual-hosted addressing: `bucket.s3.<anything>` (or `bucket.s3-<region>.<anything>`)
  carries the bucket in the Host header; the codec reads it as the path-style request
  `/<bucket>/<key>` so one set of URI templates serves both.
- GetBucketLocation answers the bare `<LocationConstraint>` element, its text the region
  (empty for us-east-1), which is what clients parse.
- Browser uploads: a multipart/form-data POST to `/<bucket>` is no operation in the model;
  the codec answers it as a synthetic `PostObject` (PutObject's shapes, its parameters read
  from the form fields, the file its Body) and shapes its response as S3 does: 204 by
  default, `success_action_status` 200 (empty) or 201 (`<PostResponse>`), or a 303 to
  `success_action_redirect`.
- Errors are a bare `<Error>` with `<RequestId>` and `<HostId>`, and request ids travel in
  `x-amz-request-id` and `x-amz-id-2`.
"""

from __future__ import annotations

import base64
import dataclasses
import functools
import xml.etree.ElementTree as ET
from urllib.parse import quote, urlencode

from botocore.model import OperationModel, Shape

from cloudlet.errors import ServiceError
from cloudlet.protocols.base import HttpRequest, HttpResponse, is_utf8, percent_decode
from cloudlet.protocols.hosts import bucket_from_host
from cloudlet.protocols.postform import PostForm, form_of
from cloudlet.protocols.rest import parse_scalar
from cloudlet.protocols.restxml import RestXmlCodec
from cloudlet.protocols.xml import write_error_fields


def path_style(request: HttpRequest) -> HttpRequest:
    bucket = bucket_from_host(request.host)
    if bucket is None:
        return request
    return dataclasses.replace(request, path=f"/{bucket}{request.path}")


# Form fields (lower-cased) that carry a PutObject member, as its headers do.
POST_FIELDS = {
    "acl": "ACL", "cache-control": "CacheControl", "content-type": "ContentType",
    "content-disposition": "ContentDisposition", "content-encoding": "ContentEncoding",
    "content-language": "ContentLanguage", "content-md5": "ContentMD5", "expires": "Expires",
    "x-amz-storage-class": "StorageClass",
    "x-amz-website-redirect-location": "WebsiteRedirectLocation",
    "x-amz-server-side-encryption": "ServerSideEncryption",
    "x-amz-server-side-encryption-aws-kms-key-id": "SSEKMSKeyId",
    "x-amz-checksum-algorithm": "ChecksumAlgorithm",
    "x-amz-object-lock-mode": "ObjectLockMode",
    "x-amz-object-lock-retain-until-date": "ObjectLockRetainUntilDate",
    "x-amz-object-lock-legal-hold": "ObjectLockLegalHoldStatus",
    "x-amz-grant-read": "GrantRead", "x-amz-grant-read-acp": "GrantReadACP",
    "x-amz-grant-write-acp": "GrantWriteACP", "x-amz-grant-full-control": "GrantFullControl",
}
# Where the codec keeps what shapes a POST upload's response (not a PutObject member).
POST_UPLOAD = "PostUpload"


def is_post_upload(request: HttpRequest) -> bool:
    """A browser upload: multipart/form-data POSTed to a bucket (no key, no subresource)."""
    if request.method != "POST" or request.content_type != "multipart/form-data" or request.query:
        return False
    return "/" not in path_style(request).path.strip("/")


def invalid_argument(message: str, name: str, value: str | None = None) -> ServiceError:
    fields = {"ArgumentName": name}
    if value is not None:
        fields["ArgumentValue"] = value
    return ServiceError(message, code="InvalidArgument", status=400, fields=fields)


def invalid_uri() -> ServiceError:
    """A key, bucket, query parameter or form field whose bytes are not UTF-8."""
    return ServiceError("Couldn't parse the specified URI.", code="InvalidURI", status=400)


def tagging_query(text: str) -> str:
    """A POST's `tagging` field (a `<Tagging>` document) as PutObject's tag query string."""
    try:
        root = ET.fromstring(text)
    except ET.ParseError:
        raise ServiceError("The XML you provided was not well-formed or did not validate "
                           "against our published schema", code="MalformedXML", status=400) from None
    pairs = []
    for tag in root.iter():
        if tag.tag.rsplit("}", 1)[-1] == "Tag":
            values = {child.tag.rsplit("}", 1)[-1]: child.text or "" for child in tag}
            pairs.append((values.get("Key", ""), values.get("Value", "")))
    return urlencode(pairs)


def post_params(request: HttpRequest, form: PostForm, operation: OperationModel) -> dict:
    """PutObject's parameters from a POST upload's form."""
    bucket = percent_decode(path_style(request).path.strip("/"))
    if not is_utf8(bucket) or not all(map(is_utf8, form.fields.values())):
        raise invalid_uri()
    key = form.get("key")
    if key is None:
        raise invalid_argument("Bucket POST must contain a field named 'key'.  If it is "
                               "specified, please check the order of the fields.", "key")
    if not form.has_file:
        raise invalid_argument("POST requires exactly one file upload per request.", "file", "0")
    # `${filename}` in any field is the file's name, after its last slash or backslash.
    filename = (form.file_name or "").replace("\\", "/").rsplit("/", 1)[-1]
    if not is_utf8(filename):
        raise invalid_uri()
    key = key.replace("${filename}", filename)
    params: dict = {"Bucket": bucket, "Key": key, "Body": form.content}
    metadata = {}
    for name, value in form.fields.items():
        lower = name.lower()
        value = value.replace("${filename}", filename)
        if lower in POST_FIELDS:
            params[POST_FIELDS[lower]] = value
        elif lower.startswith("x-amz-meta-"):
            metadata[lower[len("x-amz-meta-"):]] = value
        elif lower.startswith("x-amz-checksum-"):
            params["Checksum" + lower[len("x-amz-checksum-"):].upper()] = value
        elif lower == "tagging":
            params["Tagging"] = tagging_query(value)
    if metadata:
        params["Metadata"] = metadata
    if "ChecksumAlgorithm" in params:
        params["ChecksumAlgorithm"] = params["ChecksumAlgorithm"].upper()
    if "ObjectLockRetainUntilDate" in params:
        member = operation.input_shape.members["ObjectLockRetainUntilDate"]
        params["ObjectLockRetainUntilDate"] = parse_scalar(
            member, params["ObjectLockRetainUntilDate"], "form")
    scheme = "https" if request.secure else "http"
    virtual = bucket_from_host(request.host) is not None
    base = f"{scheme}://{request.host}" + ("" if virtual else f"/{quote(bucket)}")
    params[POST_UPLOAD] = {
        "location": f"{base}/{quote(key, safe='/')}",
        "status": form.get("success_action_status"),
        "redirect": form.get("success_action_redirect") or form.get("redirect"),
    }
    return params


@functools.cache
def _post_object_model(model) -> OperationModel:
    spec = dict(model._service_description["operations"]["PutObject"])
    spec.pop("httpChecksum", None)
    spec.update(name="PostObject", http={"method": "POST", "requestUri": "/{Bucket}"})
    return OperationModel(spec, model, "PostObject")


def post_object_model(model) -> OperationModel:
    """The synthetic PostObject operation: PutObject's input and output, POST /{Bucket}."""
    return _post_object_model(model)


def post_response(response: HttpResponse, upload: dict, bucket: str, key: str) -> HttpResponse:
    """A POST upload's answer: 204, 200, 201 with `<PostResponse>`, or a 303 redirect."""
    etag = response.headers.get("ETag", "")
    location = upload["location"]
    response.body = b""
    response.headers.pop("Content-Type", None)
    redirect = upload.get("redirect")
    if redirect:
        glue = "&" if "?" in redirect else "?"
        response.status = 303
        response.headers["Location"] = redirect + glue + urlencode(
            {"bucket": bucket, "key": key, "etag": etag})
        return response
    response.headers["Location"] = location
    status = upload.get("status")
    if status == "201":
        root = ET.Element("PostResponse")
        for name, value in (("Location", location), ("Bucket", bucket), ("Key", key),
                            ("ETag", etag)):
            ET.SubElement(root, name).text = value
        response.status = 201
        response.body = ET.tostring(root, xml_declaration=True, encoding="UTF-8")
        response.headers["Content-Type"] = "application/xml"
    else:
        response.status = 200 if status == "200" else 204
    return response


class S3Codec(RestXmlCodec):
    validation_error_code = "InvalidArgument"

    def not_utf8(self, where: str) -> ServiceError:
        return invalid_uri()

    def operation_for(self, request: HttpRequest) -> OperationModel:
        if is_post_upload(request):
            return post_object_model(self.model)
        return super().operation_for(path_style(request))

    def parse(self, request: HttpRequest) -> tuple[OperationModel, dict]:
        if is_post_upload(request):
            operation = post_object_model(self.model)
            return operation, post_params(request, form_of(request), operation)
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
        if operation.name == "PostObject":
            params = {k: v for k, v in params.items() if k != POST_UPLOAD}
        super().validate(operation, params)

    def serialize(self, operation: OperationModel, result: dict, request_id: str):
        if operation.name == "PostObject":
            result = dict(result or {})
            upload = result.pop(POST_UPLOAD, None) or {}
            bucket, key = result.pop("Bucket", ""), result.pop("Key", "")
            response = super().serialize(operation, result, request_id)
            return post_response(response, upload, bucket, key)
        response = super().serialize(operation, result, request_id)
        if operation.name == "GetBucketLocation":
            root = ET.Element("LocationConstraint", xmlns="http://s3.amazonaws.com/doc/2006-03-01/")
            root.text = (result or {}).get("LocationConstraint") or None
            response.body = ET.tostring(root, xml_declaration=True, encoding="UTF-8")
        return response

    def bucket_of(self, request: HttpRequest) -> str | None:
        """The bucket a request addresses, virtual-hosted or path style (the gateway's CORS
        steps ask, where no operation parses: a preflight OPTIONS)."""
        name = percent_decode(path_style(request).path.lstrip("/").split("/", 1)[0])
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
