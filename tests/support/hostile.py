"""Hostile requests drawn from the models' shapes, for the codec fuzz (issue 12).

`Hostile(protocol).params(operation)` draws an operation's input the way an attacker
would: numbers at and beyond their model and type bounds (10^400, 2^63, NaN, -0.0, 5,000
digits), strings at and past their lengths, bytes that are not UTF-8, JSON's lone
surrogates, wrong JSON/CBOR types, lists past their length, missing required members.
`build(service, protocol, operation, params)` turns them into the `Wire` request a client
would put on the wire. `bombs(protocol)` draws bodies no shape describes: depth bombs,
duplicate keys, declared lengths far past the body, truncations.

Values no serializer can write (bytes that are not UTF-8, a number of 5,000 digits, a
bare `NaN`) travel as tokens, `zq<kind><hex>qz`: plain letters and digits that survive
percent-encoding, JSON and XML unchanged, replaced once the request is serialized by the
raw bytes, in the form each place needs (percent-escaped in a URI or form, raw in a JSON
or XML body, a same-place text item in CBOR).
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import re
import string
from dataclasses import dataclass, field
from urllib.parse import quote_from_bytes, urlsplit

import cbor2
from botocore.awsrequest import create_request_object, prepare_request_dict
from botocore.serialize import create_serializer
from hypothesis import strategies as st

ENDPOINT = "http://127.0.0.1:4566"
MAX_DEPTH = 3
LONG = 70_000  # past every length bound a model states for a name
# In the URI, less: the HTTP server refuses a request line and headers past 16 KiB itself.
LONG_IN_URI = 12_000
BODY_PROTOCOLS = ("json", "smithy-rpc-v2-cbor")  # serialized here, any JSON/CBOR type
_TOKEN = re.compile(rb"zq([ns])([0-9a-f]*)qz")


def token(raw: bytes | str, number: bool = False) -> str:
    """A placeholder for wire bytes: `number` ones replace a whole JSON value."""
    if isinstance(raw, str):
        raw = raw.encode("utf-8", "surrogatepass")
    return f"zq{'n' if number else 's'}{raw.hex()}qz"


# -- the values ---------------------------------------------------------------------------

NOT_UTF8 = [b"\xff", b"\xfe", b"k\xff", b"\xc3(", b"\xed\xa0\x80", b"\xc0\xaf", b"\xf8\x88\x80\x80\x80",
            b"ok\x80"]
JSON_ESCAPES = [b"\\ud800", b"\\udcff", b"a\\udfffb", b"\\u0000", b"\\ud83d\\ude00"]
NUMBER_TEXTS = ["1" * 5000, "-" + "9" * 5000, "1e400", "-1e400", "1E999999999", "1e-400",
                "-0", "-0.0", "0.5", "1.0", "1_0", "0x10", "+5", " 7 ", "NaN", "Infinity",
                "-Infinity", "nan", "inf", "1" + "0" * 400, "\u0661\u0662", ""]
DATES = [dt.datetime(1, 1, 1, tzinfo=dt.UTC), dt.datetime(9999, 12, 31, 23, 59, 59, tzinfo=dt.UTC),
         dt.datetime(1970, 1, 1, tzinfo=dt.UTC), dt.datetime(2038, 1, 19, 3, 14, 8, tzinfo=dt.UTC)]
EPOCHS = [0, -1, 253402300799, 253402300800, -62135596800, -62135596801, 2**63, 10**20,
          1.5, float("nan"), float("inf"), -float("inf"), 10**400]
TYPE_BOUNDS = {"integer": 2**31, "long": 2**63, "short": 2**15, "byte": 2**7}


class Hostile:
    """Strategies for hostile values of botocore shapes, for one protocol."""

    def __init__(self, protocol: str, anchors: dict[str, list] | None = None):
        """`anchors`: member name -> values that name something that exists (a bucket, a
        log group), drawn half the time so the request gets past "not found"."""
        self.protocol = protocol
        self.any_type = protocol in BODY_PROTOCOLS
        self.anchors = anchors or {}
        self._cache: dict = {}

    def params(self, operation):
        shape = operation.input_shape
        if shape is None:
            return st.just({})
        return self._structure(shape, 0, top=True)

    def value(self, shape, depth: int, location: str | None = None):
        key = (id(shape), depth, location)
        if key not in self._cache:
            body = self.any_type or (self.protocol == "rest-json" and location is None)
            strategy = getattr(self, f"_{shape.type_name}", self._string)(shape, depth, location)
            if body:
                strategy = st.one_of(strategy, self.wrong_type())
            self._cache[key] = strategy
        return self._cache[key]

    def wrong_type(self):
        return st.sampled_from([None, True, 0, -1, 1.5, "", "x", [], [None], {}, {"a": 1}])

    # -- containers -------------------------------------------------------------------
    def _structure(self, shape, depth: int, location=None, top: bool = False):
        if shape.metadata.get("document"):
            return self._document(depth)
        members = {}
        for name, member in shape.members.items():
            if member.serialization.get("eventstream"):
                continue
            where = member.serialization.get("location") if top else None
            if self.protocol not in ("rest-json", "rest-xml"):
                where = None
            if depth >= MAX_DEPTH and member.type_name in ("structure", "list", "map"):
                continue
            members[name] = self.value(member, depth + 1, where)
            if name in self.anchors:
                members[name] = st.one_of(st.sampled_from(self.anchors[name]), members[name])
        if not members:
            return st.just({})
        # A REST request without its URI labels is not one a client can send.
        labels = [n for n, m in shape.members.items() if top and n in members and _label(m)]
        required = [n for n in shape.required_members if n in members and n not in labels]
        keep = st.fixed_dictionaries(
            {n: members[n] for n in required + labels},
            optional={n: s for n, s in members.items() if n not in required + labels})
        # Drop a required member now and then: the validator's "must not be null".
        drop = st.fixed_dictionaries({n: members[n] for n in labels},
                                     optional={n: s for n, s in members.items() if n not in labels})
        return st.one_of(keep, keep, drop) if required else keep

    def _list(self, shape, depth: int, location=None):
        low = int(shape.metadata.get("min", 0) or 0)
        high = shape.metadata.get("max")
        item = self.value(shape.member, depth + 1, location and "item")
        sizes = [0, 1, 2, max(low - 1, 0)]
        if high is not None and high < 120:
            sizes += [int(high), int(high) + 1]
        return st.sampled_from(sorted(set(sizes))).flatmap(
            lambda n: st.lists(item, min_size=n, max_size=n))

    def _map(self, shape, depth: int, location=None):
        if location == "headers":  # x-amz-meta-<key>: keys are header names
            keys = st.text(string.ascii_lowercase + string.digits, min_size=1, max_size=6)
        else:
            keys = self._string(shape.key, depth + 1, location)
        values = self.value(shape.value, depth + 1, location)
        return st.dictionaries(keys, values, max_size=3)

    def _document(self, depth: int):
        leaves = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=5))
        return st.recursive(leaves, lambda inner: st.one_of(
            st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=3), inner, max_size=3)),
            max_leaves=8)

    # -- scalars -----------------------------------------------------------------------
    def _string(self, shape, depth: int, location=None):
        low = int(shape.metadata.get("min", 0) or 0)
        high = int(shape.metadata.get("max", 256))
        options = [
            st.text(st.characters(blacklist_categories=("Cs",)), max_size=8),
            st.sampled_from(["", "a", "é😀", "a\x00b", "a/b", "..", "%", "a b+c", "<x>&"]),
            st.sampled_from([n for n in {max(low - 1, 0), low, high, high + 1} if n <= 5000]
                            ).map(lambda n: "a" * n),
            st.just(LONG if location is None else LONG_IN_URI).map(lambda n: "a" * n),
            st.sampled_from(NOT_UTF8).map(token),
        ]
        if shape.enum:
            options.append(st.sampled_from(list(shape.enum) + [shape.enum[0].lower() + "x"]))
        if self.protocol in ("json", "rest-json") and location is None:
            options.append(st.sampled_from(JSON_ESCAPES).map(token))
        if location in ("header", "headers", "item"):
            options = [st.text(string.printable.strip(), max_size=8),
                       st.sampled_from(["", "a" * 9000, "\u00ff\u00e9"])]
        return st.one_of(options)

    def _integer(self, shape, depth: int, location=None):
        bound = TYPE_BOUNDS.get(shape.type_name, 2**31)
        edges = {0, -1, bound - 1, bound, -bound, -bound - 1, 2**64, 10**400, -(10**400)}
        for key in ("min", "max"):
            if key in shape.metadata:
                edge = int(shape.metadata[key])
                edges |= {edge - 1, edge, edge + 1}
        edge = st.sampled_from(sorted(edges))
        options = [edge, edge, st.integers(-(2**70), 2**70)]  # edges twice as often
        if location != "header":
            options.append(st.sampled_from(NUMBER_TEXTS).map(lambda t: token(t, number=True)))
        return st.one_of(options)

    _long = _short = _byte = _integer

    def _float(self, shape, depth: int, location=None):
        edges = [0.0, -0.0, 5e-324, 1.7976931348623157e308, -1.7976931348623157e308, 2.0**360,
                 2.0**-270, 10**400, -(10**400), 2**64]
        if self.any_type or location is None:
            edges += [float("nan"), float("inf"), -float("inf")]
        for key in ("min", "max"):
            if key in shape.metadata:
                edge = float(shape.metadata[key])
                edges += [edge, edge - 0.5, edge + 0.5]
        edge = st.sampled_from(edges)
        options = [edge, edge, st.floats(allow_nan=False, allow_infinity=False)]
        if location != "header":
            options.append(st.sampled_from(NUMBER_TEXTS).map(lambda t: token(t, number=True)))
        if self.protocol == "smithy-rpc-v2-cbor":
            options.append(st.sampled_from([cbor2.CBORTag(4, (400, 1)), cbor2.CBORTag(4, (-400, 7)),
                                            cbor2.CBORTag(4, (2**70, 1)), cbor2.CBORTag(2, b"\xff" * 300)]))
        return st.one_of(options)

    _double = _float

    def _boolean(self, shape, depth: int, location=None):
        return st.booleans()

    def _blob(self, shape, depth: int, location=None):
        options = [st.binary(max_size=16)]
        if self.protocol == "json" or (self.protocol == "rest-json" and location is None):
            options.append(st.sampled_from(["not base64!", "====", "YQ", "\u00ff"]).map(
                lambda t: token(f'"{t}"', number=True)))
        return st.one_of(options)

    def _timestamp(self, shape, depth: int, location=None):
        options = [st.sampled_from(DATES)]
        if self.any_type or (self.protocol == "rest-json" and location is None):
            options.append(st.sampled_from(EPOCHS))
            options.append(st.sampled_from(["2020-01-01T00:00:00Z", "99999-01-01T00:00:00Z", "",
                                            "not a date", "1e400", "Tue, 29 Feb 2000 00:00:00 GMT"]))
            options.append(st.sampled_from(["1e400", "-1e400", "1" * 5000, "NaN"]).map(
                lambda t: token(t, number=True)))
        if self.protocol == "smithy-rpc-v2-cbor":
            options.append(st.sampled_from([cbor2.CBORTag(1, 10**30), cbor2.CBORTag(1, float("nan")),
                                            cbor2.CBORTag(1, "2020-01-01"), cbor2.CBORTag(0, "x")]))
        return st.one_of(options)


def labels_only(operation) -> dict:
    """Just the URI labels an operation's requestUri needs, so that any body can go to it."""
    shape = operation.input_shape
    if shape is None:
        return {}
    return {name: "b" for name, member in shape.members.items() if _label(member)}


def _label(member) -> bool:
    """A member in the URI or the host, which a request cannot leave out."""
    return member.serialization.get("location") == "uri" or bool(member.serialization.get("hostLabel"))


# -- the wire -----------------------------------------------------------------------------

@dataclass
class Wire:
    """One request as it goes on the wire: the path and query as sent (percent-encoded)."""

    method: str
    path: str
    query: str
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""

    @property
    def target(self) -> str:
        return self.path + (f"?{self.query}" if self.query else "")


def build(service: str, protocol: str, operation, params: dict, model) -> Wire:
    """The request for hostile `params`. A serializer that refuses them raises."""
    if protocol == "json":
        version = model.metadata.get("jsonVersion", "1.0")
        headers = {"Content-Type": f"application/x-amz-json-{version}",
                   "X-Amz-Target": f"{model.metadata['targetPrefix']}.{operation.name}"}
        return Wire("POST", "/", "", headers, _json_body(operation.input_shape, params))
    if protocol == "smithy-rpc-v2-cbor":
        path = f"/service/{model.metadata['targetPrefix']}/operation/{operation.name}"
        headers = {"Content-Type": "application/cbor", "Accept": "application/cbor",
                   "smithy-protocol": "rpc-v2-cbor"}
        return Wire("POST", path, "", headers, _cbor_body(operation.input_shape, params))
    serialized = create_serializer(protocol, include_validation=False).serialize_to_request(
        params, operation)
    prepare_request_dict(serialized, endpoint_url=ENDPOINT)
    prepared = create_request_object(serialized).prepare()
    url = urlsplit(prepared.url)
    body = prepared.body or b""
    if hasattr(body, "read"):
        body = body.read()
    if isinstance(body, str):
        body = body.encode("utf-8")
    headers = {k: v.decode("latin-1") if isinstance(v, bytes) else v
               for k, v in prepared.headers.items() if k.lower() != "content-length"}
    kind = "form" if protocol in ("query", "ec2") else ("json" if protocol == "rest-json" else "xml")
    return Wire(prepared.method, _in_url(url.path), _in_url(url.query),
                {k: _in_header(v) for k, v in headers.items()}, _in_body(body, kind))


def _in_url(text: str) -> str:
    if "zq" not in text:
        return text
    return _TOKEN.sub(lambda m: _escaped(m[2]), text.encode("latin-1")).decode("latin-1")


def _escaped(hex_text: bytes) -> bytes:
    return quote_from_bytes(bytes.fromhex(hex_text.decode()), safe="").encode()


def _in_header(text: str) -> str:
    if "zq" not in text:
        return text
    return _TOKEN.sub(lambda m: bytes.fromhex(m[2].decode()), text.encode("latin-1")).decode("latin-1")


def _in_body(body: bytes, kind: str) -> bytes:
    if b"zq" not in body:
        return body
    if kind == "form":
        return _TOKEN.sub(lambda m: _escaped(m[2]), body)
    if kind == "json":
        body = re.sub(rb'"zqn([0-9a-f]*)qz"', lambda m: bytes.fromhex(m[1].decode()), body)
    return _TOKEN.sub(lambda m: bytes.fromhex(m[2].decode()), body)


def _plain(shape, value, cbor: bool):
    """A value as the JSON or CBOR serializer of a client writes it, wrong types as they are."""
    if value is None or shape is None:
        return value
    kind = shape.type_name
    if kind == "structure" and isinstance(value, dict) and not shape.metadata.get("document"):
        return {shape.members[k].serialization.get("name", k) if k in shape.members else k:
                _plain(shape.members.get(k), v, cbor) for k, v in value.items()}
    if kind == "list" and isinstance(value, list):
        return [_plain(shape.member, v, cbor) for v in value]
    if kind == "map" and isinstance(value, dict):
        return {k: _plain(shape.value, v, cbor) for k, v in value.items()}
    if kind == "blob" and isinstance(value, bytes):
        return value if cbor else base64.b64encode(value).decode()
    if kind == "timestamp" and isinstance(value, dt.datetime):
        seconds = value.timestamp()
        return cbor2.CBORTag(1, seconds) if cbor else seconds
    if kind in ("float", "double") and isinstance(value, float) and not cbor and value != value:
        return "NaN"
    if kind in ("float", "double") and isinstance(value, float) and not cbor and abs(value) == float("inf"):
        return "Infinity" if value > 0 else "-Infinity"
    return value


def _json_body(shape, params: dict) -> bytes:
    text = json.dumps(_plain(shape, params, cbor=False), allow_nan=True).encode()
    return _in_body(text, "json")


def _cbor_body(shape, params: dict) -> bytes:
    body = cbor2.dumps(_plain(shape, params, cbor=True))
    for found in set(_TOKEN.findall(body)):
        tok = b"zq" + found[0] + found[1] + b"qz"
        raw = bytes.fromhex(found[1].decode())
        body = body.replace(cbor2.dumps(tok.decode()), _cbor_head(3, len(raw)) + raw)
    return body


def _cbor_head(major: int, length: int) -> bytes:
    if length < 24:
        return bytes([major << 5 | length])
    for info, size in ((24, 1), (25, 2), (26, 4), (27, 8)):
        if length < 256**size:
            return bytes([major << 5 | info]) + length.to_bytes(size, "big")
    raise ValueError(length)


# -- bodies no shape describes ---------------------------------------------------------------

def json_bombs():
    depth = st.sampled_from([100, 1000, 100_000])
    return st.one_of(
        depth.map(lambda n: b"[" * n + b"]" * n),
        depth.map(lambda n: b'{"a":' * n + b"1" + b"}" * n),
        depth.map(lambda n: b"[" * n),
        st.just(b'{"a": 1, "a": "x", "a": [1]}'),
        st.just(b'{"logGroupName": "g", "logGroupName": {"x": 1}}'),
        st.sampled_from([b"NaN", b"[Infinity]", b'{"a": -Infinity}', b"\xef\xbb\xbf{}", b"{}\x00",
                         b'"\\ud800"', b"\xff\xfe{\x00}\x00", b'{"a": 1' + b" " * 10000]),
        st.binary(max_size=64),
    )


def cbor_bombs():
    depth = st.sampled_from([65, 1000, 100_000])
    return st.one_of(
        depth.map(lambda n: b"\x81" * n + b"\x00"),
        depth.map(lambda n: b"\xa1\x61a" * n + b"\x00"),
        depth.map(lambda n: b"\x9f" * n),  # indefinite arrays, never closed
        st.just(b"\xa2\x61a\x01\x61a\x02"),  # a duplicate key
        st.just(b"\xa1\x69Namespace\x7b" + (2**63).to_bytes(8, "big")),  # a text of 2^63 bytes
        st.just(b"\xa1\x69Namespace\x5b\xff\xff\xff\xff\xff\xff\xff\xff"),
        st.just(b"\xa1\x69Namespace\xd8\x1c\x00"),  # a shared reference
        st.just(b"\xa1\x69Namespace\xc4\x82\x1b\x7f\xff\xff\xff\xff\xff\xff\xff\x01"),
        st.just(b"\xa1\x69Namespace\xf9\x7e\x00"),  # a half-precision NaN
        st.just(b"\xa1\x69Namespace\xf7"),  # undefined
        st.binary(max_size=64),
    )


def xml_bombs():
    depth = st.sampled_from([100, 1000, 100_000])
    return st.one_of(
        depth.map(lambda n: b"<a>" * n + b"</a>" * n),
        depth.map(lambda n: b"<Tagging><TagSet>" + b"<Tag>" * n + b"</Tag>" * n + b"</TagSet></Tagging>"),
        st.just(b"<Tagging><TagSet><Tag><Key>a</Key><Key>b</Key><Value>v</Value></Tag></TagSet></Tagging>"),
        st.just(b"<Tagging><TagSet><Tag><Key>\xff</Key><Value>v</Value></Tag></TagSet></Tagging>"),
        st.just(b"<Tagging><TagSet><Tag><Key>&#xD800;</Key><Value>v</Value></Tag></TagSet></Tagging>"),
        st.just(b'<?xml version="1.0" encoding="UTF-16"?><Tagging/>'),
        st.just(b"<Delete>" + b"<Object><Key>k</Key></Object>" * 1001 + b"</Delete>"),
        st.binary(max_size=64),
    )


def form_bombs():
    return st.one_of(
        st.sampled_from([b"Action=ListUsers&Version=2010-05-08&MaxItems=1&MaxItems=x",
                         b"Action=ListUsers&Version=2010-05-08&" + b"a=1&" * 20000,
                         b"Action=ListUsers&Version=2010-05-08&Marker=" + b"%FF" * 100,
                         b"Action=ListUsers&Version=2010-05-08&%FF=1",
                         b"Action=ListUsers%FF&Version=2010-05-08",
                         b"Action=CreateUser&Version=2010-05-08&UserName=a&Tags.member.100000.Key=k",
                         b"Action=CreateUser&Version=2010-05-08&UserName=a&Tags.member.1.Key=k"
                         b"&Tags.member.1.Key.x=1&Tags.member.1=2"]),
        st.binary(max_size=64),
    )


BOMBS = {"json": json_bombs, "rest-json": json_bombs, "smithy-rpc-v2-cbor": cbor_bombs,
         "rest-xml": xml_bombs, "query": form_bombs, "ec2": form_bombs}
