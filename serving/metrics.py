"""Metrics of the HTTP service in Prometheus text format (prometheus-client), one registry per app.

Every label set is bounded: the route is the matched route template or `unmatched` (a client requesting random
paths adds no series), the method one of the HTTP methods or `other`, the status the numeric code, the shedding
reason one of `SHED_REASONS`. Latencies and batch sizes are histograms, so percentiles are computed by the
monitoring system over any window instead of by the service over an arbitrary one.
"""

from __future__ import annotations

import math
from typing import Callable, Iterable

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client import PlatformCollector, ProcessCollector

UNMATCHED = "unmatched"
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")
# Why a request was answered 503 without being translated.
SHED_REASONS = ("queue_full", "predicted_late", "expired_in_queue", "not_started_in_time")
SECONDS_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0)
TEXTS_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024)
CONTENT_TYPE = CONTENT_TYPE_LATEST


def percentile(values: list[float], q: float) -> float | None:
    """Nearest-rank percentile (q in 0..100) of unsorted values; None when empty."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q / 100 * len(ordered)) - 1)]


class ServiceMetrics:
    def __init__(self, routes: Iterable[str]):
        self.routes = frozenset(routes)
        self.registry = registry = CollectorRegistry()
        ProcessCollector(registry=registry)  # CPU seconds, resident memory, open files of the service
        PlatformCollector(registry=registry)
        self.requests = Counter("volctrans_http_requests", "HTTP requests answered, by route template, method and "
                                "status", ["route", "method", "status"], registry=registry)
        self.request_seconds = Histogram("volctrans_http_request_duration_seconds", "Time from receiving a request "
                                         "to the end of its answer", ["route"], buckets=SECONDS_BUCKETS,
                                         registry=registry)
        self.queue_wait_seconds = Histogram("volctrans_queue_wait_seconds", "Time a translation request waited "
                                            "for the model", buckets=SECONDS_BUCKETS, registry=registry)
        self.texts = Counter("volctrans_translated_texts", "Texts translated by the model", registry=registry)
        self.batches = Counter("volctrans_model_batches", "Model calls (micro-batches)", registry=registry)
        self.batch_texts = Histogram("volctrans_model_batch_texts", "Texts per model call", buckets=TEXTS_BUCKETS,
                                     registry=registry)
        self.batch_seconds = Histogram("volctrans_model_batch_duration_seconds", "Duration of a model call",
                                       buckets=SECONDS_BUCKETS, registry=registry)
        self.shed = Counter("volctrans_shed_requests", "Requests answered 503 without being translated, by reason",
                            ["reason"], registry=registry)
        self.deadline_exceeded = Counter("volctrans_deadline_exceeded_requests", "Requests answered 504: their "
                                         "translation started but did not end before the deadline", registry=registry)
        self.client_gone = Counter("volctrans_abandoned_requests", "Requests whose client disconnected before the "
                                   "answer (not translated when still waiting)", registry=registry)
        self.model_errors = Counter("volctrans_model_errors", "Model calls that failed", registry=registry)
        for reason in SHED_REASONS:  # every series exists from the start: rates need no special case for "absent"
            self.shed.labels(reason)

    def track_queue(self, requests: Callable[[], float], tokens: Callable[[], float],
                    running: Callable[[], float]) -> None:
        """Gauges read when scraped."""
        Gauge("volctrans_queue_requests", "Requests waiting for the model", registry=self.registry) \
            .set_function(requests)
        Gauge("volctrans_queue_tokens", "Source pieces waiting for the model", registry=self.registry) \
            .set_function(tokens)
        Gauge("volctrans_model_call_running_seconds", "How long the oldest running model call has been running "
              "(0: none)", registry=self.registry).set_function(running)

    def route_label(self, route: str | None) -> str:
        return route if route in self.routes else UNMATCHED

    def observe_request(self, route: str | None, method: str, status: int, seconds: float) -> None:
        label = self.route_label(route)
        method = method if method in METHODS else "other"
        self.requests.labels(label, method, str(status) if 100 <= status <= 599 else "other").inc()
        self.request_seconds.labels(label).observe(seconds)

    def observe_batch(self, texts: int, seconds: float) -> None:
        self.batches.inc()
        self.texts.inc(texts)
        self.batch_texts.observe(texts)
        self.batch_seconds.observe(seconds)

    def exposition(self) -> bytes:
        return generate_latest(self.registry)
