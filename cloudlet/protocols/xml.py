"""XML values, driven by shapes: the part of the query, ec2 and rest-xml codecs that
reads and writes XML.

    XmlWriter().write(parent, name, shape, value)   # append `value` under `parent`
    to_bytes(root)                                   # -> UTF-8 XML, correctly escaped
    root = parse_xml(body)                           # defusedxml; SerializationError on
                                                     # anything malformed or hostile
    XmlReader().read(shape, node)                    # -> plain Python, as boto3 gives it

Both directions follow the rules botocore's XML parser reads by: a member's element is
its `locationName` (or its name); a list is `<Name><member>..</member></Name>` unless
`flattened`, when its items repeat as siblings (named after the list member's
`locationName` if it has one); a map is `<entry><key/><value/></entry>`, flattened maps
repeat the entry element itself; `xmlAttribute` members are attributes of their
structure's element; `xmlNamespace` becomes an `xmlns` (or `xmlns:prefix`) attribute.
Scalars: booleans `true`/`false`, floats with `NaN`/`Infinity`/`-Infinity`, blobs in
base64, timestamps in ISO 8601 unless the shape's `timestampFormat` says otherwise.

Elements are `xml.etree.ElementTree.Element`s whose tags and attribute names are plain
strings (`xsi:type` stays `xsi:type`); `to_bytes` writes them itself so that characters
XML would otherwise normalise away (`\\r`, newlines in attributes) survive the trip.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import xml.etree.ElementTree as ET

import defusedxml.ElementTree
from botocore.model import Shape
from defusedxml import DefusedXmlException

from cloudlet.errors import SerializationError
from cloudlet.protocols.base import b64decode, b64encode, format_timestamp, parse_timestamp
from cloudlet.protocols.numeric import float_from_text, integer_from_text

# Characters XML 1.0 cannot carry at all, even as character references.
_INVALID_XML_CHARS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
# Lone surrogates (a JSON client's "\ud800", bytes that were not UTF-8 echoed in an error
# message) have no UTF-8 form: they are written as "?", as a Java service writes them.
_SURROGATES = re.compile("[\ud800-\udfff]")
_NAMESPACE = re.compile(r"^\{.*?\}")
# Output members that live outside the body; `uri` and `querystring` mean nothing in a
# response, so such members are written to the body like any other.
HTTP_BOUND = ("header", "headers", "statusCode")


# -- writing ----------------------------------------------------------------------------

def member_element_name(shape: Shape, member_name: str) -> str:
    """The element name of a structure member: a flattened list's items are named after
    the list member's `locationName` when it has one, anything else after its own."""
    if shape.type_name == "list" and shape.serialization.get("flattened"):
        item_name = shape.member.serialization.get("name")
        if item_name:
            return item_name
    return shape.serialization.get("name", member_name)


def set_namespace(element: ET.Element, shape: Shape) -> None:
    namespace = shape.serialization.get("xmlNamespace")
    if not namespace:
        return
    if isinstance(namespace, str):
        element.set("xmlns", namespace)
    elif namespace.get("prefix"):
        element.set(f"xmlns:{namespace['prefix']}", namespace.get("uri", ""))
    else:
        element.set("xmlns", namespace.get("uri", ""))


class XmlWriter:
    """Writes plain Python values as XML elements, as a shape says."""

    default_timestamp_format = "iso8601"

    def write(self, parent: ET.Element, name: str, shape: Shape, value) -> None:
        if value is None:
            return
        getattr(self, f"_write_{shape.type_name}", self._write_scalar)(parent, name, shape, value)

    def write_members(self, element: ET.Element, shape: Shape, value: dict) -> None:
        """A structure's members (attributes and child elements) into `element`."""
        for member_name, member in shape.members.items():
            member_value = value.get(member_name)
            if member_value is None or member.serialization.get("location") in HTTP_BOUND:
                continue
            if member.serialization.get("xmlAttribute"):
                element.set(member.serialization.get("name", member_name),
                            self.text(member, member_value))
                continue
            self.write(element, member_element_name(member, member_name), member, member_value)

    def _write_structure(self, parent, name, shape, value):
        element = ET.SubElement(parent, name)
        set_namespace(element, shape)
        self.write_members(element, shape, value)

    def _write_list(self, parent, name, shape, value):
        if shape.serialization.get("flattened"):
            for item in value:
                self.write(parent, name, shape.member, item)
            return
        element = ET.SubElement(parent, name)
        set_namespace(element, shape)
        item_name = shape.member.serialization.get("name", "member")
        for item in value:
            self.write(element, item_name, shape.member, item)

    def _write_map(self, parent, name, shape, value):
        key_name = shape.key.serialization.get("name", "key")
        value_name = shape.value.serialization.get("name", "value")
        if shape.serialization.get("flattened"):
            container, entry_name = parent, name
        else:
            container, entry_name = ET.SubElement(parent, name), "entry"
            set_namespace(container, shape)
        for key, item in value.items():
            entry = ET.SubElement(container, entry_name)
            if container is parent:
                set_namespace(entry, shape)
            self.write(entry, key_name, shape.key, key)
            self.write(entry, value_name, shape.value, item)

    def _write_scalar(self, parent, name, shape, value):
        element = ET.SubElement(parent, name)
        set_namespace(element, shape)
        element.text = self.text(shape, value)

    def text(self, shape: Shape, value) -> str:
        """A scalar's text."""
        kind = shape.type_name
        if kind == "boolean":
            return "true" if value else "false"
        if kind in ("float", "double"):
            return float_text(value)
        if kind == "blob":
            return b64encode(value)
        if kind == "timestamp":
            fmt = shape.serialization.get("timestampFormat", self.default_timestamp_format)
            return str(format_timestamp(value, fmt))
        return str(value)


def float_text(value) -> str:
    number = float(value)
    if math.isnan(number):
        return "NaN"
    if math.isinf(number):
        return "Infinity" if number > 0 else "-Infinity"
    return repr(number)


def _escape(text: str, attribute: bool = False) -> str:
    text = _INVALID_XML_CHARS.sub("", text)
    text = _SURROGATES.sub("?", text)
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    text = text.replace("\r", "&#13;")
    if attribute:
        text = text.replace('"', "&quot;").replace("\n", "&#10;").replace("\t", "&#9;")
    return text


def _write_element(element: ET.Element, out: list[str]) -> None:
    out.append(f"<{element.tag}")
    for key, value in element.attrib.items():
        out.append(f' {key}="{_escape(value, attribute=True)}"')
    if element.text is None and not len(element):
        out.append("/>")
        return
    out.append(">")
    if element.text:
        out.append(_escape(element.text))
    for child in element:
        _write_element(child, out)
    out.append(f"</{element.tag}>")


def to_bytes(root: ET.Element, declaration: bool = False) -> bytes:
    out = ['<?xml version="1.0" encoding="UTF-8"?>'] if declaration else []
    _write_element(root, out)
    return "".join(out).encode("utf-8", "surrogatepass")


# -- writing, compiled --------------------------------------------------------------
#
# The same XML as `XmlWriter` followed by `to_bytes`, byte for byte, without building a
# tree: each (shape, element name) is compiled once into a function that appends escaped
# text to a list. Codecs use it for whole response documents (a ListObjectsV2 page of
# 1000 keys is ~300 KB of XML).

_NEEDS_ESCAPE = re.compile("[&<>\r\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")
_PLANS: dict[tuple[int, str], tuple[Shape, object]] = {}


def escape_text(text: str) -> str:
    return _escape(text) if _NEEDS_ESCAPE.search(text) else text


def namespace_attributes(shape: Shape) -> dict[str, str]:
    """The `xmlns` attributes `set_namespace` would give an element of `shape`."""
    element = ET.Element("x")
    set_namespace(element, shape)
    return dict(element.attrib)


def attributes_text(attributes: dict[str, str]) -> str:
    return "".join(f' {k}="{_escape(v, attribute=True)}"' for k, v in attributes.items())


def element_writer(shape: Shape, name: str):
    """`write(out, value)`: appends the XML of `value` as element(s) named `name`."""
    key = (id(shape), name)
    found = _PLANS.get(key)
    if found is None:
        found = _PLANS[key] = (shape, _compile(shape, name))
    return found[1]


def members_writer(shape: Shape):
    """`write(out, value) -> attributes`: appends the child elements of structure `value`
    and returns its `xmlAttribute` members as attribute text (for the caller's start tag)."""
    key = (id(shape), "")
    found = _PLANS.get(key)
    if found is None:
        found = _PLANS[key] = (shape, _compile_members(shape))
    return found[1]


def write_document(root_name: str, attributes: dict[str, str], shape: Shape, value: dict,
                   declaration: bool = False) -> bytes:
    """A whole document: root element `root_name` holding `value`'s members, as
    `XmlWriter().write_members` into that root then `to_bytes` would write it."""
    out = ['<?xml version="1.0" encoding="UTF-8"?>'] if declaration else []
    out.append("")  # the start tag, once the attributes are known
    start = len(out)
    member_attributes = members_writer(shape)(out, value)
    tag = f"<{root_name}{attributes_text(attributes)}{member_attributes}"
    if len(out) == start:
        out[start - 1] = tag + "/>"
    else:
        out[start - 1] = tag + ">"
        out.append(f"</{root_name}>")
    return "".join(out).encode("utf-8", "surrogatepass")


def _text_function(shape: Shape):
    kind = shape.type_name
    if kind == "boolean":
        return lambda value: "true" if value else "false"
    if kind in ("float", "double"):
        return float_text
    if kind == "blob":
        return b64encode
    if kind == "timestamp":
        fmt = shape.serialization.get("timestampFormat", XmlWriter.default_timestamp_format)
        if fmt == "iso8601":
            return _iso8601
        return lambda value: str(format_timestamp(value, fmt))
    return str


def _iso8601(value) -> str:
    if type(value) is dt.datetime and value.tzinfo is dt.UTC:
        text = (f"{value.year:04d}-{value.month:02d}-{value.day:02d}T{value.hour:02d}:"
                f"{value.minute:02d}:{value.second:02d}")
        return text + (f".{value.microsecond // 1000:03d}Z" if value.microsecond else "Z")
    return str(format_timestamp(value, "iso8601"))


def _compile(shape: Shape, name: str):
    kind = shape.type_name
    attributes = attributes_text(namespace_attributes(shape))
    if kind == "structure":
        return _compile_structure(shape, name, attributes)
    if kind == "list":
        return _compile_list(shape, name, attributes)
    if kind == "map":
        return _compile_map(shape, name, attributes)
    start, end = f"<{name}{attributes}>", f"</{name}>"
    needs_escape = _NEEDS_ESCAPE.search
    if kind in ("string", "character"):
        def write_string(out, value):
            text = value if type(value) is str else str(value)
            out.append(start + (_escape(text) if needs_escape(text) else text) + end)

        return write_string
    if kind in ("integer", "long", "short", "byte"):
        def write_integer(out, value):
            text = str(value)
            if type(value) is not int and needs_escape(text):
                text = _escape(text)
            out.append(start + text + end)

        return write_integer
    text_of = _text_function(shape)

    def write_scalar(out, value):
        text = text_of(value)
        out.append(start + (_escape(text) if needs_escape(text) else text) + end)

    return write_scalar


def _compile_structure(shape: Shape, name: str, attributes: str):
    members = members_writer(shape)
    start, end = f"<{name}{attributes}", f"</{name}>"

    def write_structure(out, value):
        out.append(start)
        at = len(out)
        member_attributes = members(out, value)
        if len(out) == at:
            out[at - 1] = start + member_attributes + "/>"
        else:
            out[at - 1] = start + member_attributes + ">"
            out.append(end)

    return write_structure


def _compile_members(shape: Shape):
    children, attributes = [], []
    for member_name, member in shape.members.items():
        if member.serialization.get("location") in HTTP_BOUND:
            continue
        if member.serialization.get("xmlAttribute"):
            attributes.append((member_name, member.serialization.get("name", member_name),
                               member))
        else:
            children.append((member_name, member, member_element_name(member, member_name)))
    plan: list = []  # filled on first use: a recursive shape compiles only as deep as used
    writer = XmlWriter()

    def write_members(out, value) -> str:
        if len(plan) != len(children):
            plan[:] = [(member_name, element_writer(member, element))
                       for member_name, member, element in children]
        for member_name, write in plan:
            member_value = value.get(member_name)
            if member_value is not None:
                write(out, member_value)
        if not attributes:
            return ""
        return "".join(f' {attribute}="{_escape(writer.text(member, value[member_name]), True)}"'
                       for member_name, attribute, member in attributes
                       if value.get(member_name) is not None)

    return write_members


def _compile_list(shape: Shape, name: str, attributes: str):
    if shape.serialization.get("flattened"):
        item = element_writer(shape.member, name)

        def write_flattened(out, value):
            for entry in value:
                if entry is not None:
                    item(out, entry)

        return write_flattened
    item = element_writer(shape.member, shape.member.serialization.get("name", "member"))
    start, end, empty = f"<{name}{attributes}>", f"</{name}>", f"<{name}{attributes}/>"

    def write_list(out, value):
        out.append(start)
        at = len(out)
        for entry in value:
            if entry is not None:
                item(out, entry)
        if len(out) == at:
            out[at - 1] = empty
        else:
            out.append(end)

    return write_list


def _compile_map(shape: Shape, name: str, attributes: str):
    key = element_writer(shape.key, shape.key.serialization.get("name", "key"))
    item = element_writer(shape.value, shape.value.serialization.get("name", "value"))
    flattened = shape.serialization.get("flattened")
    entry_start = f"<{name}{attributes}>" if flattened else "<entry>"
    entry_end = f"</{name}>" if flattened else "</entry>"

    def write_entries(out, value):
        for entry_key, entry_value in value.items():
            if entry_key is None and entry_value is None:
                out.append(entry_start[:-1] + "/>")
                continue
            out.append(entry_start)
            if entry_key is not None:
                key(out, entry_key)
            if entry_value is not None:
                item(out, entry_value)
            out.append(entry_end)

    if flattened:
        return write_entries
    start, end, empty = f"<{name}{attributes}>", f"</{name}>", f"<{name}{attributes}/>"

    def write_map(out, value):
        if not value:
            out.append(empty)
            return
        out.append(start)
        write_entries(out, value)
        out.append(end)

    return write_map


def write_error_fields(element: ET.Element, shape: Shape | None, fields: dict) -> None:
    """An error's modeled members beside its Code and Message (unmodeled scalars as text)."""
    writer = XmlWriter()
    members = shape.members if shape is not None else {}
    for name, value in fields.items():
        if value is None or name in ("Code", "Message", "message", "Type"):
            continue
        member = members.get(name)
        if member is None:
            if not isinstance(value, dict | list):
                ET.SubElement(element, name).text = str(value)
            continue
        if member.serialization.get("location") in HTTP_BOUND:
            continue
        writer.write(element, member.serialization.get("name", name), member, value)


# -- reading ----------------------------------------------------------------------------

def parse_xml(body: bytes | str) -> ET.Element:
    """The root element of an XML document from a client. DTDs, entities and external
    references are refused; anything that is not well-formed raises SerializationError."""
    try:
        return defusedxml.ElementTree.fromstring(body, forbid_dtd=True)
    except DefusedXmlException as e:
        raise SerializationError(f"The XML you provided is not allowed: {type(e).__name__}.") from None
    except (ET.ParseError, ValueError, TypeError, LookupError) as e:
        raise SerializationError(f"The XML you provided was not well-formed: {e}") from None


def local_name(tag: str) -> str:
    return _NAMESPACE.sub("", tag)


def children_by_name(node: ET.Element) -> dict[str, list[ET.Element]]:
    named: dict[str, list[ET.Element]] = {}
    for child in node:
        if isinstance(child.tag, str):
            named.setdefault(local_name(child.tag), []).append(child)
    return named


def _attribute(node: ET.Element, name: str) -> str | None:
    if name in node.attrib:
        return node.attrib[name]
    local = name.split(":")[-1]
    for key, value in node.attrib.items():
        if key.startswith("{") and local_name(key) == local:
            return value
    return None


class XmlReader:
    """Reads XML elements back into plain Python values, as a shape says. Bad scalar text
    raises SerializationError."""

    def read(self, shape: Shape, node):
        """`node` is an element, or for a flattened list or map the list of its elements."""
        return getattr(self, f"_read_{shape.type_name}", self._read_scalar)(shape, node)

    def read_members(self, shape: Shape, node: ET.Element) -> dict:
        named = children_by_name(node)
        params = {}
        for member_name, member in shape.members.items():
            if member.serialization.get("location"):
                continue
            if member.serialization.get("xmlAttribute"):
                value = _attribute(node, member.serialization.get("name", member_name))
                if value is not None:
                    params[member_name] = self.read(member, _text_node(value))
                continue
            found = named.get(member_element_name(member, member_name))
            if found is None:
                found = named.get(member.serialization.get("name", member_name))
            if found is not None:
                params[member_name] = self.read(member, found)
        return params

    def _read_structure(self, shape, node):
        return self.read_members(shape, _last(node))

    def _read_list(self, shape, node):
        items = node if shape.serialization.get("flattened") else [
            child for child in _last(node) if isinstance(child.tag, str)
        ]
        return [self.read(shape.member, item) for item in _as_list(items)]

    def _read_map(self, shape, node):
        key_name = shape.key.serialization.get("name", "key")
        value_name = shape.value.serialization.get("name", "value")
        entries = node if shape.serialization.get("flattened") else [
            child for child in _last(node) if isinstance(child.tag, str)
        ]
        result = {}
        for entry in _as_list(entries):
            named = children_by_name(entry)
            if key_name not in named:
                raise SerializationError(f"A map entry has no <{key_name}> element.")
            key = self.read(shape.key, named[key_name])
            result[key] = self.read(shape.value, named[value_name]) if value_name in named else None
        return result

    def _read_scalar(self, shape, node):
        return scalar_from_text(shape, _last(node).text or "")


def scalar_from_text(shape: Shape, text: str):
    """A scalar from its text form in XML, a query string or a header."""
    kind = shape.type_name
    try:
        if kind in ("integer", "long", "short", "byte"):
            return integer_from_text(text)
        if kind in ("float", "double"):
            return float_from_text(text)
        if kind == "boolean":
            lowered = text.strip().lower()
            if lowered not in ("true", "false"):
                raise ValueError(text)
            return lowered == "true"
        if kind == "blob":
            return b64decode(text.strip())
        if kind == "timestamp":
            return parse_timestamp(text)
    except ValueError:
        raise SerializationError(f"Invalid {kind} value: {text[:100]!r}") from None
    return text


def _text_node(text: str) -> ET.Element:
    node = ET.Element("value")
    node.text = text
    return node


def _as_list(node) -> list:
    return node if isinstance(node, list) else [node]


def _last(node):
    return node[-1] if isinstance(node, list) else node
