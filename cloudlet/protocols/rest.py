"""The HTTP binding shared by `rest-json` and `rest-xml`.

A REST operation is addressed by its method and its `http.requestUri` template
(`/{Bucket}/{Key+}?uploads`); its input members live in the URI (`uri`), the query
string (`querystring`), single headers (`header`), prefixed header maps (`headers`)
and the host (`hostLabel`); the rest make up the body, which the subclass reads.

    RestCodec(Codec)                    routing + location-bound members, no body format
        operation_for(request)          -> OperationModel
        _route(request)                 -> (OperationModel, uri labels)
        _parse_http_bindings(op, req)   -> (params, {name: shape} of body members)
        _serialize_http_bindings(op, result, response) -> {name: value} left for the body
        _parse_body(op, req, members)   -> the `payload` member, else the body members
      RestJsonCodec, RestXmlCodec       add `_parse_payload` / `_parse_members`,
                                        `_serialize_body` and errors

Routing: every operation's template is compiled once per codec. Among the operations
whose path matches and whose literal query keys (`?acl`, `?list-type=2`) are present,
the most specific wins: more literal path text, then more literal query keys, then more
of its required query/header members present, fewer missing, not deprecated, model
order. `x-id=<Operation>` literals are optional: a request without them still matches.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field

from botocore.model import OperationModel, Shape

from cloudlet.errors import SerializationError, UnknownOperation
from cloudlet.protocols.base import (
    Codec,
    HttpRequest,
    HttpResponse,
    b64decode,
    b64encode,
    format_timestamp,
    is_plain,
    is_utf8,
    parse_timestamp,
    percent_decode,
)
from cloudlet.protocols.numeric import float_from_text, integer_from_text

HTTP_LOCATIONS = ("uri", "querystring", "header", "headers", "statusCode")
_LABEL = re.compile(r"\{([^}]+)\}")


# -- routing ----------------------------------------------------------------------------

@dataclass
class Route:
    operation: OperationModel
    literal_query: dict[str, str | None]  # key -> required value, None = any value
    optional_query: dict[str, str]  # x-id style literals: must match only when present
    required_query: tuple[str, ...]
    required_headers: tuple[str, ...]
    order: int

    def accepts(self, query: dict[str, list[str]]) -> bool:
        for key, value in self.literal_query.items():
            if key not in query or (value is not None and value not in query[key]):
                return False
        return all(
            key not in query or value in query[key] for key, value in self.optional_query.items()
        )

    def rank(self, query: dict[str, list[str]], request: HttpRequest) -> tuple:
        present = sum(key in query for key in self.required_query)
        present += sum(name in request.headers for name in self.required_headers)
        missing = len(self.required_query) + len(self.required_headers) - present
        return (
            len(self.literal_query),
            present,
            -missing,
            not self.operation.deprecated,
            -self.order,
        )


@dataclass
class PathTemplate:
    """One `requestUri` path, compiled: the routes of every operation that shares it."""

    pattern: re.Pattern
    literal_length: int
    routes: list[Route] = field(default_factory=list)

    @classmethod
    def compile(cls, path: str) -> PathTemplate:
        parts, literal, position = ["^"], 0, 0
        for match in _LABEL.finditer(path):
            text = path[position : match.start()]
            parts.append(re.escape(text))
            literal += len(text)
            name = match.group(1)
            if name.endswith("+"):
                parts.append(f"(?P<{_group(name[:-1])}>.+)")
            else:
                parts.append(f"(?P<{_group(name)}>[^/]+)")
            position = match.end()
        tail = path[position:]
        literal += len(tail)
        parts.append(re.escape(tail))
        if not path.endswith(("/", "+}")):
            parts.append("/?")
        parts.append("$")
        return cls(re.compile("".join(parts)), literal)

    def match(self, path: str) -> dict[str, str] | None:
        found = self.pattern.match(path)
        if found is None:
            return None
        return {_ungroup(k): percent_decode(v) for k, v in found.groupdict().items()}


def _group(label: str) -> str:
    """A label as a regex group name (labels may hold characters groups may not)."""
    return "L" + label.encode("utf-8").hex()


def _ungroup(group: str) -> str:
    return bytes.fromhex(group[1:]).decode("utf-8")


def _literal_query(text: str) -> tuple[dict[str, str | None], dict[str, str]]:
    required: dict[str, str | None] = {}
    optional: dict[str, str] = {}
    for part in filter(None, text.split("&")):
        key, has_value, value = part.partition("=")
        key, value = percent_decode(key), percent_decode(value)
        if key == "x-id":
            optional[key] = value
        else:
            required[key] = value if has_value else None
    return required, optional


def _required_bindings(operation: OperationModel) -> tuple[tuple[str, ...], tuple[str, ...]]:
    shape = operation.input_shape
    if shape is None:
        return (), ()
    query, headers = [], []
    for name in shape.required_members:
        member = shape.members[name]
        location = member.serialization.get("location")
        if location == "querystring" and member.type_name != "map":
            query.append(member.serialization.get("name", name))
        elif location == "header":
            headers.append(member.serialization.get("name", name))
    return tuple(query), tuple(headers)


def compile_routes(model) -> dict[str, list[PathTemplate]]:
    """Every operation of a model, grouped by method then by path template."""
    by_method: dict[str, dict[str, PathTemplate]] = {}
    for order, name in enumerate(model.operation_names):
        operation = model.operation_model(name)
        http = operation.http
        path, _, query = http.get("requestUri", "/").partition("?")
        templates = by_method.setdefault(http.get("method", "POST").upper(), {})
        template = templates.get(path) or templates.setdefault(path, PathTemplate.compile(path))
        literal, optional = _literal_query(query)
        required_query, required_headers = _required_bindings(operation)
        template.routes.append(
            Route(operation, literal, optional, required_query, required_headers, order)
        )
    return {
        method: sorted(templates.values(), key=lambda t: -t.literal_length)
        for method, templates in by_method.items()
    }


# -- values from strings ----------------------------------------------------------------

def parse_scalar(shape: Shape, text: str, location: str):
    """A URI label, query value or header as the member's type."""
    parse = _SCALAR_PARSERS.get(shape.type_name)
    try:
        return parse(shape, text, location) if parse else text
    except (ValueError, TypeError):
        raise SerializationError(
            f"Invalid value {text!r} for a {shape.type_name} in the {location}."
        ) from None


def _parse_integer(shape, text, location):
    return integer_from_text(text)


def _parse_float(shape, text, location):
    return float_from_text(text)


def _parse_boolean(shape, text, location):
    lowered = text.strip().lower()
    if lowered not in ("true", "false"):
        raise ValueError(text)
    return lowered == "true"


def _parse_timestamp(shape, text, location):
    return parse_timestamp(text.strip())


def _parse_blob(shape, text, location):
    return b64decode(text.strip())


def _parse_string(shape, text, location):
    if location == "header" and shape.serialization.get("jsonvalue"):
        decoded = b64decode(text.strip())
        try:
            return json.loads(decoded)
        except ValueError:
            raise SerializationError(f"Header value is not base64-encoded JSON: {text!r}") from None
    return text


_SCALAR_PARSERS = {
    "integer": _parse_integer,
    "long": _parse_integer,
    "short": _parse_integer,
    "byte": _parse_integer,
    "float": _parse_float,
    "double": _parse_float,
    "boolean": _parse_boolean,
    "timestamp": _parse_timestamp,
    "blob": _parse_blob,
    "string": _parse_string,
}


def decode_utf8(body: bytes) -> str:
    """A text payload as `str`; a body that is not UTF-8 is a `SerializationError`."""
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        raise SerializationError("The request body is not valid UTF-8.") from None


def split_header_list(shape: Shape, text: str) -> list[str]:
    """A comma-separated header as its items; quoted items may hold commas, and
    HTTP-dates (which hold a comma themselves) pair up."""
    items, current, quoted, escaped = [], [], False, False
    for char in text:
        if escaped:
            current.append(char)
            escaped = False
        elif quoted and char == "\\":
            escaped = True
        elif char == '"':
            quoted = not quoted
        elif char == "," and not quoted:
            items.append("".join(current).strip())
            current = []
        else:
            current.append(char)
    items.append("".join(current).strip())
    member = shape.member
    if member.type_name == "timestamp" and _timestamp_format(member, "header") == "rfc822":
        items = [f"{a}, {b}" for a, b in zip(items[::2], items[1::2], strict=False)]
    return items


def _timestamp_format(shape: Shape, location: str) -> str:
    default = "rfc822" if location == "header" else "iso8601"
    return shape.serialization.get("timestampFormat") or default


# -- values to strings ------------------------------------------------------------------

def format_scalar(shape: Shape, value, location: str) -> str:
    """A value as the text of a URI label, query value or header."""
    kind = shape.type_name
    if kind == "timestamp":
        return str(format_timestamp(value, _timestamp_format(shape, location)))
    if kind == "boolean":
        return "true" if value else "false"
    if kind in ("float", "double"):
        return format_float(value)
    if kind == "blob":
        return b64encode(value)
    if kind == "string" and location == "header" and shape.serialization.get("jsonvalue"):
        return b64encode(json.dumps(value, separators=(",", ":")))
    return str(value)


def format_float(value) -> str:
    value = float(value)
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    return repr(int(value)) if value.is_integer() and abs(value) < 1e16 else repr(value)


def format_header_list(shape: Shape, values: list) -> str:
    items = []
    for value in values:
        text = format_scalar(shape.member, value, "header")
        if shape.member.type_name == "string" and ("," in text or '"' in text):
            text = '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
        items.append(text)
    return ", ".join(items)


# -- the codec --------------------------------------------------------------------------

class RestCodec(Codec):
    """Routing and location-bound members for the REST protocols; see the module docstring.

    Subclasses implement `_parse_payload(name, member, request)`,
    `_parse_members(shape, request, members)` and
    `_serialize_body(operation, body_values, response)` (or override `parse`/`serialize`).
    """

    def __init__(self, model):
        super().__init__(model)
        self._routes = compile_routes(model)
        self._host_prefixes: dict[str, re.Pattern | None] = {}
        self._bindings_of: dict[str, tuple] = {}
        self._output_bindings_of: dict[int, tuple] = {}

    # -- routing ------------------------------------------------------------------
    def operation_for(self, request: HttpRequest) -> OperationModel:
        return self._route(request)[0]

    def _route(self, request: HttpRequest) -> tuple[OperationModel, dict[str, str]]:
        query = request_query(request)
        best, best_rank, best_labels, best_length = None, None, {}, -1
        for template in self._routes.get(request.method.upper(), ()):
            if template.literal_length < best_length:
                break
            labels = template.match(request.path)
            if labels is None:
                continue
            for route in template.routes:
                if not route.accepts(query):
                    continue
                rank = (template.literal_length, *route.rank(query, request))
                if best_rank is None or rank > best_rank:
                    best, best_rank, best_labels = route, rank, labels
                    best_length = template.literal_length
        if best is None:
            raise self._no_route(request)
        return best.operation, best_labels

    def _no_route(self, request: HttpRequest) -> Exception:
        return UnknownOperation(
            f"No {self.model.service_name} operation matches {request.method} {request.path}.",
            status=404,
        )

    # -- request side -------------------------------------------------------------
    def parse(self, request: HttpRequest) -> tuple[OperationModel, dict]:
        operation, labels = self._route(request)
        self._check_utf8(request, labels)
        params, body_members = self._parse_http_bindings(operation, request, labels)
        params.update(self._parse_body(operation, request, body_members))
        return operation, params

    def _check_utf8(self, request: HttpRequest, labels: dict[str, str]) -> None:
        """A URI label or query parameter whose escapes are not UTF-8 is the codec's
        `not_utf8` error, bound to a member or not."""
        if not is_plain(request.path):
            for name, value in labels.items():
                if not is_utf8(value):
                    raise self.not_utf8(name)
        query = request.query
        if query and not is_plain(query) and not query_is_utf8(request_query(request)):
            raise self.not_utf8("the query string")

    def _parse_body(self, operation: OperationModel, request: HttpRequest, members: dict) -> dict:
        shape = operation.input_shape
        if shape is None:
            return {}
        payload = shape.serialization.get("payload")
        if payload:
            return self._parse_payload(payload, shape.members[payload], request)
        return self._parse_members(shape, request, members) if members else {}

    def _parse_payload(self, name: str, member: Shape, request: HttpRequest) -> dict:
        """The `payload` member `name`: the raw body, or the body as `member`."""
        raise NotImplementedError

    def _parse_members(self, shape: Shape, request: HttpRequest, members: dict) -> dict:
        """The body `members` of `shape` (none is bound to an HTTP location)."""
        raise NotImplementedError

    def _parse_http_bindings(
        self, operation: OperationModel, request: HttpRequest, labels: dict | None = None
    ) -> tuple[dict, dict[str, Shape]]:
        """The members bound to the URI, query string, headers and host; and the shapes of
        the members left for the body."""
        shape = operation.input_shape
        if shape is None:
            return {}, {}
        if labels is None:
            labels = self._route(request)[1]
        query = request_query(request)
        params: dict = {}
        body: dict[str, Shape] = {}
        named_query, bindings = self._bindings(operation)
        for name, member, location, wire in bindings:
            if location == "uri":
                if wire in labels:
                    params[name] = parse_scalar(member, labels[wire], "uri")
            elif location == "querystring":
                value = self._parse_query_member(member, wire, query, named_query)
                if value is not None:
                    params[name] = value
            elif location == "header":
                value = self._parse_header_member(member, wire, request)
                if value is not None:
                    params[name] = value
            elif location == "headers":
                prefix = member.serialization.get("name", "")
                params[name] = self._parse_prefix_headers(member, prefix, request)
            elif location is None:
                body[name] = member
        params.update(self._parse_host_labels(operation, request))
        return params, body

    def _bindings(self, operation: OperationModel) -> tuple[set[str], list[tuple]]:
        """The query names the input's members claim, and (name, member, location, wire
        name) of each member: read from the model once per operation."""
        found = self._bindings_of.get(operation.name)
        if found is None or found[0] is not operation:
            shape = operation.input_shape
            named = {
                m.serialization.get("name", n)
                for n, m in shape.members.items()
                if m.serialization.get("location") == "querystring" and m.type_name != "map"
            }
            bindings = [(name, member, member.serialization.get("location"),
                         member.serialization.get("name", name))
                        for name, member in shape.members.items()]
            found = self._bindings_of[operation.name] = (operation, named, bindings)
        return found[1], found[2]

    def _parse_query_member(self, member: Shape, wire: str, query: dict, named: set):
        if member.type_name == "map":
            # The botocore suites disagree on parameters that another member names: a map
            # of lists takes every parameter (rest-json), a map of strings only the
            # unnamed ones (rest-xml). No service Cloudlet serves has such a map.
            if member.value.type_name == "list":
                return {k: _query_list(member.value, v) for k, v in query.items()} or None
            return {
                key: parse_scalar(member.value, items[0], "querystring")
                for key, items in query.items()
                if key not in named
            } or None
        if wire not in query:
            return None
        if member.type_name == "list":
            return _query_list(member, query[wire])
        return parse_scalar(member, query[wire][0], "querystring")

    def _parse_header_member(self, member: Shape, wire: str, request: HttpRequest):
        text = request.headers.get(wire)
        if text is None:
            return None
        if member.type_name == "list":
            if not text.strip():
                return []
            items = split_header_list(member, text)
            return [parse_scalar(member.member, item, "header") for item in items]
        if member.type_name == "string" and not member.serialization.get("jsonvalue"):
            return text
        if not text.strip():
            return None
        return parse_scalar(member, text, "header")

    def _parse_prefix_headers(self, member: Shape, prefix: str, request: HttpRequest) -> dict:
        lowered = prefix.lower()
        found = {}
        for name, value in request.headers.raw:
            if name.lower().startswith(lowered):
                key = name[len(prefix):]
                found[key] = f"{found[key]},{value}" if key in found else value
        return found

    def _parse_host_labels(self, operation: OperationModel, request: HttpRequest) -> dict:
        prefix = (operation.endpoint or {}).get("hostPrefix")
        if not prefix or "{" not in prefix:
            return {}
        if prefix not in self._host_prefixes:
            self._host_prefixes[prefix] = _compile_host_prefix(prefix)
        found = self._host_prefixes[prefix].match(request.host)
        if not found:
            return {}
        shape = operation.input_shape
        return {
            _ungroup(k): v for k, v in found.groupdict().items()
            if shape is not None and _ungroup(k) in shape.members
        }

    # -- response side ------------------------------------------------------------
    def serialize(self, operation: OperationModel, result: dict, request_id: str) -> HttpResponse:
        response = HttpResponse(status=operation.http.get("responseCode", 200))
        body = self._serialize_http_bindings(operation, result, response)
        self._serialize_body(operation, body, response)
        return response

    def _serialize_body(self, operation: OperationModel, body: dict, response: HttpResponse):
        raise NotImplementedError

    def _serialize_http_bindings(
        self, operation: OperationModel, result: dict, response: HttpResponse
    ) -> dict:
        """Write the output members bound to headers and the status code; return the rest."""
        shape = operation.output_shape
        if shape is None or not result:
            return {}
        return self._serialize_bindings_of(shape, result, response)

    def _serialize_bindings_of(self, shape: Shape, result: dict, response: HttpResponse) -> dict:
        body = {}
        members = self._output_bindings(shape)
        for name, value in result.items():
            found = members.get(name)
            if found is None or value is None:
                continue
            member, location, wire = found
            if location == "header":
                if member.type_name == "list":
                    response.headers[wire] = format_header_list(member, value)
                else:
                    response.headers[wire] = format_scalar(member, value, "header")
            elif location == "headers":
                prefix = member.serialization.get("name", "")
                for key, item in value.items():
                    response.headers[f"{prefix}{key}"] = format_scalar(member.value, item, "header")
            elif location == "statusCode":
                response.status = int(value)
            else:  # uri and querystring members of an output shape go in the body
                body[name] = value
        return body


    def _output_bindings(self, shape: Shape) -> dict[str, tuple[Shape, str | None, str]]:
        """name -> (member, location, wire name), read from the model once per shape."""
        found = self._output_bindings_of.get(id(shape))
        if found is None or found[0] is not shape:
            members = {name: (member, member.serialization.get("location"),
                              member.serialization.get("name", name))
                       for name, member in shape.members.items()}
            found = self._output_bindings_of[id(shape)] = (shape, members)
        return found[1]


def request_query(request: HttpRequest) -> dict[str, list[str]]:
    """The request's query as a multidict, parsed once per request (routing and the
    bindings both read it)."""
    found = request.memo.get("rest.query")
    if found is None or found[0] != request.query:
        found = request.memo["rest.query"] = (request.query, query_multidict(request.query))
    return found[1]


def query_multidict(text: str) -> dict[str, list[str]]:
    """`form_items(text)` grouped by name (escapes that are not UTF-8 kept for
    `request_query_is_utf8` to find)."""
    query: dict[str, list[str]] = {}
    for item in text.split("&"):
        if not item:
            continue
        key, _, value = item.partition("=")
        query.setdefault(percent_decode(key, plus=True), []).append(
            percent_decode(value, plus=True))
    return query


def query_is_utf8(query: dict[str, list[str]]) -> bool:
    return all(is_utf8(key) and all(map(is_utf8, values)) for key, values in query.items())


def _query_list(shape: Shape, items: list[str]) -> list:
    return [parse_scalar(shape.member, item, "querystring") for item in items]


def _compile_host_prefix(prefix: str) -> re.Pattern:
    parts, position = ["^"], 0
    for match in _LABEL.finditer(prefix):
        parts.append(re.escape(prefix[position : match.start()]))
        parts.append(f"(?P<{_group(match.group(1))}>[^.]+)")
        position = match.end()
    parts.append(re.escape(prefix[position:]))
    return re.compile("".join(parts), re.IGNORECASE)

