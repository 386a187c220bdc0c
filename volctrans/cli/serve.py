"""`volctrans serve -m MODEL [--host] [--port]`: HTTP translation service with micro-batching (docs/serving.md)."""

from __future__ import annotations

import argparse

from serving.server import ServerConfig, create_app
from volctrans.cli.translate import add_decoding_arguments, add_device_arguments, decoding_options, load_translator


def add_arguments(parser: argparse.ArgumentParser) -> None:
    defaults = ServerConfig()
    parser.add_argument("-m", "--model", required=True, help="model directory written by `volctrans export`")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--max-wait-ms", type=float, default=defaults.max_wait_ms,
                        help="how long a request waits for others to share its batch")
    parser.add_argument("--max-batch-tokens", type=int, default=defaults.max_batch_tokens,
                        help="source pieces per micro-batch")
    parser.add_argument("--max-batch-texts", type=int, default=defaults.max_batch_texts)
    parser.add_argument("--max-queue", type=int, default=defaults.max_queue, help="waiting requests before 503")
    parser.add_argument("--max-texts-per-request", type=int, default=defaults.max_texts_per_request)
    parser.add_argument("--max-text-chars", type=int, default=defaults.max_text_chars)
    parser.add_argument("--log-level", default="info", choices=("critical", "error", "warning", "info", "debug"))
    add_decoding_arguments(parser)
    add_device_arguments(parser)


def run(args: argparse.Namespace) -> int:
    import uvicorn

    config = ServerConfig(max_wait_ms=args.max_wait_ms, max_batch_tokens=args.max_batch_tokens,
                          max_batch_texts=args.max_batch_texts, max_queue=args.max_queue,
                          max_texts_per_request=args.max_texts_per_request, max_text_chars=args.max_text_chars,
                          workers=args.workers)
    app = create_app(load_translator(args), config, decoding_options(args))
    uvicorn.run(app, host=args.host, port=args.port, log_level=args.log_level)
    return 0
