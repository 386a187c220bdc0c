"""HTTP translation service: FastAPI app with cross-client micro-batching in front of one `Translator`.

Requests go into a bounded asyncio queue (full → 503). One worker task takes the first waiting request, keeps
collecting for up to `max_wait_ms` or until `max_batch_tokens` source pieces / `max_batch_texts` texts, groups
the texts by (source, target) and makes one CTranslate2 call per group in a worker thread, so the event loop keeps
accepting requests while the model runs. Invalid payloads and unknown languages are 400 with a JSON body; any
other failure is a JSON 500 for that request only. OpenAPI docs are served at /docs and /openapi.json.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
import math
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Annotated

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from serving.translator import DecodingOptions
from volctrans.errors import VolctransError

logger = logging.getLogger(__name__)


@dataclass
class ServerConfig:
    max_wait_ms: float = 5.0  # how long the first request of a batch waits for others
    max_batch_tokens: int = 4096  # source pieces per micro-batch
    max_batch_texts: int = 512
    max_queue: int = 256  # waiting requests; beyond → 503
    max_texts_per_request: int = 256
    max_text_chars: int = 10_000  # per text; longer → 400 (inputs are also truncated to max_input_pieces pieces)
    workers: int = 1  # concurrent CTranslate2 calls (match the translator's inter_threads)

    def validate(self) -> list[str]:
        problems = [f"{name} must be ≥ 1" for name in ("max_batch_tokens", "max_batch_texts", "max_queue",
                                                        "max_texts_per_request", "max_text_chars", "workers")
                    if getattr(self, name) < 1]
        if self.max_wait_ms < 0:
            problems.append("max_wait_ms must be ≥ 0")
        return problems


def percentile(values: list[float], q: float) -> float | None:
    """Nearest-rank percentile (q in 0..100) of unsorted values; None when empty."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q / 100 * len(ordered)) - 1)]


@dataclass
class Metrics:
    """Counters and recent latencies; read by GET /metrics. Only touched from the event loop thread."""

    window: int = 10_000
    started: float = field(default_factory=time.time)
    requests: collections.Counter = field(default_factory=collections.Counter)  # (path, status) → count
    texts: int = 0
    batches: int = 0
    batch_texts: collections.Counter = field(default_factory=collections.Counter)  # bucket → micro-batches
    latencies_ms: collections.deque = field(default_factory=collections.deque)

    def observe_request(self, path: str, status: int) -> None:
        self.requests[(path, status)] += 1

    def observe_latency(self, milliseconds: float) -> None:
        self.latencies_ms.append(milliseconds)
        while len(self.latencies_ms) > self.window:
            self.latencies_ms.popleft()

    def observe_batch(self, texts: int) -> None:
        self.batches += 1
        self.texts += texts
        self.batch_texts[1 << max(0, texts - 1).bit_length()] += 1  # bucket: the next power of two ≥ texts

    def snapshot(self, queue_depth: int) -> dict:
        latencies = list(self.latencies_ms)
        by_status: dict[str, int] = collections.Counter()
        for (path, status), count in self.requests.items():
            by_status[str(status)] += count
        return {
            "uptime_s": round(time.time() - self.started, 1),
            "requests_total": sum(self.requests.values()),
            "requests_by_status": dict(sorted(by_status.items())),
            "requests_by_path": {f"{path} {status}": count for (path, status), count in sorted(self.requests.items())},
            "translate_latency_ms": {
                "count": len(latencies),
                **{f"p{q}": None if percentile(latencies, q) is None else round(percentile(latencies, q), 2)
                   for q in (50, 95, 99)},
            },
            "texts_total": self.texts,
            "batches_total": self.batches,
            "batch_size_mean": round(self.texts / self.batches, 2) if self.batches else None,
            # texts per CTranslate2 micro-batch: "≤N" counts batches of N/2+1..N texts
            "batch_size_histogram": {f"≤{bucket}": count for bucket, count in sorted(self.batch_texts.items())},
            "queue_depth": queue_depth,
        }


class QueueFull(Exception):
    pass


@dataclass
class _Pending:
    texts: list[str]
    source: str
    target: str
    tokens: int
    future: asyncio.Future


class MicroBatcher:
    """Collects requests from all clients into micro-batches; one translator call per (source, target) group."""

    def __init__(self, translator, config: ServerConfig, options: DecodingOptions, metrics: Metrics):
        self.translator = translator
        self.config = config
        self.options = options
        self.metrics = metrics
        self.queue: asyncio.Queue[_Pending] = asyncio.Queue(maxsize=config.max_queue)
        self.executor = ThreadPoolExecutor(max_workers=config.workers, thread_name_prefix="ct2")
        self._tasks: list[asyncio.Task] = []

    def start(self) -> None:
        self._tasks = [asyncio.create_task(self._worker(), name=f"batcher-{i}") for i in range(self.config.workers)]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self.executor.shutdown(wait=False, cancel_futures=True)

    def alive(self) -> bool:
        return bool(self._tasks) and not any(task.done() for task in self._tasks)

    async def translate(self, texts: list[str], source: str, target: str) -> list[str]:
        tokens = sum(self.translator.count_pieces(text) + 2 for text in texts)
        pending = _Pending(texts, source, target, tokens, asyncio.get_running_loop().create_future())
        try:
            self.queue.put_nowait(pending)
        except asyncio.QueueFull:
            raise QueueFull() from None
        return await pending.future

    async def _collect(self) -> list[_Pending]:
        batch = [await self.queue.get()]
        tokens, texts = batch[0].tokens, len(batch[0].texts)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.config.max_wait_ms / 1000
        while tokens < self.config.max_batch_tokens and texts < self.config.max_batch_texts:
            try:
                item = self.queue.get_nowait()
            except asyncio.QueueEmpty:
                remaining = deadline - loop.time()
                if remaining <= 0:
                    break
                try:
                    item = await asyncio.wait_for(self.queue.get(), remaining)
                except asyncio.TimeoutError:
                    break
            batch.append(item)
            tokens += item.tokens
            texts += len(item.texts)
        return batch

    async def _worker(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            batch = [item for item in await self._collect() if not item.future.done()]  # done: client gone
            groups: dict[tuple[str, str], list[_Pending]] = collections.defaultdict(list)
            for item in batch:
                groups[(item.source, item.target)].append(item)
            for (source, target), items in groups.items():
                texts = [text for item in items for text in item.texts]
                self.metrics.observe_batch(len(texts))
                try:
                    outputs = await loop.run_in_executor(self.executor, self.translator.translate, texts, source,
                                                         target, self.options)
                except Exception as error:  # report to these requests only; the worker goes on
                    logger.exception("translation failed for a batch of %d texts", len(texts))
                    for item in items:
                        if not item.future.done():
                            item.future.set_exception(error)
                    continue
                offset = 0
                for item in items:
                    if not item.future.done():
                        item.future.set_result(outputs[offset:offset + len(item.texts)])
                    offset += len(item.texts)


class TranslateRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    texts: Annotated[list[str], Field(min_length=1, description="texts to translate, in order")]
    source: str = Field(description="source language code, e.g. en")
    target: str = Field(description="target language code, e.g. de")


class TranslateResponse(BaseModel):
    translations: list[str]
    source: str
    target: str


class ErrorResponse(BaseModel):
    error: str  # invalid_request | unknown_language | overloaded | internal_error | unhealthy
    detail: object = None


def create_app(translator, config: ServerConfig | None = None, options: DecodingOptions | None = None):
    """The FastAPI application for one translator (anything with langs, lang_token, count_pieces, translate)."""
    config = config or ServerConfig()
    options = options or DecodingOptions()
    problems = config.validate() + options.validate()
    if problems:
        raise VolctransError("server configuration: " + "; ".join(problems))
    metrics = Metrics()

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI):
        app.state.batcher = MicroBatcher(translator, config, options, metrics)
        app.state.batcher.start()
        yield
        await app.state.batcher.stop()

    app = FastAPI(title="volctrans", description="Multilingual machine translation (CTranslate2)",
                  lifespan=lifespan, version="1")

    def error(status: int, code: str, detail=None, headers=None) -> JSONResponse:
        return JSONResponse(status_code=status, content={"error": code, "detail": detail}, headers=headers)

    @app.exception_handler(RequestValidationError)
    async def invalid_payload(request: Request, exc: RequestValidationError):
        detail = [{"loc": list(item.get("loc", ())), "msg": item.get("msg", "")} for item in exc.errors()]
        return error(400, "invalid_request", detail)

    @app.exception_handler(Exception)
    async def internal_error(request: Request, exc: Exception):
        logger.exception("unhandled error on %s", request.url.path)
        return error(500, "internal_error", type(exc).__name__)

    @app.middleware("http")
    async def count_requests(request: Request, call_next):
        response = await call_next(request)
        metrics.observe_request(request.url.path, response.status_code)
        return response

    @app.post("/translate", response_model=TranslateResponse,
              responses={400: {"model": ErrorResponse}, 503: {"model": ErrorResponse}})
    async def translate(body: TranslateRequest):
        """Translate a batch of texts; requests from all clients are micro-batched together."""
        start = time.perf_counter()
        if len(body.texts) > config.max_texts_per_request:
            return error(400, "invalid_request", f"at most {config.max_texts_per_request} texts per request")
        too_long = [i for i, text in enumerate(body.texts) if len(text) > config.max_text_chars]
        if too_long:
            return error(400, "invalid_request", f"texts {too_long[:10]} exceed {config.max_text_chars} characters")
        try:
            translator.lang_token(body.source)
            translator.lang_token(body.target)
        except VolctransError as exc:
            return error(400, "unknown_language", str(exc))
        try:
            translations = await app.state.batcher.translate(body.texts, body.source, body.target)
        except QueueFull:
            return error(503, "overloaded", "translation queue is full, retry later", {"Retry-After": "1"})
        except VolctransError as exc:
            return error(400, "invalid_request", str(exc))
        except Exception as exc:  # answered here, so the connection stays usable (already logged by the worker)
            return error(500, "internal_error", type(exc).__name__)
        metrics.observe_latency((time.perf_counter() - start) * 1000)
        return TranslateResponse(translations=translations, source=body.source, target=body.target)

    @app.get("/health")
    async def health():
        """Liveness and the languages served."""
        batcher = app.state.batcher
        if not batcher.alive():
            return error(503, "unhealthy", "batching worker stopped")
        return {"status": "ok", "langs": list(translator.langs), "queue_depth": batcher.queue.qsize()}

    @app.get("/metrics")
    async def get_metrics():
        """Request counters, /translate latency percentiles (ms), micro-batch sizes, queue depth."""
        return metrics.snapshot(app.state.batcher.queue.qsize())

    return app
