"""`volctrans translate -m MODEL -s SRC -t TGT[,TGT...] [-i FILE|-] [-o FILE|-]`: streaming batch translation."""

from __future__ import annotations

import argparse
import sys

from serving.batch import ON_ERROR, BatchConfig, translate_file
from serving.translator import DecodingOptions, Translator


def add_decoding_arguments(parser: argparse.ArgumentParser) -> None:
    """Decoding options shared by translate, serve, bench and parity."""
    parser.add_argument("--beam", type=int, default=4, help="beam size (1: greedy)")
    parser.add_argument("--length-penalty", type=float, default=1.0, help="score / length^penalty, as fairseq --lenpen")
    parser.add_argument("--max-decoding-length", type=int, default=256, help="output pieces at most (model-bounded)")
    parser.add_argument("--min-decoding-length", type=int, default=0, help="output pieces before </s> may end it")
    parser.add_argument("--max-length-ratio", type=float, default=0.0, metavar="A",
                        help="also cap each output at int(A × source pieces + --max-length-extra), as fairseq "
                             "--max-len-a/b (0: off)")
    parser.add_argument("--max-length-extra", type=int, default=10, metavar="B")
    parser.add_argument("--max-input-pieces", type=int, default=250,
                        help="longer inputs are truncated to their first N SentencePiece pieces (model-bounded)")
    parser.add_argument("--sampling-topk", type=int, default=1, help=">1 samples from the top k (needs --beam 1)")
    parser.add_argument("--sampling-temperature", type=float, default=1.0)
    parser.add_argument("--replace-unknowns", action="store_true", help="replace <unk> by the attended source piece")
    parser.add_argument("--ct2-scoring", action="store_true",
                        help="keep CTranslate2's beam ranking instead of fairseq's (see docs/serving.md)")
    parser.add_argument("--batch-tokens", type=int, default=4096, help="tokens per CTranslate2 batch")


def add_device_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--device", default="cpu", choices=("cpu", "cuda", "auto"))
    parser.add_argument("--device-index", type=int, default=0, help="GPU index with --device cuda")
    parser.add_argument("--compute-type", default="default", help="CT2 compute type (default: as exported)")
    parser.add_argument("--threads", type=int, default=0, help="CPU threads per translator (0: CT2 default)")
    parser.add_argument("--workers", type=int, default=1, help="parallel translators (CT2 inter_threads)")


def decoding_options(args: argparse.Namespace) -> DecodingOptions:
    return DecodingOptions(
        beam_size=args.beam, length_penalty=args.length_penalty, max_decoding_length=args.max_decoding_length,
        min_decoding_length=args.min_decoding_length,
        max_length_ratio=args.max_length_ratio, max_length_extra=args.max_length_extra,
        max_input_pieces=args.max_input_pieces, sampling_topk=args.sampling_topk,
        sampling_temperature=args.sampling_temperature, replace_unknowns=args.replace_unknowns,
        max_batch_tokens=args.batch_tokens, fairseq_scoring=not args.ct2_scoring,
    )


def load_translator(args: argparse.Namespace) -> Translator:
    return Translator(args.model, device=args.device, compute_type=args.compute_type, intra_threads=args.threads,
                      inter_threads=args.workers, device_index=args.device_index)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-m", "--model", required=True, help="model directory written by `volctrans export`")
    parser.add_argument("-s", "--source-lang", required=True)
    parser.add_argument("-t", "--target-lang", required=True,
                        help="target language, or several comma-separated (de,fr,zh): see -o")
    parser.add_argument("-i", "--input", default="-", help="text file (.gz ok), '-' for stdin")
    parser.add_argument("-o", "--output", default="-",
                        help="output (written atomically, .gz ok), '-' for stdout. With several targets: a path with "
                             "'{tgt}' gets one file per target, otherwise rows get one column per target")
    parser.add_argument("--tsv-column", type=int, default=None, metavar="N",
                        help="input is TSV: translate column N (1-based), keep all columns and append the translation")
    parser.add_argument("--on-error", default="fail", choices=ON_ERROR,
                        help="invalid UTF-8 / missing column: stop naming the line, or write an empty line and log it")
    parser.add_argument("--chunk-lines", type=int, default=4000,
                        help="lines read, length-sorted and translated together (bounds memory)")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    add_decoding_arguments(parser)
    add_device_arguments(parser)


def run(args: argparse.Namespace) -> int:
    translator = load_translator(args)
    config = BatchConfig(
        source_lang=args.source_lang, target_langs=[lang.strip() for lang in args.target_lang.split(",") if lang.strip()],
        input=args.input, output=args.output, tsv_column=args.tsv_column, on_error=args.on_error,
        chunk_lines=args.chunk_lines, progress=not args.quiet,
    )
    stats = translate_file(translator, config, decoding_options(args))
    if not args.quiet:
        skipped = f", {stats.skipped} skipped" if stats.skipped else ""
        print(f"translated {stats.lines} lines × {stats.targets} target(s) in {stats.seconds:.1f}s "
              f"({stats.sent_per_s:.1f} sent/s{skipped})", file=sys.stderr)
    return 0
