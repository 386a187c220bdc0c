"""The service with the real tiny model on loopback: same outputs as the batch translator, a bounded load test."""

import concurrent.futures
import re
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
        metrics = httpx.get(f"{url}/metrics", timeout=10).text

    def value(name: str) -> float:
        return float(re.search(rf"^{re.escape(name)} ([\d.e+]+)$", metrics, re.MULTILINE).group(1))

    assert value("volctrans_translated_texts_total") == requests
    assert value("volctrans_translated_texts_total") / value("volctrans_model_batches_total") > 1  # micro-batched
    assert value('volctrans_http_requests_total{method="POST",route="/translate",status="200"}') == requests
    assert value('volctrans_http_request_duration_seconds_count{route="/translate"}') == requests
