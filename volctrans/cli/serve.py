"""`volctrans serve -m MODEL [--host] [--port]`: HTTP translation service with micro-batching (docs/serving.md)."""

from __future__ import annotations

import argparse

from serving.server import ServerConfig, create_app
from volctrans.cli.common import (add_decoding_arguments, add_device_arguments, add_field, decoding_options, given,
                                  load_translator)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-m", "--model", required=True, help="model directory written by `volctrans export`")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    add_field(parser, ServerConfig, "max_wait_ms", type=float, help="how long a request waits for others to share its batch")
    add_field(parser, ServerConfig, "max_batch_tokens", type=int,
              help="source pieces per micro-batch")
    add_field(parser, ServerConfig, "max_batch_texts", type=int)
    add_field(parser, ServerConfig, "max_queue", type=int, help="waiting requests before 503")
    add_field(parser, ServerConfig, "max_texts_per_request", type=int)
    add_field(parser, ServerConfig, "max_text_chars", type=int)
    parser.add_argument("--log-level", default="info", choices=("critical", "error", "warning", "info", "debug"))
    add_decoding_arguments(parser)
    add_device_arguments(parser)


def run(args: argparse.Namespace) -> int:
    import uvicorn

    config = ServerConfig(**given(ServerConfig, args))  # validated with the decoding options by create_app
    app = create_app(load_translator(args), config, decoding_options(args))
    uvicorn.run(app, host=args.host, port=args.port, log_level=args.log_level)
    return 0
