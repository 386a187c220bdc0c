"""Run OpusFilter's default filter set on a benchmark TSV; executed by the OpusFilter side venv's Python.

Usage: python opusfilter_runner.py bench.tsv keep.txt SRC TGT
Filter set: `opusfilter-autogen --method defaults` (DefaultParameterFilters) with the language pair and its
scripts; writes one 1/0 keep flag per input row and prints {"seconds": CPU seconds spent filtering}.
Not part of volctrans (it must not import it).
"""

import json
import logging
import sys
import time

from opusfilter import autogen, filters as filtermodule
from opusfilter import lid as lidmodule

SCRIPTS = {"en": "Latin", "de": "Latin", "fr": "Latin", "es": "Latin", "ru": "Cyrillic", "zh": "Han",
           "ja": "Han", "ko": "Hangul"}
# CharacterScoreFilter takes one script per side; Japanese mixes Han and kana, so any one choice rejects good
# Japanese text. Leave the filter out for those languages rather than handicap the peer.
MIXED_SCRIPT = {"ja", "ko"}


def build_filters(src, tgt):
    config = autogen.DefaultParameterFilters(langs=[src, tgt], scripts=[SCRIPTS[src], SCRIPTS[tgt]])
    config.set_filter_thresholds()
    built = []
    for spec in config.filters:
        ((name, params),) = spec.items()
        if name == "CharacterScoreFilter" and ({src, tgt} & MIXED_SCRIPT):
            continue
        cls = getattr(filtermodule, name, None) or getattr(lidmodule, name)
        built.append(cls(**params))
    return built


def main():
    path, out, src, tgt = sys.argv[1:5]
    logging.basicConfig(level=logging.WARNING)
    pairs = []
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            cols = line.rstrip("\n").split("\t")
            pairs.append([cols[0], cols[1]])
    built = build_filters(src, tgt)
    start = time.process_time()
    # As OpusFilter's own `filter` step chains the filters: each one only sees the survivors of the previous.
    alive = list(range(len(pairs)))
    for filt in built:
        scores = filt.score([pairs[i] for i in alive])
        alive = [i for i, score in zip(alive, scores) if filt.accept(score)]
    keep = [False] * len(pairs)
    for i in alive:
        keep[i] = True
    seconds = time.process_time() - start
    with open(out, "w") as handle:
        handle.writelines("1\n" if k else "0\n" for k in keep)
    print(json.dumps({"seconds": seconds, "filters": [type(f).__name__ for f in built]}))


if __name__ == "__main__":
    main()
