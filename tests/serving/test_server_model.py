"""The service with the real tiny model on loopback: same outputs as the batch translator, a bounded load test."""

import concurrent.futures
import time

import httpx
import pytest

from serving.server import ServerConfig, create_app
from tests.serving.loopback import serve_in_thread
from serving.translator import DecodingOptions, Translator

pytestmark = pytest.mark.slow

TEXTS = ["Inserts a new table.", "Save the document.", "Open a file.", "", "Tigrina", "Select the cells."]


def test_load_test_all_ok_and_micro_batched(tiny_model):
    translator = Translator(tiny_model.model, intra_threads=1)
    options = DecodingOptions(beam_size=2)
    expected = translator.translate(TEXTS, "en", "de", options)
    app = create_app(translator, ServerConfig(max_wait_ms=10), options)
    requests, clients, cap_s = 200, 8, 90.0
    with serve_in_thread(app) as url:
        def call(i):
            with httpx.Client(base_url=url, timeout=30) as client:
                text = TEXTS[i % len(TEXTS)]
                response = client.post("/translate", json={"texts": [text], "source": "en", "target": "de"})
                return i, response.status_code, response.json()

        start = time.monotonic()
        with concurrent.futures.ThreadPoolExecutor(clients) as pool:
            results = list(pool.map(call, range(requests)))
        elapsed = time.monotonic() - start
        assert elapsed < cap_s
        assert [status for _, status, _ in results] == [200] * requests
        for i, _, body in results:  # batched with other clients' texts, still the same translation
            assert body["translations"] == [expected[i % len(TEXTS)]]
        metrics = httpx.get(f"{url}/metrics", timeout=10).json()
    assert metrics["texts_total"] == requests
    assert metrics["batch_size_mean"] > 1
    assert metrics["requests_by_status"]["200"] >= requests
    latency = metrics["translate_latency_ms"]
    assert latency["count"] == requests and 0 < latency["p50"] <= latency["p95"] <= latency["p99"]
