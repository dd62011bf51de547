"""The life of one request, as one list of named steps.

    route -> authenticate -> parse -> validate -> authorize -> dry_run -> dispatch -> serialize

Each step takes the `Exchange` and fills in its part; any step may raise a `ServiceError`,
which `render_error` turns into the protocol's modeled error. Anything else is a bug: it is
logged with its traceback and the client gets a modeled `InternalFailure`, never a trace.
"""

from __future__ import annotations

import asyncio
import ctypes
import gc
import logging
import uuid
import zlib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from cloudlet.auth import Authenticated, authenticate, scope_of
from cloudlet.auth.credentials import CredentialStore
from cloudlet.errors import (
    InternalFailure,
    NotImplementedOperation,
    SerializationError,
    ServiceError,
    ServiceNotServed,
)
from cloudlet.gateway.routing import find_service
from cloudlet.models import SERVICES, service_metadata, service_model
from cloudlet.protocols import codec_class, request_protocol
from cloudlet.protocols.base import HttpRequest, HttpResponse
from cloudlet.services.base import Provider, RequestContext

if TYPE_CHECKING:
    from botocore.model import OperationModel

    from cloudlet.protocols.base import Codec

log = logging.getLogger("cloudlet.gateway")

DEFAULT_REGION = "us-east-1"
MAX_BODY = 5 * 1024**3
# Operations whose body goes to disk as it arrives, never whole in memory.
STREAMED_OPERATIONS = {("s3", "PutObject"), ("s3", "UploadPart")}
# Operations AWS serves unsigned though the model does not say so: SNS's SubscribeURL
# and UnsubscribeURL are plain links (GET ?Action=ConfirmSubscription&...).
ANONYMOUS_OPERATIONS = {("sns", "ConfirmSubscription"), ("sns", "Unsubscribe")}


class RequestTimeout(ServiceError):
    code = "RequestTimeout"
    status = 400
    message = ("Your socket connection to the server was not read from or written to within "
               "the timeout period. Idle connections will be closed.")


class EntityTooLarge(ServiceError):
    code = "EntityTooLarge"
    status = 400
    message = "Your proposed upload exceeds the maximum allowed size"


class BodyStream:
    """A request body still on the socket, at most `limit` bytes. `read()` (async) returns
    it whole; iterating (from a worker thread) yields it in pieces of about `PIECE` bytes,
    decoded through an aws-chunked `decoder` if one is set; `trailers` are known once
    iteration ends."""

    PIECE = 1024 * 1024

    def __init__(self, receive, timeout: float, limit: int = MAX_BODY):
        self.receive = receive
        self.timeout = timeout
        self.limit = limit
        self.size = 0
        self.done = False
        self.decoder = None
        self.loop: asyncio.AbstractEventLoop | None = None
        self.trailers: dict[str, str] = {}

    async def next_piece(self) -> bytes:
        chunks, size = [], 0
        while not self.done and size < self.PIECE:
            try:
                async with asyncio.timeout(self.timeout):  # no task per message, unlike wait_for
                    message = await self.receive()
            except TimeoutError:
                raise RequestTimeout() from None
            if message["type"] == "http.disconnect":
                raise RequestTimeout()
            chunk = message.get("body", b"")
            size += len(chunk)
            self.size += len(chunk)
            if self.size > self.limit:
                raise EntityTooLarge(fields={"MaxSizeAllowed": str(self.limit)})
            chunks.append(chunk)
            self.done = not message.get("more_body")
        return chunks[0] if len(chunks) == 1 else b"".join(chunks)

    async def read(self) -> bytes:
        pieces = []
        while not self.done:
            pieces.append(await self.next_piece())
        return pieces[0] if len(pieces) == 1 else b"".join(pieces)

    def __iter__(self):
        """The next piece is read from the socket while the consumer handles this one."""
        ahead = None
        try:
            while not self.done or ahead is not None:
                if ahead is None:
                    ahead = asyncio.run_coroutine_threadsafe(self.next_piece(), self.loop)
                piece = ahead.result()
                ahead = (asyncio.run_coroutine_threadsafe(self.next_piece(), self.loop)
                         if not self.done else None)
                if self.decoder is not None:
                    piece = self.decoder.feed(piece)
                if piece:
                    yield piece
        finally:
            if ahead is not None:
                ahead.cancel()
        if self.decoder is not None:
            self.trailers = self.decoder.finish()


def _tune_malloc() -> None:
    """Fewer malloc arenas for the many worker threads: each arena keeps the large buffers
    (body pieces) it once held."""
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):  # not glibc
        return
    mallopt(M_ARENA_MAX, 2)


M_ARENA_MAX = -8


def _release_free_memory() -> None:
    """Hand the memory freed while loading (the models' JSON) back to the system."""
    try:
        ctypes.CDLL(None).malloc_trim(0)
    except (OSError, AttributeError):  # not glibc
        pass


@dataclass
class Exchange:
    request: HttpRequest
    request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    service: str | None = None
    codec: Codec | None = None
    auth: Authenticated | None = None
    operation: OperationModel | None = None
    params: dict | None = None
    context: RequestContext | None = None
    result: dict | None = None
    response: HttpResponse | None = None


class Pipeline:
    def __init__(self, providers: dict[str, Provider], credentials: CredentialStore,
                 authorizer=None):
        self.providers = providers
        self.credentials = credentials
        self.authorizer = authorizer
        self._codecs: dict[tuple[str, str], Codec] = {}
        _tune_malloc()
        # Providers' blocking operations run here; some (a Lambda invoke) take long.
        self.executor = ThreadPoolExecutor(max_workers=64, thread_name_prefix="provider")
        self.steps = [
            self.route,
            self.preflight,
            self.authenticate,
            self.parse,
            self.validate,
            self.authorize,
            self.dry_run,
            self.dispatch,
            self.serialize,
        ]

    def warm_up(self) -> None:
        """Load every model and build every codec, off the request path."""
        for service in SERVICES:
            model = service_model(service)
            for protocol in model.metadata.get("protocols") or [model.protocol]:
                self.codec(service, protocol)
        _release_free_memory()
        # The models and codecs live as long as the process: out of the collector's sight,
        # full collections stop walking them (they set off by large Describe* answers).
        gc.freeze()

    def codec(self, service: str, protocol: str) -> Codec:
        key = (service, protocol)
        if key not in self._codecs:
            self._codecs[key] = codec_class(protocol, service)(service_model(service))
        return self._codecs[key]

    async def handle(self, request: HttpRequest) -> HttpResponse:
        exchange = Exchange(request)
        try:
            for step in self.steps:
                await step(exchange)
                if exchange.response is not None:  # answered early (a CORS preflight)
                    break
            response = exchange.response
        except ServiceError as error:
            response = self.render_error(exchange, error)
        except Exception:
            log.exception("internal error in %s %s", request.method, request.path)
            response = self.render_error(exchange, InternalFailure())
        if "origin" in request.headers and request.method != "OPTIONS":
            await self.cross_origin(exchange, response)
        return response

    # -- the steps --------------------------------------------------------------------
    async def route(self, ex: Exchange) -> None:
        self.route_sync(ex)

    def route_sync(self, ex: Exchange) -> None:
        """The service and the codec of its protocol; a service Cloudlet does not serve is
        answered here, in that codec."""
        scope = scope_of(ex.request)
        ex.service = find_service(ex.request, scope[3] if scope else None, self.speaks)
        protocol = request_protocol(service_model(ex.service), ex.request)
        ex.codec = self.codec(ex.service, protocol)
        if ex.service not in SERVICES:
            raise ServiceNotServed(ex.service, service_metadata(ex.service).get("serviceId"))

    def speaks(self, service: str, request: HttpRequest) -> bool:
        """Whether the service's codec finds an operation for the request (to tell apart
        services that share a signing name)."""
        try:
            codec = self.codec(service, request_protocol(service_model(service), request))
            codec.operation_for(request)
        except Exception:  # a probe of a model Cloudlet does not serve: any failure is a no
            return False
        return True

    async def authenticate(self, ex: Exchange) -> None:
        stream = await self._body_stream(ex)
        try:
            ex.auth = authenticate(ex.request, ex.service, self.credentials,
                                   defer_body=stream is not None)
        except ServiceError:
            if not self._unsigned_operation(ex):
                raise
            ex.auth = Authenticated(None, None, None, "anonymous", ex.request.body)
        if ex.auth.body is not None:
            ex.request.body = ex.auth.body
        credential = ex.auth.credential
        ex.context = RequestContext(
            service=ex.service,
            operation="",
            region=ex.auth.region or DEFAULT_REGION,
            account_id=credential.account_id if credential else "",
            request_id=ex.request_id,
            caller=credential,
            secure_transport=ex.request.secure,
            source_ip=ex.request.client_ip,
        )
        ex.context.extra["host"] = ex.request.host  # for URLs a provider hands out (SNS)
        trailer = ex.request.headers.get("x-amz-trailer")
        if trailer:
            ex.context.extra["checksum_trailers"] = [t.strip().lower() for t in trailer.split(",")]
        if ex.auth.trailers:
            ex.context.extra["trailers"] = ex.auth.trailers
        if stream is not None:
            stream.decoder = ex.auth.decoder
            stream.loop = asyncio.get_running_loop()
            ex.context.extra["body"] = stream
            ex.context.extra["payload_sha256"] = ex.auth.payload_sha256

    async def _body_stream(self, ex: Exchange) -> BodyStream | None:
        """The body the gateway left on the socket: kept there for a streamed operation,
        read whole for any other."""
        stream = ex.request.memo.pop("body_stream", None)
        if stream is None:
            return None
        try:
            operation = ex.codec.operation_for(ex.request).name
        except ServiceError:
            operation = None
        if (ex.service, operation) in STREAMED_OPERATIONS:
            return stream
        ex.request.body = await stream.read()
        return None

    def _unsigned_operation(self, ex: Exchange) -> bool:
        """An unsigned request for an operation the model marks unsigned (STS's
        AssumeRoleWithWebIdentity and AssumeRoleWithSAML), or one of ANONYMOUS_OPERATIONS,
        goes on, anonymous."""
        if ex.request.headers.get("authorization") is not None or scope_of(ex.request):
            return False
        try:
            operation, _ = ex.codec.parse(ex.request)
        except ServiceError:
            return False
        return operation.auth_type == "none" or (ex.service, operation.name) in ANONYMOUS_OPERATIONS

    async def preflight(self, ex: Exchange) -> None:
        """A browser's CORS preflight (`OPTIONS`, no operation in the model, never signed,
        though it carries a pre-signed URL's query): the provider answers from the bucket's
        CORS rules (`cors_preflight`)."""
        answer = getattr(self.providers.get(ex.service), "cors_preflight", None)
        bucket_of = getattr(ex.codec, "bucket_of", None)
        if ex.request.method != "OPTIONS" or answer is None or bucket_of is None:
            return
        headers = ex.request.headers
        allowed = await asyncio.get_running_loop().run_in_executor(
            self.executor, answer, bucket_of(ex.request) or "", headers.get("origin"),
            headers.get("access-control-request-method"),
            headers.get("access-control-request-headers"))
        ex.response = HttpResponse(200, dict(allowed))
        ex.response.headers.update(ex.codec.request_id_headers(ex.request_id))

    async def cross_origin(self, ex: Exchange, response: HttpResponse) -> None:
        """The Access-Control-* headers of a cross-origin request, by the provider's CORS
        rules (`cors_headers`), on success and error alike."""
        add = getattr(self.providers.get(ex.service), "cors_headers", None)
        bucket_of = getattr(ex.codec, "bucket_of", None)
        bucket = bucket_of(ex.request) if bucket_of is not None else None
        if add is None or not bucket:
            return
        try:
            response.headers.update(await asyncio.get_running_loop().run_in_executor(
                self.executor, add, bucket, ex.request.headers["origin"], ex.request.method))
        except Exception:
            log.exception("CORS headers for %s failed", bucket)

    async def parse(self, ex: Exchange) -> None:
        _decompress(ex)
        # A provider may parse and validate a hot operation itself (`parse_fast`, returning
        # None to decline); its errors must be the codec's and the validator's.
        fast = getattr(self.providers.get(ex.service), "parse_fast", None)
        parsed = fast(ex.codec, ex.request, ex.context) if fast is not None else None
        if parsed is None:
            ex.operation, ex.params = ex.codec.parse(ex.request)
        else:
            (ex.operation, ex.params), ex.context.extra["validated"] = parsed, True
        ex.context.operation = ex.operation.name

    async def validate(self, ex: Exchange) -> None:
        if not ex.context.extra.get("validated"):
            ex.codec.validate(ex.operation, ex.params)

    async def authorize(self, ex: Exchange) -> None:
        if self.authorizer is not None:
            await self.authorizer(ex)

    async def dry_run(self, ex: Exchange) -> None:
        """EC2's DryRun: an authorized request with DryRun set stops here; the provider's
        `dry_run` raises the answer (DryRunOperation)."""
        check = getattr(self.providers.get(ex.service), "dry_run", None)
        if check is not None and ex.params and ex.params.get("DryRun") is True:
            check(ex.context, ex.params)

    async def dispatch(self, ex: Exchange) -> None:
        provider = self.providers.get(ex.service)
        handler = provider.handler(ex.operation.name) if provider else None
        if handler is None:
            raise NotImplementedOperation(ex.service, ex.operation.name)
        if Provider.runs_on_loop(handler):
            ex.result = await handler(ex.context, ex.params)
        else:
            ex.result = await asyncio.get_running_loop().run_in_executor(
                self.executor, handler, ex.context, ex.params
            )

    async def serialize(self, ex: Exchange) -> None:
        ex.response = ex.codec.serialize(ex.operation, ex.result or {}, ex.request_id)
        status = ex.context.extra.get("response_status")
        if status is not None:
            ex.response.status = status

    # -- errors -----------------------------------------------------------------------
    def render_error(self, ex: Exchange, error: ServiceError) -> HttpResponse:
        codec = ex.codec or self._fallback_codec()
        try:
            response = codec.serialize_error(error, ex.operation, ex.request_id)
        except Exception:
            log.exception("could not render %s", error.code)
            response = self._fallback_codec().serialize_error(
                InternalFailure(), None, ex.request_id
            )
        response.headers.update(error.headers)
        return response

    def render_error_for(self, request: HttpRequest, error: ServiceError) -> HttpResponse:
        """An error found before the pipeline ran (a stalled body, say)."""
        exchange = Exchange(request)
        try:
            self.route_sync(exchange)
        except ServiceError:  # a service Cloudlet does not serve: its codec is set
            pass
        except Exception:
            exchange.codec = None
        return self.render_error(exchange, error)

    def _fallback_codec(self) -> Codec:
        return self.codec("sts", "query")



# RPC protocols have no modeled Content-Encoding member: there it is the compression that
# operations with the `requestcompression` trait (CloudWatch PutMetricData) use.
_RPC_PROTOCOLS = ("query", "json", "smithy-rpc-v2-cbor")
MAX_INFLATED = 64 * 1024 * 1024


def _decompress(ex: Exchange) -> None:
    """A gzip-encoded RPC body (`Content-Encoding: gzip`), inflated before parsing."""
    encoding = ex.request.headers.get("content-encoding", "").lower()
    if "gzip" not in encoding or not ex.request.body or ex.codec.protocol not in _RPC_PROTOCOLS:
        return
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        body = inflater.decompress(ex.request.body, MAX_INFLATED)
    except zlib.error:
        raise SerializationError("The request body is not valid gzip.") from None
    if inflater.unconsumed_tail:
        raise SerializationError("The request body is too large once decompressed.")
    ex.request.body = body
