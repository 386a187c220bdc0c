"""`volctrans serve -m MODEL [--host] [--port]`: HTTP translation service with micro-batching (docs/serving.md)."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from serving.server import ServerConfig, create_app
from volctrans.cli.common import (add_decoding_arguments, add_device_arguments, add_field, decoding_options, given,
                                  load_translator)
from volctrans.errors import VolctransError

API_KEY_ENV = "VOLCTRANS_API_KEY"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-m", "--model", required=True, help="model directory written by `volctrans export`")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    add_field(parser, ServerConfig, "max_wait_ms", type=float, help="how long a request waits for others to share its batch")
    add_field(parser, ServerConfig, "max_batch_tokens", type=int,
              help="source pieces per micro-batch")
    add_field(parser, ServerConfig, "max_batch_texts", type=int)
    add_field(parser, ServerConfig, "max_queue", type=int, help="waiting requests before 503")
    add_field(parser, ServerConfig, "max_queue_tokens", type=int, help="waiting source pieces before 503")
    add_field(parser, ServerConfig, "request_timeout_s", "--request-timeout", type=float,
              help="deadline of a request from its arrival (queue wait + decoding): 503 if it could not start in "
                   "time, 504 if decoding did not end in time")
    add_field(parser, ServerConfig, "stalled_after_s", "--stalled-after", type=float,
              help="/health answers 503 while a model call has been running longer than this")
    add_field(parser, ServerConfig, "max_texts_per_request", type=int)
    add_field(parser, ServerConfig, "max_text_chars", type=int)
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

    # Validated with the decoding options by create_app (every problem at once).
    config = ServerConfig(**given(ServerConfig, args), api_key=api_key(args.api_key_file))
    app = create_app(load_translator(args), config, decoding_options(args))
    uvicorn.run(app, host=args.host, port=args.port, log_level=args.log_level)
    return 0
