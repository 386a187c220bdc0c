"""The HTTP contract on a real loopback server with a stand-in translator: fast and deterministic."""

import threading
import time

import httpx
import pytest

from serving.metrics import percentile
from serving.server import ServerConfig, create_app
from tests.serving.loopback import serve_in_thread
from volctrans.errors import VolctransError


class FakeTranslator:
    """Upper-cases texts; `gate` (when set) blocks translate() until released."""

    langs = ["de", "en"]
    directions = [("de", "en"), ("en", "de")]

    def __init__(self, gate: threading.Event | None = None, fail_on: str | None = None):
        self.gate = gate
        self.fail_on = fail_on
        self.entered = threading.Event()
        self.calls: list[int] = []

    def lang_token(self, lang):
        if lang not in self.langs:
            raise VolctransError(f"unknown language '{lang}'")
        return f"__{lang}__"

    def check_direction(self, source, target):
        self.lang_token(source)
        self.lang_token(target)
        if (source, target) not in self.directions:
            raise VolctransError(f"{source}→{target} is not a direction this model was trained on")

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
        health = client.get("/health").json()
        assert health["status"] == "ok" and health["langs"] == ["de", "en"] and health["queue_depth"] == 0
        assert "/translate" in client.get("/openapi.json").json()["paths"]
        assert client.get("/docs").status_code == 200
        metrics = client.get("/metrics").text
        assert "volctrans_translated_texts_total 3.0" in metrics and "volctrans_model_batches_total 1.0" in metrics
        assert 'volctrans_http_requests_total{method="POST",route="/translate",status="200"} 1.0' in metrics


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
        while client.get("/health").json()["queue_depth"] < 1:  # the second waits in the queue
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
        assert 'volctrans_shed_requests_total{reason="queue_full"} 1.0' in client.get("/metrics").text


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


def test_percentile():
    assert percentile([], 50) is None
    assert percentile([5.0, 1.0, 3.0, 2.0, 4.0], 50) == 3.0
    assert percentile(list(range(1, 101)), 95) == 95
