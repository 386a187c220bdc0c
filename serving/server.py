"""HTTP translation service: the API (FastAPI), in front of the micro-batcher (serving/batcher.py), with metrics
(serving/metrics.py).

Endpoints: `POST /translate`, `GET /languages`, `GET /health`, `GET /metrics` (Prometheus text format), and the
OpenAPI docs at /docs and /openapi.json. Every error, whatever its status and wherever it arises (validation,
unknown path, wrong method, a body that is not UTF-8, overload, deadline, a model failure), is answered with one
JSON format: `{"error": code, "detail": ...}` (see `ERROR_CODES`).

A request's deadline is `request_timeout_s` after it arrived (body reading, queue wait and decoding together): the
answer is the translations, or 503 `overloaded` (shed: not translated; `Retry-After`), or 504
`deadline_exceeded` (decoding started but did not end in time) — never later than the deadline. Texts must be
valid Unicode (a lone surrogate such as "\\ud800" is valid JSON but not text: 400), and only the directions the
model was trained on are served. With an API key configured, every endpoint but /health (and the docs) needs it
in `X-API-Key: KEY` or `Authorization: Bearer KEY`.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import secrets
from dataclasses import dataclass, field, fields
from typing import Annotated

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from serving.batcher import BatcherConfig, ClientGone, DeadlineExceeded, MicroBatcher, Overloaded
from serving.metrics import CONTENT_TYPE, ServiceMetrics
from serving.translator import DecodingOptions
from volctrans.errors import VolctransError

logger = logging.getLogger(__name__)

ROUTES = ("/translate", "/languages", "/health", "/metrics", "/docs", "/docs/oauth2-redirect", "/openapi.json",
          "/redoc")
OPEN_ROUTES = ("/health", "/docs", "/docs/oauth2-redirect", "/openapi.json", "/redoc")  # no API key needed
ERROR_CODES = {400: "invalid_request", 401: "unauthorized", 404: "not_found", 405: "method_not_allowed",
               413: "too_large", 415: "unsupported_media_type", 500: "internal_error", 503: "overloaded",
               504: "deadline_exceeded"}


@dataclass
class ServerConfig:
    max_wait_ms: float = 5.0  # how long the first request of a batch waits for others
    max_batch_tokens: int = 4096  # source pieces per micro-batch
    max_batch_texts: int = 512
    max_queue: int = 256  # waiting requests; beyond → 503
    max_queue_tokens: int = 65536  # waiting source pieces; beyond → 503
    max_texts_per_request: int = 256
    max_text_chars: int = 10_000  # per text; longer → 400 (inputs are also truncated to max_input_pieces pieces)
    workers: int = 1  # concurrent CTranslate2 calls (match the translator's inter_threads)
    request_timeout_s: float = 30.0  # deadline of a request from its arrival: queue wait + decoding
    stalled_after_s: float = 120.0  # /health is 503 while a model call has been running longer than this
    api_key: str | None = field(default=None, repr=False)  # required on every endpoint but /health when set

    def validate(self) -> list[str]:
        problems = [f"{name} must be ≥ 1" for name in ("max_batch_tokens", "max_batch_texts", "max_queue",
                                                        "max_queue_tokens", "max_texts_per_request",
                                                        "max_text_chars", "workers")
                    if getattr(self, name) < 1]
        if self.max_wait_ms < 0:
            problems.append("max_wait_ms must be ≥ 0")
        if self.request_timeout_s <= 0 or self.stalled_after_s <= 0:
            problems.append("request_timeout_s and stalled_after_s must be > 0")
        if self.api_key is not None and len(self.api_key) < 16:
            problems.append("api_key must be at least 16 characters")
        return problems

    def batcher_config(self) -> BatcherConfig:
        names = {item.name for item in fields(BatcherConfig)}
        return BatcherConfig(**{name: getattr(self, name) for name in names})

    @property
    def max_body_bytes(self) -> int:
        """The largest body a valid request can have: every text at its limit, each character JSON-escaped."""
        return self.max_texts_per_request * (6 * self.max_text_chars + 8) + 4096


class TranslateRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    texts: Annotated[list[str], Field(min_length=1, description="texts to translate, in order")]
    source: str = Field(max_length=32, description="source language code, e.g. en")
    target: str = Field(max_length=32, description="target language code, e.g. de")


class TranslateResponse(BaseModel):
    translations: list[str]
    source: str
    target: str


class ErrorResponse(BaseModel):
    error: str  # see ERROR_CODES; also unknown_language, unsupported_direction, unhealthy
    detail: object = None


class LanguagesResponse(BaseModel):
    languages: list[str]
    directions: list[str]  # "src-tgt", the trained directions


def error_response(status: int, code: str | None = None, detail=None, headers: dict | None = None) -> Response:
    """The one error format. ASCII JSON: a detail quoting a client's unencodable text still serializes."""
    body = json.dumps({"error": code or ERROR_CODES.get(status, "error"), "detail": detail}, ensure_ascii=True)
    return Response(body, status_code=status, media_type="application/json", headers=headers)


class BodyTooLarge(StarletteHTTPException):
    def __init__(self, limit: int):
        super().__init__(413, f"request body over {limit} bytes")


class ServiceMiddleware:
    """Pure ASGI middleware around the app: the arrival time (the deadline's start), the API key, the body size
    limit, request metrics with bounded labels, and a last guard that turns any non-JSON error answer (e.g.
    from Starlette itself) into the project's format."""

    def __init__(self, app, config: ServerConfig, metrics: ServiceMetrics):
        self.app = app
        self.config = config
        self.metrics = metrics
        self.limit = config.max_body_bytes

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        loop = asyncio.get_running_loop()
        start = loop.time()
        scope.setdefault("state", {})["received_at"] = start
        status = 500
        headers = {key.decode("latin-1").lower(): value.decode("latin-1") for key, value in scope["headers"]}

        async def reply(response: Response) -> None:
            nonlocal status
            status = response.status_code
            await response(scope, receive, send)

        try:
            if self.config.api_key is not None and scope["path"] not in OPEN_ROUTES and not self._authorized(headers):
                await reply(error_response(401, detail="missing or wrong API key (X-API-Key or Authorization: "
                                                       "Bearer)", headers={"WWW-Authenticate": "Bearer"}))
                return
            length = headers.get("content-length")
            if length is not None and (not length.isdigit() or int(length) > self.limit):
                await reply(error_response(413, detail=f"request body over {self.limit} bytes"))
                return
            received = 0

            async def limited_receive():
                nonlocal received
                message = await receive()
                if message["type"] == "http.request":
                    received += len(message.get("body", b""))
                    if received > self.limit:
                        raise BodyTooLarge(self.limit)
                return message

            pending_error: dict | None = None

            async def guarded_send(message):
                nonlocal status, pending_error
                if message["type"] == "http.response.start":
                    status = message["status"]
                    content_type = dict(message.get("headers", [])).get(b"content-type", b"")
                    if status >= 400 and not content_type.startswith(b"application/json"):
                        pending_error = message  # replaced by a JSON body once the original body is known
                        return
                elif message["type"] == "http.response.body" and pending_error is not None:
                    if message.get("more_body"):
                        return
                    await error_response(status, detail=ERROR_CODES.get(status, "error"))(scope, receive, send)
                    pending_error = None
                    return
                await send(message)

            await self.app(scope, limited_receive, guarded_send)
        finally:
            route = getattr(scope.get("route"), "path", None)
            self.metrics.observe_request(route, scope.get("method", ""), status, loop.time() - start)

    def _authorized(self, headers: dict[str, str]) -> bool:
        offered = headers.get("x-api-key")
        if offered is None and headers.get("authorization", "").lower().startswith("bearer "):
            offered = headers["authorization"][7:].strip()
        return offered is not None and secrets.compare_digest(offered.encode(), self.config.api_key.encode())


async def _disconnected(request: Request) -> None:
    """Return when the client has gone (its body is already read: the next message is the disconnect)."""
    while True:
        message = await request.receive()
        if message["type"] == "http.disconnect":
            return


def _unencodable(texts: list[str]) -> list[int]:
    bad = []
    for index, text in enumerate(texts):
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            bad.append(index)
    return bad


def create_app(translator, config: ServerConfig | None = None, options: DecodingOptions | None = None):
    """The FastAPI application for one translator (anything with langs, directions, check_direction,
    count_pieces and translate)."""
    config = config or ServerConfig()
    options = options or DecodingOptions()
    problems = config.validate() + options.validate()
    if problems:
        raise VolctransError("server configuration: " + "; ".join(problems))
    metrics = ServiceMetrics(ROUTES)
    directions = [f"{source}-{target}" for source, target in translator.directions]

    async def lifespan(app: FastAPI):
        app.state.batcher = MicroBatcher(translator, config.batcher_config(), options, metrics)
        app.state.batcher.start()
        yield
        await app.state.batcher.stop()

    app = FastAPI(title="volctrans", description="Multilingual machine translation (CTranslate2)",
                  lifespan=contextlib.asynccontextmanager(lifespan), version="2",
                  responses={code: {"model": ErrorResponse} for code in (400, 401, 413, 500)})
    app.add_middleware(ServiceMiddleware, config=config, metrics=metrics)

    @app.exception_handler(RequestValidationError)
    async def invalid_payload(request: Request, exc: RequestValidationError):
        # Locations and messages only: echoing the input could repeat an unencodable or huge value.
        detail = [{"loc": [str(part) for part in item.get("loc", ())], "msg": item.get("msg", "")}
                  for item in exc.errors()]
        return error_response(400, "invalid_request", detail)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException):
        status = 400 if exc.status_code == 422 else exc.status_code
        detail = exc.detail
        if isinstance(exc.__cause__, UnicodeDecodeError):
            detail = f"the body is not UTF-8 (byte {exc.__cause__.start})"
        return error_response(status, detail=detail, headers=getattr(exc, "headers", None))

    @app.exception_handler(Exception)
    async def internal_error(request: Request, exc: Exception):
        logger.exception("unhandled error on %s", request.url.path)
        return error_response(500, "internal_error", type(exc).__name__)

    @app.post("/translate", response_model=TranslateResponse,
              responses={503: {"model": ErrorResponse}, 504: {"model": ErrorResponse}})
    async def translate(body: TranslateRequest, request: Request):
        """Translate a batch of texts; requests from all clients are micro-batched together."""
        loop = asyncio.get_running_loop()
        deadline = request.scope.get("state", {}).get("received_at", loop.time()) + config.request_timeout_s
        if len(body.texts) > config.max_texts_per_request:
            return error_response(400, "invalid_request", f"at most {config.max_texts_per_request} texts per request")
        too_long = [i for i, text in enumerate(body.texts) if len(text) > config.max_text_chars]
        if too_long:
            return error_response(400, "invalid_request", f"texts {too_long[:10]} exceed {config.max_text_chars} "
                                                          "characters")
        bad = _unencodable(body.texts)
        if bad or _unencodable([body.source, body.target]):
            return error_response(400, "invalid_request", f"texts {bad[:10]} are not valid Unicode text (a lone "
                                                          "surrogate such as \\ud800?)" if bad else
                                  "source and target must be valid Unicode text")
        try:
            translator.check_direction(body.source, body.target)
        except VolctransError as exc:
            known = body.source in translator.langs and body.target in translator.langs
            return error_response(400, "unsupported_direction" if known else "unknown_language", str(exc))
        tokens = sum(translator.count_pieces(text) + 2 for text in body.texts)
        batcher: MicroBatcher = app.state.batcher
        try:
            job = batcher.submit(body.texts, body.source, body.target, tokens, deadline)
        except Overloaded as exc:
            metrics.shed.labels(exc.reason).inc()
            return error_response(503, "overloaded", exc.detail, {"Retry-After": "1"})
        try:
            translations = await batcher.wait(job, _disconnected(request))
        except Overloaded as exc:
            return error_response(503, "overloaded", exc.detail, {"Retry-After": "1"})
        except DeadlineExceeded:
            return error_response(504, "deadline_exceeded", f"not translated within {config.request_timeout_s}s")
        except ClientGone:
            return error_response(499, "client_closed", "the client disconnected")  # nobody reads it
        except VolctransError as exc:
            return error_response(400, "invalid_request", str(exc))
        except Exception as exc:  # the model failed for this batch: logged by the batcher, the service goes on
            return error_response(500, "internal_error", type(exc).__name__)
        total = loop.time() - request.scope["state"]["received_at"]
        timing = ", ".join(f"{name};dur={seconds * 1000:.1f}" for name, seconds in
                           [*job.timings.items(), ("total", total)])
        return JSONResponse({"translations": translations, "source": body.source, "target": body.target},
                            headers={"Server-Timing": timing})

    @app.get("/languages", response_model=LanguagesResponse)
    async def languages():
        """The model's languages and the directions it was trained on (only those are translated)."""
        return {"languages": list(translator.langs), "directions": directions}

    @app.get("/health")
    async def health():
        """Liveness: 503 when the batching worker stopped or a model call is stuck."""
        batcher: MicroBatcher = app.state.batcher
        if not batcher.alive():
            return error_response(503, "unhealthy", "batching worker stopped")
        running = batcher.running_for()
        if running > config.stalled_after_s:
            return error_response(503, "unhealthy", f"a model call has been running for {running:.0f}s")
        return {"status": "ok", "langs": list(translator.langs), "queue_depth": batcher.depth(),
                "queue_tokens": batcher.queued_tokens(), "model_call_running_s": round(running, 3)}

    @app.get("/metrics", response_class=Response)
    async def get_metrics():
        """Prometheus text format: requests by route/method/status, latency and batch histograms, shedding."""
        return Response(metrics.exposition(), media_type=CONTENT_TYPE)

    return app
