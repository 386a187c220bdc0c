"""Cross-client micro-batching in front of one translator, with a deadline per request and load shedding.

Requests wait in one FIFO queue, bounded in requests (`max_queue`) and in source pieces (`max_queue_tokens`).
`workers` batching loops each take the first waiting request, keep collecting for up to `max_wait_ms` or until
`max_batch_tokens` pieces / `max_batch_texts` texts, group the texts by (source, target) and make one model
call per group in a worker thread, so the event loop keeps accepting requests while the model runs.

Every request carries a deadline (arrival + the request timeout) that covers queue wait and decoding:

* **Admission** (`submit`): a full queue, or a non-empty queue whose predicted drain time (queued pieces × the
  measured seconds per piece, an exponential average over model calls) plus the request's own share passes its
  deadline, answers 503 at once (`Overloaded`): the client can retry elsewhere instead of waiting for a certain
  timeout. A request finding the queue empty is always admitted, so a stale estimate can never lock the service
  out (the estimate is only refreshed by model calls).
* **Before decoding**: a request whose deadline has passed is not started (503): the model spends its time only
  on requests that can still be answered.
* **While waiting** (`wait`): at the deadline a request still queued is withdrawn (503); one being decoded is
  answered 504 (`DeadlineExceeded`): a model call cannot be interrupted, its result is dropped. A request
  whose client disconnects is withdrawn and never decoded (`ClientGone`).

So no answer comes later than the deadline, and under overload the service sheds load with 503s instead of
translating for clients that have given up. All state changes happen on the event-loop thread.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import enum
import logging
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Awaitable

from serving.metrics import ServiceMetrics
from serving.translator import DecodingOptions

logger = logging.getLogger(__name__)

_EWMA = 0.3  # weight of the newest model call in the seconds-per-piece estimate


class Overloaded(Exception):
    """Answered 503 without translating: `reason` is one of serving.metrics.SHED_REASONS."""

    def __init__(self, reason: str, detail: str):
        super().__init__(detail)
        self.reason = reason
        self.detail = detail


class DeadlineExceeded(Exception):
    """The translation started but did not end before the deadline: answered 504."""


class ClientGone(Exception):
    """The client disconnected while its request waited."""


class State(enum.Enum):
    QUEUED = "queued"
    TAKEN = "taken"  # collected into a batch, its group not started yet
    RUNNING = "running"
    DONE = "done"
    WITHDRAWN = "withdrawn"


@dataclass(eq=False)
class Job:
    texts: list[str]
    source: str
    target: str
    tokens: int  # source pieces (+2 per text), for the token budgets
    deadline: float  # event-loop time
    enqueued: float
    future: asyncio.Future
    state: State = State.QUEUED
    started: float | None = None
    timings: dict[str, float] = field(default_factory=dict)  # queue / model seconds, for Server-Timing


@dataclass
class BatcherConfig:
    max_wait_ms: float = 5.0
    max_batch_tokens: int = 4096
    max_batch_texts: int = 512
    max_queue: int = 256
    max_queue_tokens: int = 65536
    workers: int = 1


class MicroBatcher:
    def __init__(self, translator, config: BatcherConfig, options: DecodingOptions, metrics: ServiceMetrics):
        self.translator = translator
        self.config = config
        self.options = options
        self.metrics = metrics
        self._queue: collections.deque[Job] = collections.deque()
        self._queued = 0  # live (not withdrawn) jobs in the queue
        self._queued_tokens = 0
        self._arrived = asyncio.Event()
        self.seconds_per_token: float | None = None  # measured cost of a model call per source piece
        self._running: dict[int, float] = {}  # model calls in progress: id → start (loop time)
        self.executor = ThreadPoolExecutor(max_workers=config.workers, thread_name_prefix="ct2")
        self._tasks: list[asyncio.Task] = []
        metrics.track_queue(lambda: self._queued, lambda: self._queued_tokens, self.running_for)

    # --- lifecycle -------------------------------------------------------------------------------------------
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

    def depth(self) -> int:
        return self._queued

    def queued_tokens(self) -> int:
        return self._queued_tokens

    def running_for(self) -> float:
        """Seconds the oldest model call in progress has been running (0 when none)."""
        if not self._running:
            return 0.0
        return asyncio.get_event_loop().time() - min(self._running.values())

    # --- the request side ------------------------------------------------------------------------------------
    def submit(self, texts: list[str], source: str, target: str, tokens: int, deadline: float) -> Job:
        """Queue a request or refuse it at once (Overloaded) when it cannot be answered in time."""
        loop = asyncio.get_running_loop()
        now = loop.time()
        if self._queued >= self.config.max_queue or self._queued_tokens + tokens > self.config.max_queue_tokens:
            raise Overloaded("queue_full", f"the translation queue is full ({self._queued} requests, "
                                           f"{self._queued_tokens} pieces waiting); retry later")
        if self.seconds_per_token is not None and self._queued:
            wait = self._queued_tokens * self.seconds_per_token / self.config.workers
            if now + wait + tokens * self.seconds_per_token > deadline:
                raise Overloaded("predicted_late", f"the queue ahead takes about {wait:.1f}s, past this request's "
                                                   "deadline; retry later")
        job = Job(texts, source, target, tokens, deadline, now, loop.create_future())
        self._queue.append(job)
        self._queued += 1
        self._queued_tokens += tokens
        self._arrived.set()
        return job

    async def wait(self, job: Job, disconnected: Awaitable | None = None) -> list[str]:
        """The translations of `job`, or Overloaded (withdrawn in time: 503), DeadlineExceeded (504), ClientGone."""
        loop = asyncio.get_running_loop()
        watcher = asyncio.ensure_future(disconnected) if disconnected is not None else None
        try:
            waiting = {job.future} | ({watcher} if watcher is not None else set())
            await asyncio.wait(waiting, timeout=max(0.0, job.deadline - loop.time()),
                               return_when=asyncio.FIRST_COMPLETED)
        finally:
            if watcher is not None:
                watcher.cancel()
        if job.future.done():
            return job.future.result()
        if watcher is not None and watcher.done() and not watcher.cancelled():
            self.withdraw(job)
            self.metrics.client_gone.inc()
            raise ClientGone()
        if job.state is State.RUNNING:
            job.state = State.WITHDRAWN  # its result is dropped when the model call ends
            self.metrics.deadline_exceeded.inc()
            raise DeadlineExceeded()
        self.withdraw(job)
        self.metrics.shed.labels("expired_in_queue").inc()
        raise Overloaded("expired_in_queue", "the request waited in the queue until its deadline; retry later")

    def withdraw(self, job: Job) -> None:
        if job.state is State.QUEUED:
            self._queued -= 1
            self._queued_tokens -= job.tokens
        if job.state is not State.DONE:
            job.state = State.WITHDRAWN
        if len(self._queue) > 2 * self.config.max_queue:  # drop withdrawn entries now and then
            self._queue = collections.deque(item for item in self._queue if item.state is State.QUEUED)

    # --- the model side ----------------------------------------------------------------------------------------
    def _pop(self) -> Job | None:
        while self._queue:
            job = self._queue.popleft()
            if job.state is not State.QUEUED:
                continue
            self._queued -= 1
            self._queued_tokens -= job.tokens
            job.state = State.TAKEN
            return job
        return None

    async def _collect(self) -> list[Job]:
        loop = asyncio.get_running_loop()
        first = self._pop()
        while first is None:
            self._arrived.clear()
            await self._arrived.wait()
            first = self._pop()
        batch, tokens, texts = [first], first.tokens, len(first.texts)
        end = loop.time() + self.config.max_wait_ms / 1000
        while tokens < self.config.max_batch_tokens and texts < self.config.max_batch_texts:
            job = self._pop()
            if job is None:
                remaining = end - loop.time()
                if remaining <= 0:
                    break
                self._arrived.clear()
                try:
                    await asyncio.wait_for(self._arrived.wait(), remaining)
                except asyncio.TimeoutError:
                    break
                continue
            batch.append(job)
            tokens += job.tokens
            texts += len(job.texts)
        return batch

    def _startable(self, jobs: list[Job]) -> list[Job]:
        """The jobs of a group worth decoding: neither withdrawn nor past their deadline."""
        now = asyncio.get_running_loop().time()
        startable = []
        for job in (job for job in jobs if job.state is State.TAKEN):
            if now >= job.deadline:
                job.state = State.WITHDRAWN
                self.metrics.shed.labels("not_started_in_time").inc()
                job.future.set_exception(Overloaded("not_started_in_time", "the request could not be translated "
                                                    "before its deadline; retry later"))
                continue
            startable.append(job)
        return startable

    async def _worker(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            batch = await self._collect()
            groups: dict[tuple[str, str], list[Job]] = collections.defaultdict(list)
            for job in batch:
                groups[(job.source, job.target)].append(job)
            for (source, target), jobs in groups.items():
                jobs = self._startable(jobs)
                if not jobs:
                    continue
                await self._run(loop, source, target, jobs)

    async def _run(self, loop, source: str, target: str, jobs: list[Job]) -> None:
        start = loop.time()
        for job in jobs:
            job.state, job.started = State.RUNNING, start
            job.timings["queue"] = start - job.enqueued
            self.metrics.queue_wait_seconds.observe(start - job.enqueued)
        texts = [text for job in jobs for text in job.texts]
        tokens = sum(job.tokens for job in jobs)
        key = id(jobs)
        self._running[key] = start
        try:
            outputs = await loop.run_in_executor(self.executor, self.translator.translate, texts, source, target,
                                                 self.options)
        except Exception as error:  # reported to these requests only; the service goes on
            logger.exception("translation failed for a batch of %d texts", len(texts))
            self.metrics.model_errors.inc()
            for job in jobs:
                if not job.future.done():
                    job.future.set_exception(error)
            return
        finally:
            del self._running[key]
        elapsed = loop.time() - start
        self.metrics.observe_batch(len(texts), elapsed)
        sample = elapsed / max(tokens, 1)
        self.seconds_per_token = sample if self.seconds_per_token is None else \
            (1 - _EWMA) * self.seconds_per_token + _EWMA * sample
        offset = 0
        for job in jobs:
            job.timings["model"] = elapsed
            if job.state is State.RUNNING and not job.future.done():
                job.state = State.DONE
                job.future.set_result(outputs[offset:offset + len(job.texts)])
            offset += len(job.texts)
