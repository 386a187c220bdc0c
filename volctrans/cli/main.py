"""`volctrans <subcommand>`: one entry point. Only the invoked subcommand's module is imported (fairseq is slow)."""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
import traceback

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
    "show": ("volctrans.cli.show", "summarise an artifact: prepared folder, corpus, training run, weight log, scores"),
    "export": ("volctrans.cli.export", "convert a fairseq checkpoint to a self-contained CTranslate2 model"),
    "translate": ("volctrans.cli.translate", "batch-translate text with an exported model"),
    "serve": ("volctrans.cli.serve", "HTTP translation service with micro-batching (FastAPI)"),
    "parity": ("volctrans.cli.parity", "compare CTranslate2 outputs with fairseq-generate on a test set"),
    "bench": ("volctrans.cli.bench", "throughput and quality: fairseq-generate vs CTranslate2 precisions"),
    "eval": ("volctrans.cli.evaluate", "score translations: BLEU, spBLEU, chrF++ per pair"),
    "apertium": ("volctrans.cli.apertium", "translate with Apertium, the rule-based baseline (en↔es and others)"),
    "engine-info": ("volctrans.cli.engine_info", "which CTranslate2 build, cuBLAS and precisions are in use here"),
}


def build_parser(selected: str | None) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="volctrans", description="Multilingual MT: data → prepare → train → export → translate → eval."
    )
    parser.add_argument("--version", action="version", version=f"volctrans {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    parser.add_argument("--debug", action="store_true", help="print the Python traceback of an error")
    subparsers = parser.add_subparsers(dest="command", metavar="<command>")
    for name, (module_name, help_text) in COMMANDS.items():
        sub = subparsers.add_parser(name, help=help_text, description=help_text)
        # Also accepted after the command; SUPPRESS keeps the subparser from resetting a --debug given before it.
        sub.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help=argparse.SUPPRESS)
        if name == selected:
            module = importlib.import_module(module_name)
            module.add_arguments(sub)
            sub.set_defaults(handler=module.run)
    return parser


def one_line(message: object) -> str:
    """An error message on one line: the line breaks of multi-line messages become ' | '."""
    return " | ".join(part.strip() for part in str(message).strip().splitlines() if part.strip())


def describe_error(error: BaseException) -> tuple[str, int] | None:
    """(one-line message, exit status) for an error the user can act on; None for a bug."""
    if isinstance(error, VolctransError):
        return one_line(error), 1
    if isinstance(error, ModuleNotFoundError) and error.name:
        return f"missing Python package '{error.name}' (install the requirements: make install)", 1
    if isinstance(error, MemoryError):
        return "out of memory", 1
    if isinstance(error, OSError):  # the environment (permissions, disk, a file in the way), not the program
        where = f"{error.filename}: " if error.filename else ""
        return one_line(f"{where}{error.strerror or error}"), 1
    return None


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in argv
    command = next((arg for arg in argv if not arg.startswith("-")), None)
    try:
        return _main(argv)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 141
    except SystemExit:
        raise
    except BaseException as error:  # noqa: BLE001 - the one place where every error becomes one line
        if debug:
            traceback.print_exc()
        prefix = f"volctrans {command}" if command in COMMANDS else "volctrans"
        known = describe_error(error)
        if known is not None:
            print(f"{prefix}: error: {known[0]}", file=sys.stderr)
            return known[1]
        print(f"{prefix}: internal error: {type(error).__name__}: {one_line(error)} (this is a bug: please report "
              f"it with the output of the same command run with --debug)", file=sys.stderr)
        return 2


def _main(argv: list[str]) -> int:
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
    return int(handler(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
