"""The server's contract under bad input and overload, on a real loopback server: one JSON error format for every
status, deadlines answered 503/504 at the deadline, clients that gave up are not translated, trained directions
only, bounded Prometheus metrics, an optional API key, a health check that sees a stuck model."""

from __future__ import annotations

import socket
import threading
import time

import httpx
import pytest

from serving.server import ServerConfig, create_app
from tests.serving.loopback import serve_in_thread
from serving.translator import DecodingOptions
from volctrans.errors import VolctransError

KEY = "k" * 24


class FakeTranslator:
    """English-centric, upper-cases; `gate` (when given) holds every model call until set; `delay` per call."""

    langs = ["de", "en", "fr"]
    directions = [("de", "en"), ("en", "de"), ("en", "fr"), ("fr", "en")]

    def __init__(self, gate: threading.Event | None = None, delay: float = 0.0):
        self.gate = gate
        self.delay = delay
        self.entered = threading.Event()
        self.texts: list[str] = []

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
            self.gate.wait(30)
        time.sleep(self.delay)
        self.texts.extend(texts)
        return [text.upper() for text in texts]


def _json_error(response: httpx.Response, status: int, code: str | None = None) -> dict:
    assert response.status_code == status, (response.status_code, response.text)
    assert response.headers["content-type"].startswith("application/json"), response.headers
    body = response.json()
    assert set(body) == {"error", "detail"}, body
    if code is not None:
        assert body["error"] == code, body
    return body


OK = {"texts": ["a b"], "source": "en", "target": "de"}


def test_every_status_has_the_project_error_format():
    app = create_app(FakeTranslator(), ServerConfig(max_texts_per_request=4, max_text_chars=100))
    with serve_in_thread(app) as url, httpx.Client(base_url=url, timeout=20) as client:
        _json_error(client.get("/nope"), 404, "not_found")
        _json_error(client.get("/translate"), 405, "method_not_allowed")
        _json_error(client.post("/health"), 405, "method_not_allowed")
        _json_error(client.post("/translate", content=b'{"texts": ["caf\xe9"], "source": "en", "target": "de"}',
                                headers={"content-type": "application/json"}), 400, "invalid_request")
        _json_error(client.post("/translate", content=b'{"texts": [', headers={"content-type": "application/json"}),
                    400, "invalid_request")
        _json_error(client.post("/translate", json={"texts": "x", "source": "en", "target": "de"}), 400,
                    "invalid_request")
        _json_error(client.post("/translate", json={**OK, "target": "xx"}), 400, "unknown_language")
        body = _json_error(client.post("/translate", json={**OK, "source": "de", "target": "fr"}), 400,
                           "unsupported_direction")
        assert "de→fr" in body["detail"]
        _json_error(client.post("/translate", json={**OK, "target": "en"}), 400, "unsupported_direction")
        _json_error(client.post("/translate", content=b'{"texts": ["\\ud800"], "source": "en", "target": "de"}',
                                headers={"content-type": "application/json"}), 400, "invalid_request")
        _json_error(client.post("/translate", content=b"{}" + b" " * 3_000_000,
                                headers={"content-type": "application/json"}), 413, "too_large")

        def chunks():
            yield b'{"texts": ["'
            for _ in range(40):
                yield b"x" * 100_000

        _json_error(client.post("/translate", content=chunks(), headers={"content-type": "application/json"}),
                    413, "too_large")
        assert client.post("/translate", json=OK).status_code == 200  # still serving


def test_a_lone_surrogate_is_400_with_the_real_model(random_model):
    from serving.translator import Translator

    app = create_app(Translator(random_model, intra_threads=1), options=DecodingOptions(beam_size=1,
                                                                                        max_decoding_length=4))
    with serve_in_thread(app) as url, httpx.Client(base_url=url, timeout=20) as client:
        response = client.post("/translate", content=b'{"texts": ["ok", "\\ud800"], "source": "en", "target": "de"}',
                                headers={"content-type": "application/json"})
        body = _json_error(response, 400, "invalid_request")
        assert "[1]" in body["detail"]
        assert client.post("/translate", json={"texts": ["Hello"], "source": "en", "target": "de"}).status_code == 200
        _json_error(client.post("/translate", json={"texts": ["Hallo"], "source": "de", "target": "zh"}), 400,
                    "unsupported_direction")


def _post_in_thread(url, payload, results, name, timeout=30.0):
    def run():
        start = time.monotonic()
        try:
            with httpx.Client(base_url=url, timeout=timeout) as client:
                response = client.post("/translate", json=payload)
            results[name] = (response.status_code, response.json(), time.monotonic() - start)
        except httpx.TimeoutException:
            results[name] = ("gave up", None, time.monotonic() - start)

    thread = threading.Thread(target=run)
    thread.start()
    return thread


def _wait_for(condition, timeout=20.0):
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline
        time.sleep(0.02)


def test_deadlines_are_answered_503_in_the_queue_and_504_in_the_model():
    gate = threading.Event()
    translator = FakeTranslator(gate=gate)
    timeout = 1.5
    app = create_app(translator, ServerConfig(request_timeout_s=timeout, max_wait_ms=0))
    results: dict = {}
    with serve_in_thread(app) as url, httpx.Client(base_url=url, timeout=20) as client:
        first = _post_in_thread(url, {**OK, "texts": ["first"]}, results, "running")
        assert translator.entered.wait(10)  # the model holds the first request
        second = _post_in_thread(url, {**OK, "texts": ["second"]}, results, "queued")
        first.join(timeout + 10)
        second.join(timeout + 10)
        gate.set()
        assert results["running"][0] == 504 and results["running"][1]["error"] == "deadline_exceeded"
        assert results["queued"][0] == 503 and results["queued"][1]["error"] == "overloaded"
        for status, _, seconds in results.values():  # answered at the deadline, not when the model got free
            assert seconds < timeout + 5
        _wait_for(lambda: client.get("/health").json()["model_call_running_s"] == 0)
        assert client.post("/translate", json=OK).status_code == 200
        assert "SECOND" not in [text.upper() for text in translator.texts if text == "second"]  # never decoded
        metrics = client.get("/metrics").text
        assert 'volctrans_shed_requests_total{reason="expired_in_queue"} 1.0' in metrics
        assert "volctrans_deadline_exceeded_requests_total 1.0" in metrics


def test_a_client_that_gave_up_is_not_translated():
    gate = threading.Event()
    translator = FakeTranslator(gate=gate)
    app = create_app(translator, ServerConfig(max_wait_ms=0))
    results: dict = {}
    with serve_in_thread(app) as url, httpx.Client(base_url=url, timeout=20) as client:
        first = _post_in_thread(url, {**OK, "texts": ["first"]}, results, "first")
        assert translator.entered.wait(10)
        impatient = _post_in_thread(url, {**OK, "texts": ["impatient"]}, results, "impatient", timeout=0.5)
        impatient.join(10)
        assert results["impatient"][0] == "gave up"
        try:  # give the server time to see the disconnect
            _wait_for(lambda: "volctrans_abandoned_requests_total 1.0" in client.get("/metrics").text, timeout=10)
        except AssertionError:
            pass
        gate.set()
        first.join(10)
        assert results["first"][0] == 200
        assert client.post("/translate", json={**OK, "texts": ["after"]}).status_code == 200
        metrics = client.get("/metrics").text
    assert translator.texts == ["first", "after"]  # "impatient" never reached the model
    assert "volctrans_abandoned_requests_total 1.0" in metrics


def test_load_is_shed_at_admission_once_the_queue_cannot_finish_in_time():
    translator = FakeTranslator(delay=0.2)  # every model call costs 0.2 s
    app = create_app(translator, ServerConfig(request_timeout_s=1.0, max_wait_ms=0, max_batch_texts=1))
    results: dict = {}
    with serve_in_thread(app) as url, httpx.Client(base_url=url, timeout=20) as client:
        assert client.post("/translate", json=OK).status_code == 200  # the cost per piece is now known
        threads = [_post_in_thread(url, {**OK, "texts": [f"t{i} x y z"]}, results, i) for i in range(16)]
        for thread in threads:
            thread.join(20)
        statuses = sorted(str(status) for status, _, _ in results.values())
        assert set(statuses) <= {"200", "503"} and "503" in statuses and "200" in statuses, statuses
        assert 'volctrans_shed_requests_total{reason="predicted_late"}' in client.get("/metrics").text
        shed_at_once = [seconds for status, body, seconds in results.values()
                        if status == 503 and "queue ahead" in body["detail"]]
        assert shed_at_once  # refused on arrival, not after waiting for the deadline


def test_health_sees_a_stuck_model_call():
    gate = threading.Event()
    translator = FakeTranslator(gate=gate)
    app = create_app(translator, ServerConfig(stalled_after_s=0.5, request_timeout_s=0.5))
    results: dict = {}
    with serve_in_thread(app) as url, httpx.Client(base_url=url, timeout=20) as client:
        thread = _post_in_thread(url, OK, results, "stuck")
        assert translator.entered.wait(10)
        _wait_for(lambda: client.get("/health").status_code == 503)
        _json_error(client.get("/health"), 503, "unhealthy")
        gate.set()
        thread.join(10)
        _wait_for(lambda: client.get("/health").status_code == 200)


def test_metrics_are_prometheus_text_with_bounded_labels():
    app = create_app(FakeTranslator())
    with serve_in_thread(app) as url, httpx.Client(base_url=url, timeout=20) as client:
        assert client.post("/translate", json=OK).status_code == 200
        for i in range(50):
            client.get(f"/random/{i}")
        client.get("/metrics")  # its own series exist from now on
        first = client.get("/metrics")
        assert first.headers["content-type"].startswith("text/plain")
        for i in range(50, 200):
            client.get(f"/random/{i}?q={i}")
        second = client.get("/metrics").text
        assert "/random/" not in second and 'route="unmatched",status="404"' in second
        assert len(second.splitlines()) == len(first.text.splitlines())  # counters grow in value, not in series
        for name in ("volctrans_http_request_duration_seconds_bucket", "volctrans_queue_requests",
                     "volctrans_model_batch_texts_bucket", "process_resident_memory_bytes"):
            assert name in second


def test_languages_lists_the_trained_directions():
    with serve_in_thread(create_app(FakeTranslator())) as url, httpx.Client(base_url=url, timeout=20) as client:
        assert client.get("/languages").json() == {"languages": ["de", "en", "fr"],
                                                   "directions": ["de-en", "en-de", "en-fr", "fr-en"]}


def test_an_api_key_guards_everything_but_health():
    app = create_app(FakeTranslator(), ServerConfig(api_key=KEY))
    with serve_in_thread(app) as url, httpx.Client(base_url=url, timeout=20) as client:
        _json_error(client.post("/translate", json=OK), 401, "unauthorized")
        _json_error(client.post("/translate", json=OK, headers={"X-API-Key": "k" * 23}), 401, "unauthorized")
        _json_error(client.get("/metrics"), 401, "unauthorized")
        _json_error(client.get("/languages"), 401, "unauthorized")
        assert client.post("/translate", json=OK, headers={"X-API-Key": KEY}).status_code == 200
        assert client.post("/translate", json=OK, headers={"Authorization": f"Bearer {KEY}"}).status_code == 200
        assert client.get("/health").status_code == 200


def test_api_key_from_a_file_or_the_environment(tmp_path, monkeypatch):
    from volctrans.cli.serve import api_key

    monkeypatch.delenv("VOLCTRANS_API_KEY", raising=False)
    assert api_key(None) is None
    monkeypatch.setenv("VOLCTRANS_API_KEY", KEY)
    assert api_key(None) == KEY
    (tmp_path / "key").write_text(f"{'z' * 20}\n")
    assert api_key(str(tmp_path / "key")) == "z" * 20
    with pytest.raises(VolctransError, match="cannot read"):
        api_key(str(tmp_path / "missing"))
    with pytest.raises(VolctransError, match="at least 16"):
        create_app(FakeTranslator(), ServerConfig(api_key="short"))


def test_a_slow_client_body_counts_against_its_deadline():
    """A client that trickles its body: the deadline runs from arrival, so the answer still comes in time."""
    app = create_app(FakeTranslator(), ServerConfig(request_timeout_s=1.0))
    with serve_in_thread(app) as url:
        host, port = url.removeprefix("http://").split(":")
        body = b'{"texts": ["slow client"], "source": "en", "target": "de"}'
        with socket.create_connection((host, int(port)), timeout=20) as sock:
            sock.sendall(b"POST /translate HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                         b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n")
            for i in range(0, len(body), 8):
                sock.sendall(body[i:i + 8])
                time.sleep(0.2)  # 1.4 s in all: past the deadline before the body is complete
            answer = sock.recv(65536).decode("latin-1")
        assert answer.startswith("HTTP/1.1 503") and '"error": "overloaded"' in answer
