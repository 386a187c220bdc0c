"""`volctrans serve -m MODEL [--host] [--port]`: HTTP translation service with micro-batching (docs/serving.md)."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from serving.server import ServerConfig, create_app
from volctrans.cli.translate import add_decoding_arguments, add_device_arguments, decoding_options, load_translator
from volctrans.errors import VolctransError

API_KEY_ENV = "VOLCTRANS_API_KEY"


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
    parser.add_argument("--max-queue-tokens", type=int, default=defaults.max_queue_tokens,
                        help="waiting source pieces before 503")
    parser.add_argument("--request-timeout", type=float, default=defaults.request_timeout_s, metavar="SECONDS",
                        help="deadline of a request from its arrival (queue wait + decoding): 503 if it could not "
                             "start in time, 504 if decoding did not end in time")
    parser.add_argument("--stalled-after", type=float, default=defaults.stalled_after_s, metavar="SECONDS",
                        help="/health answers 503 while a model call has been running longer than this")
    parser.add_argument("--max-texts-per-request", type=int, default=defaults.max_texts_per_request)
    parser.add_argument("--max-text-chars", type=int, default=defaults.max_text_chars)
    parser.add_argument("--api-key-file", metavar="FILE",
                        help=f"require this key (the file's first line) in X-API-Key or Authorization: Bearer on "
                             f"every endpoint but /health; or set ${API_KEY_ENV}")
    parser.add_argument("--log-level", default="info", choices=("critical", "error", "warning", "info", "debug"))
    add_decoding_arguments(parser)
    add_device_arguments(parser)


def api_key(path: str | None) -> str | None:
    """The API key from --api-key-file, else from $VOLCTRANS_API_KEY, else None (no key needed)."""
    if path:
        try:
            lines = Path(path).read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError) as error:
            raise VolctransError(f"{path}: cannot read the API key: {getattr(error, 'strerror', None) or error}") \
                from None
        key = lines[0].strip() if lines else ""
        if not key:
            raise VolctransError(f"{path}: empty API key file")
        return key
    return os.environ.get(API_KEY_ENV) or None


def run(args: argparse.Namespace) -> int:
    import uvicorn

    config = ServerConfig(max_wait_ms=args.max_wait_ms, max_batch_tokens=args.max_batch_tokens,
                          max_batch_texts=args.max_batch_texts, max_queue=args.max_queue,
                          max_queue_tokens=args.max_queue_tokens, max_texts_per_request=args.max_texts_per_request,
                          max_text_chars=args.max_text_chars, workers=args.workers,
                          request_timeout_s=args.request_timeout, stalled_after_s=args.stalled_after,
                          api_key=api_key(args.api_key_file))
    app = create_app(load_translator(args), config, decoding_options(args))
    uvicorn.run(app, host=args.host, port=args.port, log_level=args.log_level)
    return 0
