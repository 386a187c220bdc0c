"""`volctrans translate -m MODEL -s SRC -t TGT [-i FILE|-] [-o FILE|-]`: streaming batch translation."""

from __future__ import annotations

import argparse
import time

from tqdm import tqdm

from serving.translator import DecodingOptions, Translator
from volctrans.io import atomic_write, iter_lines


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-m", "--model", required=True, help="model directory written by `volctrans export`")
    parser.add_argument("-s", "--source-lang", required=True)
    parser.add_argument("-t", "--target-lang", required=True)
    parser.add_argument("-i", "--input", default="-", help="text file (.gz ok), '-' for stdin")
    parser.add_argument("-o", "--output", default="-", help="output file (written atomically), '-' for stdout")
    parser.add_argument("--beam", type=int, default=4)
    parser.add_argument("--length-penalty", type=float, default=1.0)
    parser.add_argument("--max-decoding-length", type=int, default=256)
    parser.add_argument("--max-input-pieces", type=int, default=250,
                        help="longer inputs are truncated to this many SentencePiece pieces")
    parser.add_argument("--sampling-topk", type=int, default=1, help=">1 samples from the top k (needs --beam 1)")
    parser.add_argument("--sampling-temperature", type=float, default=1.0)
    parser.add_argument("--replace-unknowns", action="store_true")
    parser.add_argument("--batch-tokens", type=int, default=4096)
    parser.add_argument("--chunk-lines", type=int, default=4000, help="lines read and sorted together")
    parser.add_argument("--device", default="cpu", choices=("cpu", "cuda", "auto"))
    parser.add_argument("--compute-type", default="default", help="CT2 compute type (default: as exported)")
    parser.add_argument("--threads", type=int, default=0, help="CPU threads (0: CT2 default)")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")


def run(args: argparse.Namespace) -> int:
    translator = Translator(args.model, device=args.device, compute_type=args.compute_type, intra_threads=args.threads)
    options = DecodingOptions(
        beam_size=args.beam, length_penalty=args.length_penalty, max_decoding_length=args.max_decoding_length,
        max_input_pieces=args.max_input_pieces, sampling_topk=args.sampling_topk,
        sampling_temperature=args.sampling_temperature, replace_unknowns=args.replace_unknowns,
        max_batch_tokens=args.batch_tokens,
    )
    # Check the languages before reading any input, so a typo fails fast.
    translator.lang_token(args.source_lang)
    translator.lang_token(args.target_lang)
    lines = (text for _, text in iter_lines(args.input, allow_empty=True))
    start = time.perf_counter()
    count = 0
    with atomic_write(args.output) as out, tqdm(desc="translate", unit="sent", disable=args.quiet) as progress:
        for translation in translator.translate_stream(lines, args.source_lang, args.target_lang, options,
                                                       args.chunk_lines):
            out.write(translation + "\n")
            count += 1
            progress.update(1)
    elapsed = time.perf_counter() - start
    if not args.quiet:
        print(f"translated {count} lines in {elapsed:.1f}s ({count / max(elapsed, 1e-9):.1f} sent/s)",
              file=__import__("sys").stderr)
    return 0
