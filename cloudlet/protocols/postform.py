"""S3 browser uploads: the multipart/form-data body of a POST to a bucket.

Field values and part headers are UTF-8; bytes that are not stay as lone surrogates
(surrogateescape, as `base.percent_decode` keeps them) so the codec can refuse them.

`parse_form` splits the body into its fields and the file (the last field S3 reads);
`form_of` parses a request's body once and keeps the result in its memo, so the auth step
(which checks the policy's signature) and the S3 codec (which reads the upload's
parameters) share one parse.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from cloudlet.errors import ServiceError
from cloudlet.protocols.base import HttpRequest

# S3 reads at most this many bytes of form fields before the file.
MAX_PRE_DATA = 20 * 1024


@dataclass
class PostForm:
    fields: dict[str, str] = field(default_factory=dict)  # names as sent
    file_name: str | None = None
    file_content_type: str | None = None
    content: bytes = b""
    has_file: bool = False  # a `file` field was sent

    def get(self, name: str) -> str | None:
        lower = name.lower()
        for key, value in self.fields.items():
            if key.lower() == lower:
                return value
        return None


def malformed_form(message: str = "The body of your POST request is not well-formed multipart/form-data.") -> ServiceError:
    return ServiceError(message, code="MalformedPOSTRequest", status=400)


def boundary_of(content_type: str) -> bytes | None:
    for param in content_type.split(";")[1:]:
        key, _, value = param.strip().partition("=")
        if key.lower() == "boundary" and value:
            return value.strip('"').encode("latin-1")
    return None


def _disposition(headers: dict[str, str]) -> dict[str, str]:
    params = {}
    for item in headers.get("content-disposition", "").split(";")[1:]:
        key, _, value = item.strip().partition("=")
        params[key.lower()] = value.strip().strip('"')
    return params


def _part(raw: bytes) -> tuple[dict[str, str], bytes]:
    head, sep, body = raw.partition(b"\r\n\r\n")
    if not sep:
        raise malformed_form()
    headers = {}
    for line in head.decode("utf-8", "surrogateescape").split("\r\n"):
        name, colon, value = line.partition(":")
        if colon:
            headers[name.strip().lower()] = value.strip()
    return headers, body


def parse_form(body: bytes, content_type: str) -> PostForm:
    """Split a multipart/form-data body; fields after the file are ignored, as S3 does."""
    boundary = boundary_of(content_type)
    if not boundary:
        raise malformed_form()
    delimiter = b"--" + boundary
    form = PostForm()
    chunks = body.split(delimiter)
    if len(chunks) < 3:
        raise malformed_form()
    preceding = len(chunks[0])
    for raw in chunks[1:]:
        if raw.startswith(b"--"):
            return form
        if preceding > MAX_PRE_DATA:
            raise ServiceError("Your POST request fields preceeding the upload file was too large.",
                               code="MaxPostPreDataLengthExceeded", status=400,
                               fields={"MaxPostPreDataLengthBytes": MAX_PRE_DATA})
        preceding += len(delimiter) + len(raw)
        if not raw.startswith(b"\r\n") or not raw.endswith(b"\r\n"):
            raise malformed_form()
        headers, content = _part(raw[2:-2])
        params = _disposition(headers)
        name = params.get("name")
        if name is None:
            raise malformed_form()
        if name.lower() == "file":
            form.file_name = params.get("filename")
            form.file_content_type = headers.get("content-type")
            form.content = content
            form.has_file = True
            return form
        form.fields[name] = content.decode("utf-8", "surrogateescape")
    raise malformed_form()


def form_of(request: HttpRequest) -> PostForm:
    """The request's form, parsed once."""
    form = request.memo.get("post_form")
    if form is None:
        form = parse_form(request.body, request.headers.get("content-type") or "")
        request.memo["post_form"] = form
    return form
