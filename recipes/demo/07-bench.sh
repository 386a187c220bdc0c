#!/usr/bin/env bash
# Phase 7: throughput with quality, in one run on the same inputs: fairseq-generate vs CTranslate2 float32 / int8
# (and float16 / int8_float16 on a GPU), on the en→es test set (docs/serving.md).
set -euo pipefail
cd "$(dirname "$0")/../.."
source recipes/demo/env.sh
PAIR=${BENCH_PAIR:-en-es}

stage "7 benchmark ($PAIR, beam $BEAM)"
if [ -f "$RUN/bench.json" ]; then skip "$RUN/bench.json"; exit 0; fi
volctrans bench -m "$RUN/model" --checkpoint "$RUN/checkpoints-final/checkpoint_best.pt" --data "$RUN/prepared-final" \
  -i "$(ls "$SAMPLE/$PAIR/"test.tsv*)" --pair "$PAIR" --beam "$BEAM" --limit "${BENCH_SENTENCES:-100}" \
  --max-decoding-length "$MAX_LEN" --json "$RUN/bench.json" 2>>"$RUN/log/bench.log"
