"""What every codec shares.

A codec speaks one wire protocol for one botocore service model:

    codec = QueryCodec(service_model)
    operation, params = codec.parse(request)       # HttpRequest -> (OperationModel, dict)
    codec.validate(operation, params)              # raises ValidationError in the protocol's words
    response = codec.serialize(operation, result, request_id)          # dict -> HttpResponse
    response = codec.serialize_error(error, operation, request_id)     # ServiceError -> HttpResponse

Values in `params` and `result` are plain Python, the same as boto3's: `str`, `int`,
`float`, `bool`, `bytes` for blobs, timezone-aware `datetime` for timestamps, `list`,
`dict`. Serializers also accept epoch numbers and ISO-8601 strings for timestamps, and
`str` for blobs.

Nothing here knows a service: codecs read everything they need from the model.
"""

from __future__ import annotations

import base64
import calendar
import datetime as dt
import email.utils
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING
from urllib.parse import unquote_to_bytes

from cloudlet.errors import SerializationError, ServiceError, UnknownOperation, ValidationError
from cloudlet.protocols.numeric import from_epoch, is_number_text

if TYPE_CHECKING:  # botocore loads off the start-up path, with the first model
    from botocore.model import OperationModel, ServiceModel, Shape

UTC = dt.UTC


class Headers:
    """Case-insensitive HTTP headers that keep the order and every raw value."""

    __slots__ = ("raw", "_index")

    def __init__(self, raw: Iterable[tuple[str, str]] = ()):
        self.raw: list[tuple[str, str]] = list(raw)
        self._index: dict[str, str] = {}
        for name, value in self.raw:
            key = name.lower()
            self._index[key] = f"{self._index[key]},{value}" if key in self._index else value

    def get(self, name: str, default: str | None = None) -> str | None:
        return self._index.get(name.lower(), default)

    def __getitem__(self, name: str) -> str:
        return self._index[name.lower()]

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name.lower() in self._index

    def __iter__(self) -> Iterator[str]:
        return iter(self._index)

    def items(self):
        return self._index.items()

    def __repr__(self) -> str:
        return f"Headers({self.raw!r})"


@dataclass
class HttpRequest:
    method: str
    path: str  # as sent: percent-encoded, without the query
    query: str = ""  # as sent, without the "?"
    headers: Headers = field(default_factory=Headers)
    body: bytes = b""
    secure: bool = False  # arrived over TLS
    client_ip: str = "127.0.0.1"
    # Where the connection came from: "host" (Cloudlet's port on the host) or "cloud" (a
    # listener Cloudlet made inside a namespace, for a function or an instance).
    origin: str = "host"
    # Values derived from the request once and shared by the steps that need them.
    memo: dict = field(default_factory=dict, repr=False, compare=False)

    @property
    def host(self) -> str:
        return self.headers.get("host", "") or ""

    @property
    def content_type(self) -> str:
        return (self.headers.get("content-type") or "").split(";")[0].strip().lower()

    def query_items(self) -> list[tuple[str, str]]:
        """The query's fields, decoded by `percent_decode`."""
        return form_items(self.query)

    def form(self) -> dict[str, str]:
        """The query string and, for a form-encoded body, the body's fields."""
        items = self.query_items()
        if self.body and self.content_type in ("", "application/x-www-form-urlencoded"):
            try:
                self.body.decode("utf-8")
            except UnicodeDecodeError as e:
                raise SerializationError("The request body is not valid UTF-8.") from e
            items += form_items(self.body)
        return dict(items)

    @property
    def unquoted_path(self) -> str:
        return percent_decode(self.path)


@dataclass
class HttpResponse:
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes | Iterable[bytes] = b""


class Codec:
    """The base of every protocol's codec. Subclasses implement `operation_for`, `parse`,
    `serialize` and `serialize_error`; see each module's docstring."""

    protocol: str = ""
    content_type: str = "application/octet-stream"
    # How the protocol spells "your input does not match the input shape".
    validation_error_code = "ValidationError"

    def __init__(self, model: ServiceModel):
        self.model = model

    # -- request side -------------------------------------------------------------
    def operation_for(self, request: HttpRequest) -> OperationModel:
        raise NotImplementedError

    def parse(self, request: HttpRequest) -> tuple[OperationModel, dict]:
        raise NotImplementedError

    def validate(self, operation: OperationModel, params: dict) -> None:
        from cloudlet.protocols.validate import validate

        try:
            validate(operation.input_shape, params)
        except ValidationError as e:
            e.code = self.validation_error_code
            raise

    def not_utf8(self, where: str) -> ServiceError:
        """The error for a name or value whose bytes are not UTF-8 (`where`: the parameter
        as the wire spells it)."""
        return ServiceError(f"The value of {where} is not valid UTF-8.",
                            code=self.validation_error_code, status=400)

    # -- response side ------------------------------------------------------------
    def serialize(self, operation: OperationModel, result: dict, request_id: str) -> HttpResponse:
        raise NotImplementedError

    def serialize_error(
        self, error: ServiceError, operation: OperationModel | None, request_id: str
    ) -> HttpResponse:
        raise NotImplementedError

    # -- shared helpers -----------------------------------------------------------
    def operation(self, name: str) -> OperationModel:
        try:
            return self.model.operation_model(name)
        except Exception:
            raise UnknownOperation(
                f"The {self.model.service_name} API has no operation named {name}."
            ) from None

    def error_shape(self, code: str) -> Shape | None:
        """The model's shape for an error code, matched on the shape name or its `error.code`."""
        for shape in self.model.error_shapes:
            if shape.name == code or shape.metadata.get("error", {}).get("code") == code:
                return shape
        return None


# -- text from the URI ----------------------------------------------------------------
#
# The gateway hands the path and the query over as they arrived, read as latin-1 (one
# character per byte). Their percent-escapes are UTF-8; a byte sequence that is not UTF-8
# is kept, not replaced, as the lone surrogates U+DC80..U+DCFF (Python's surrogateescape),
# so that `k%FF` and `k%FE` stay two names, and the codec that binds the value refuses it
# (`is_utf8`) in its protocol's words. Replacing them with U+FFFD made both one key.

_NOT_UTF8 = re.compile("[\udc80-\udcff]")


def percent_decode(text: str | bytes, plus: bool = False) -> str:
    """A URI component (or a form field) with its escapes decoded; `plus` reads `+` as a
    space, as forms and query strings do."""
    if isinstance(text, str):
        if text.isascii() and "%" not in text and not (plus and "+" in text):
            return text
        try:
            raw = text.encode("latin-1")
        except UnicodeEncodeError:  # wider characters: text built in-process, not received
            raw = text.encode("utf-8", "surrogatepass")
    else:
        raw = text
    if plus:
        raw = raw.replace(b"+", b" ")
    return unquote_to_bytes(raw).decode("utf-8", "surrogateescape")


_HIGH_ESCAPE = re.compile("%[89a-fA-F]")


def is_plain(raw: str) -> bool:
    """Whether a path or query as sent decodes to ASCII (no escape of a byte past 0x7F, no
    such byte itself), so that nothing in it can fail to be UTF-8: one scan, not one per
    value."""
    return raw.isascii() and _HIGH_ESCAPE.search(raw) is None


def is_utf8(text: str) -> bool:
    """False for text `percent_decode` made from bytes that are not UTF-8."""
    return text.isascii() or _NOT_UTF8.search(text) is None


def form_items(text: str | bytes) -> list[tuple[str, str]]:
    """`a=1&b=2` as its (name, value) pairs, blank values kept, each `percent_decode`d."""
    sep, eq = ("&", "=") if isinstance(text, str) else (b"&", b"=")
    items = []
    for item in text.split(sep):
        if item:
            key, _, value = item.partition(eq)
            items.append((percent_decode(key, plus=True), percent_decode(value, plus=True)))
    return items


# -- timestamps -----------------------------------------------------------------------

def to_datetime(value) -> dt.datetime:
    """A result's timestamp, whatever form a provider gave it, as an aware UTC datetime."""
    if isinstance(value, dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, int | float):
        return dt.datetime.fromtimestamp(value, UTC)
    if isinstance(value, str):
        return parse_timestamp(value)
    raise TypeError(f"not a timestamp: {value!r}")


def format_timestamp(value, fmt: str) -> str | int | float:
    """Render a timestamp as `iso8601`, `rfc822` or `unixTimestamp`."""
    when = to_datetime(value)
    if fmt == "unixTimestamp":
        seconds = calendar.timegm(when.utctimetuple()) + when.microsecond / 1e6
        return int(seconds) if when.microsecond == 0 else round(seconds, 3)
    if fmt == "rfc822":
        return email.utils.format_datetime(when.astimezone(UTC), usegmt=True)
    text = when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S")
    if when.microsecond:
        text += f".{when.microsecond // 1000:03d}"
    return text + "Z"


def parse_timestamp(value) -> dt.datetime:
    """Parse any timestamp a client may send: epoch seconds, ISO 8601 or RFC 822. One
    that is malformed, or outside what a datetime holds (years 1 to 9999), is a
    SerializationError."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return from_epoch(value)
    text = str(value).strip()
    if is_number_text(text):
        return from_epoch(float(text))
    try:
        parsed = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    except ValueError:
        pass
    try:
        return email.utils.parsedate_to_datetime(text).astimezone(UTC)
    except (TypeError, ValueError, OverflowError, IndexError):
        raise SerializationError(f"Invalid timestamp: {text[:100]!r}") from None


def b64encode(value: bytes | str) -> str:
    if isinstance(value, str):
        value = value.encode("utf-8")
    return base64.b64encode(value).decode("ascii")


def b64decode(text: str | bytes) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except ValueError:
        raise SerializationError("Invalid base64 value.") from None
