"""The HTTP contract on a real loopback server with a stand-in translator: fast and deterministic."""

import threading
import time

import httpx
import pytest

from serving.server import Metrics, ServerConfig, create_app, percentile
from tests.serving.loopback import serve_in_thread
from volctrans.errors import VolctransError


class FakeTranslator:
    """Upper-cases texts; `gate` (when set) blocks translate() until released."""

    langs = ["de", "en"]

    def __init__(self, gate: threading.Event | None = None, fail_on: str | None = None):
        self.gate = gate
        self.fail_on = fail_on
        self.entered = threading.Event()
        self.calls: list[int] = []

    def lang_token(self, lang):
        if lang not in self.langs:
            raise VolctransError(f"unknown language '{lang}'")
        return f"__{lang}__"

    def count_pieces(self, text):
        return len(text.split())

    def translate(self, texts, source, target, options):
        self.entered.set()
        if self.gate is not None:
            assert self.gate.wait(10)
        if self.fail_on in texts:
            raise RuntimeError("boom")
        self.calls.append(len(texts))
        return [f"{target}:{text.upper()}" for text in texts]


def test_translate_health_docs():
    with serve_in_thread(create_app(FakeTranslator())) as url, httpx.Client(base_url=url, timeout=10) as client:
        response = client.post("/translate", json={"texts": ["a b", "", "c"], "source": "en", "target": "de"})
        assert response.status_code == 200
        assert response.json() == {"translations": ["de:A B", "de:", "de:C"], "source": "en", "target": "de"}
        assert client.get("/health").json() == {"status": "ok", "langs": ["de", "en"], "queue_depth": 0}
        assert "/translate" in client.get("/openapi.json").json()["paths"]
        assert client.get("/docs").status_code == 200
        metrics = client.get("/metrics").json()
        assert metrics["texts_total"] == 3 and metrics["batches_total"] == 1
        assert metrics["translate_latency_ms"]["count"] == 1 and metrics["translate_latency_ms"]["p50"] > 0


@pytest.mark.parametrize("payload", [
    {"source": "en", "target": "de"},  # no texts
    {"texts": [], "source": "en", "target": "de"},
    {"texts": "not a list", "source": "en", "target": "de"},
    {"texts": ["x", 3], "source": "en", "target": "de"},
    {"texts": ["x"], "source": "en", "target": "de", "beam": 9},  # unknown field
    {"texts": ["x" * 101], "source": "en", "target": "de"},  # over max_text_chars
    {"texts": ["x"] * 5, "source": "en", "target": "de"},  # over max_texts_per_request
    [1, 2],
])
def test_invalid_payload_is_400_json(payload):
    app = create_app(FakeTranslator(), ServerConfig(max_text_chars=100, max_texts_per_request=4))
    with serve_in_thread(app) as url, httpx.Client(base_url=url, timeout=10) as client:
        response = client.post("/translate", json=payload)
        assert response.status_code == 400 and response.json()["error"] == "invalid_request"
        broken = client.post("/translate", content=b'{"texts": [', headers={"content-type": "application/json"})
        assert broken.status_code == 400 and broken.json()["error"] == "invalid_request"
        assert client.get("/health").status_code == 200  # still serving


def test_unknown_language_is_400():
    with serve_in_thread(create_app(FakeTranslator())) as url, httpx.Client(base_url=url, timeout=10) as client:
        response = client.post("/translate", json={"texts": ["x"], "source": "en", "target": "xx"})
        assert response.status_code == 400
        assert response.json()["error"] == "unknown_language" and "'xx'" in response.json()["detail"]


def test_queue_full_is_503_and_recovers():
    gate = threading.Event()
    translator = FakeTranslator(gate=gate)
    app = create_app(translator, ServerConfig(max_queue=1, max_wait_ms=0))
    payload = {"texts": ["x"], "source": "en", "target": "de"}
    with serve_in_thread(app) as url, httpx.Client(base_url=url, timeout=20) as client:
        results = {}

        def send(name):
            with httpx.Client(base_url=url, timeout=20) as own:
                results[name] = own.post("/translate", json=payload).status_code

        first = threading.Thread(target=send, args=("first",))
        first.start()
        assert translator.entered.wait(10)  # the worker is busy with the first request
        second = threading.Thread(target=send, args=("second",))
        second.start()
        deadline = time.monotonic() + 10
        while client.get("/metrics").json()["queue_depth"] < 1:  # the second waits in the queue
            assert time.monotonic() < deadline
            time.sleep(0.01)
        overloaded = client.post("/translate", json=payload)
        assert overloaded.status_code == 503 and overloaded.json()["error"] == "overloaded"
        assert overloaded.headers["retry-after"] == "1"
        gate.set()
        first.join(10)
        second.join(10)
        assert results == {"first": 200, "second": 200}
        assert client.post("/translate", json=payload).status_code == 200
        assert client.get("/metrics").json()["requests_by_status"]["503"] == 1


def test_translation_failure_is_500_for_that_request_only():
    with serve_in_thread(create_app(FakeTranslator(fail_on="bad"))) as url, \
            httpx.Client(base_url=url, timeout=10) as client:
        failed = client.post("/translate", json={"texts": ["bad"], "source": "en", "target": "de"})
        assert failed.status_code == 500 and failed.json()["error"] == "internal_error"
        assert client.post("/translate", json={"texts": ["ok"], "source": "en", "target": "de"}).status_code == 200


def test_requests_are_micro_batched_across_clients():
    translator = FakeTranslator()
    app = create_app(translator, ServerConfig(max_wait_ms=50))
    with serve_in_thread(app) as url:
        statuses = []

        def send(i):
            with httpx.Client(base_url=url, timeout=10) as client:
                statuses.append(client.post("/translate", json={"texts": [f"t{i}"], "source": "en",
                                                                "target": "de"}).status_code)

        threads = [threading.Thread(target=send, args=(i,)) for i in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(10)
        assert statuses == [200] * 8
        assert max(translator.calls) > 1 and sum(translator.calls) == 8


def test_metrics_percentiles_and_histogram():
    assert percentile([], 50) is None
    assert percentile([5.0, 1.0, 3.0, 2.0, 4.0], 50) == 3.0
    assert percentile(list(range(1, 101)), 95) == 95
    metrics = Metrics()
    for size in (1, 2, 3, 4, 5, 64):
        metrics.observe_batch(size)
    snapshot = metrics.snapshot(queue_depth=0)
    assert snapshot["batch_size_histogram"] == {"≤1": 1, "≤2": 1, "≤4": 2, "≤8": 1, "≤64": 1}
    assert snapshot["batch_size_mean"] == round(79 / 6, 2)
