"""A bounded load test on a real server (uvicorn on loopback) with a real CTranslate2 model (random weights, so
every text decodes to the length cap): more concurrent clients than the queue holds, ~10% bad payloads, clients
that give up early and clients that trickle their body. It asserts the server's semantics, not the machine's
speed: 503s appear under overload, bad payloads are 400, no other 5xx than 503/504, no answer comes later than
the request deadline, and the service is healthy and serving afterwards."""

from __future__ import annotations

import concurrent.futures
import json
import random
import re
import socket
import time

import httpx

from serving.server import ServerConfig, create_app
from tests.serving.loopback import serve_in_thread
from serving.translator import DecodingOptions, Translator

CLIENTS = 24
REQUESTS_PER_CLIENT = 8
TIMEOUT_S = 2.0  # the server's request deadline
SLACK_S = 5.0  # what a busy machine may add between the deadline and the client reading the answer

SENTENCES = ["Inserts a new table into the document.", "Save the document.", "Select the cells.",
             "Opens the dialog to choose a file.", "The chart is updated when the data changes."]
BAD = [  # payloads that are 400 whatever the load
    b'{"texts": ["\\ud800"], "source": "en", "target": "de"}',
    b'{"texts": [',
    b'{"texts": ["Hello"], "source": "de", "target": "zh"}',
    b'{"texts": ["Hello"], "source": "en", "target": "xx"}',
    b'{"texts": "Hello", "source": "en", "target": "de"}',
    b'{"texts": ["caf\xe9"], "source": "en", "target": "de"}',
]


def _client(url: str, index: int) -> list[tuple]:
    rng = random.Random(index)
    outcomes = []
    impatient = index % 6 == 5  # gives up after 0.3 s
    with httpx.Client(base_url=url, timeout=0.3 if impatient else 60) as client:
        for _ in range(REQUESTS_PER_CLIENT):
            bad = rng.random() < 0.1
            if bad:
                content = rng.choice(BAD)
            else:
                content = json.dumps({"texts": rng.sample(SENTENCES, 2), "source": "en", "target": "de"}).encode()
            start = time.monotonic()
            try:
                response = client.post("/translate", content=content, headers={"content-type": "application/json"})
            except httpx.TimeoutException:
                outcomes.append(("gave up", bad, time.monotonic() - start, None, None))
                continue
            outcomes.append((response.status_code, bad, time.monotonic() - start, response.headers.get("server-timing"),
                             response.json()))
    return outcomes


def _trickle(url: str) -> tuple:
    """A slow client: its body arrives over ~1 s."""
    host, port = url.removeprefix("http://").split(":")
    body = json.dumps({"texts": ["Save the document."], "source": "en", "target": "de"}).encode()
    start = time.monotonic()
    with socket.create_connection((host, int(port)), timeout=60) as sock:
        sock.sendall(b"POST /translate HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: "
                     + str(len(body)).encode() + b"\r\nConnection: close\r\n\r\n")
        for i in range(0, len(body), 10):
            sock.sendall(body[i:i + 10])
            time.sleep(1.0 / (len(body) / 10))
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    return int(answer.split(b" ", 2)[1]), time.monotonic() - start


def test_load_with_bad_payloads_and_slow_clients(random_model):
    translator = Translator(random_model, intra_threads=1)
    options = DecodingOptions(beam_size=1, max_decoding_length=48)
    config = ServerConfig(request_timeout_s=TIMEOUT_S, max_queue=4, max_batch_texts=4, max_wait_ms=5)
    with serve_in_thread(create_app(translator, config, options)) as url:
        with concurrent.futures.ThreadPoolExecutor(CLIENTS + 3) as pool:
            trickles = [pool.submit(_trickle, url) for _ in range(3)]
            clients = [pool.submit(_client, url, i) for i in range(CLIENTS)]
            outcomes = [outcome for future in clients for outcome in future.result(timeout=300)]
            slow = [future.result(timeout=300) for future in trickles]
        with httpx.Client(base_url=url, timeout=60) as client:
            deadline = time.monotonic() + 60
            while client.get("/health").json()["queue_depth"] or client.get("/health").json()["model_call_running_s"]:
                assert time.monotonic() < deadline
                time.sleep(0.05)
            assert client.get("/health").status_code == 200
            after = client.post("/translate", json={"texts": ["Save the document."], "source": "en", "target": "de"})
            assert after.status_code == 200
            metrics = client.get("/metrics").text

    statuses = [status for status, *_ in outcomes]
    counts = {status: statuses.count(status) for status in set(statuses)}
    answered = [o for o in outcomes if o[0] != "gave up"]
    assert set(counts) <= {200, 400, 503, 504, "gave up"}, counts  # no 500, no other 5xx
    assert counts.get(503, 0) > 0 and counts.get(200, 0) > 0, counts  # load was shed, and served
    assert all(status == 400 for status, bad, *_ in answered if bad), counts  # bad payloads: 400, under any load
    assert all(status != 400 for status, bad, *_ in answered if not bad)
    for status, _, seconds, timing, body in answered:
        assert seconds < TIMEOUT_S + SLACK_S, (status, seconds)
        if status >= 400:
            assert set(body) == {"error", "detail"}
        if status == 200:  # the server's own clock: answered within the deadline
            total = float(re.search(r"total;dur=([\d.]+)", timing).group(1)) / 1000
            assert total <= TIMEOUT_S + 0.25, timing
    assert all(status in (200, 503, 504) and seconds < 1.0 + TIMEOUT_S + SLACK_S for status, seconds in slow), slow
    shed = sum(float(value) for value in re.findall(r'volctrans_shed_requests_total\{reason="[a-z_]+"\} ([\d.]+)',
                                                    metrics))
    assert shed >= counts.get(503, 0)
    assert "volctrans_model_errors_total 0.0" in metrics
