"""`volctrans <subcommand>`: one entry point. Only the invoked subcommand's module is imported (fairseq is slow)."""

from __future__ import annotations

import argparse
import importlib
import logging
import sys

from volctrans import __version__
from volctrans.errors import VolctransError

# name -> (module, one-line help). Order is the pipeline order shown by --help.
COMMANDS: dict[str, tuple[str, str]] = {
    "data": ("volctrans.cli.data", "build corpora: libreoffice-help, gettext, import, noisy, debian-mono, sample, recount"),
    "clean": ("volctrans.cli.clean", "rule-based cleaning of a source<TAB>target corpus"),
    "clean-mono": ("volctrans.cli.clean_mono", "the same cleaning on monolingual text (back-translation input)"),
    "clean-learn": ("volctrans.cli.clean_learn", "learn a cleaning rule (rectifier net → linear constraints)"),
    "clean-lexicon": ("volctrans.cli.clean_lexicon", "learn the word-translation lexicon of the `lexical` rule"),
    "clean-bench": ("volctrans.cli.clean_bench", "noisy-benchmark F1 and speed of volctrans vs peers"),
    "backtranslate": ("volctrans.cli.backtranslate", "monolingual text → synthetic bitext (a `bt` source)"),
    "select": ("volctrans.cli.select", "G-DIG data selection: influence on a seed set + gradient clustering"),
    "prepare": ("volctrans.cli.prepare", "train SentencePiece, encode and binarize corpora for fairseq"),
    "train": ("volctrans.cli.train", "train a fairseq multilingual transformer from a YAML config"),
    "average": ("volctrans.cli.average", "average the last N checkpoints (before export)"),
    "plot-weights": ("volctrans.cli.plot_weights", "plot learned source weights (bilevel log) to a PNG"),
    "export": ("volctrans.cli.export", "convert a fairseq checkpoint to a self-contained CTranslate2 model"),
    "translate": ("volctrans.cli.translate", "batch-translate text with an exported model"),
    "serve": ("volctrans.cli.serve", "HTTP translation service with micro-batching (FastAPI)"),
    "parity": ("volctrans.cli.parity", "compare CTranslate2 outputs with fairseq-generate on a test set"),
    "bench": ("volctrans.cli.bench", "throughput and quality: fairseq-generate vs CTranslate2 precisions"),
    "eval": ("volctrans.cli.evaluate", "score translations: BLEU, spBLEU, chrF++ per pair"),
    "engine-info": ("volctrans.cli.engine_info", "which CTranslate2 build, cuBLAS and precisions are in use here"),
}


def build_parser(selected: str | None) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="volctrans", description="Multilingual MT: data → prepare → train → export → translate → eval."
    )
    parser.add_argument("--version", action="version", version=f"volctrans {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    subparsers = parser.add_subparsers(dest="command", metavar="<command>")
    for name, (module_name, help_text) in COMMANDS.items():
        sub = subparsers.add_parser(name, help=help_text, description=help_text)
        if name == selected:
            module = importlib.import_module(module_name)
            module.add_arguments(sub)
            sub.set_defaults(handler=module.run)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    selected = next((arg for arg in argv if not arg.startswith("-")), None)
    parser = build_parser(selected if selected in COMMANDS else None)
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        datefmt="%H:%M:%S",
        stream=sys.stderr,
    )
    handler = getattr(args, "handler", None)
    if handler is None:
        parser.print_help()
        return 0 if args.command is None else 2
    try:
        return int(handler(args) or 0)
    except VolctransError as error:
        print(f"volctrans {args.command}: error: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 141


if __name__ == "__main__":
    sys.exit(main())
