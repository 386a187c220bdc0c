#!/usr/bin/env bash
# Cleaning benchmark: labelled noisy sets from LibreOffice-help pairs, F1 and pairs/s for volctrans and peers,
# then throughput and memory of `volctrans clean` on real clean pairs. Results: docs/benchmarks.md (## Cleaning).
#   CORPUS=/tmp/lo_corpus OUT=runs/clean-bench benchmarks/cleaning.sh
# Peers are optional side venvs (see docs/benchmarks.md): BICLEANER_VENV=/tmp/venv_bicleaner,
# OPUSFILTER_VENV=/tmp/venv_opusfilter; missing ones print "not installed".
set -euo pipefail
CORPUS=${CORPUS:-/tmp/lo_corpus}
OUT=${OUT:-runs/clean-bench}
PY=${PY:-python}
mkdir -p "$OUT"

# 1. Tuning set (train pairs of en-de/fr/ru/zh, seed 1): what the default thresholds were chosen on.
$PY -m volctrans.cli.main clean-bench --corpus "$CORPUS" --langs de,fr,ru,zh --split train --seed 1 --max-clean 4000 \
    --systems volctrans,bicleaner-hardrules,opusfilter --workdir "$OUT/tune" --json "$OUT/tune.json"
# 2. Held out: languages (es, ja), split (test, dev) and seed (11) never used for tuning.
for split in test dev; do
  $PY -m volctrans.cli.main clean-bench --corpus "$CORPUS" --langs es,ja --split $split --seed 11 \
      --workdir "$OUT/heldout_$split" --json "$OUT/heldout_$split.json"
done
# 3. All six pairs, test split, seed 11.
$PY -m volctrans.cli.main clean-bench --corpus "$CORPUS" --langs de,fr,es,ru,zh,ja --split test --seed 11 \
    --workdir "$OUT/all_test" --json "$OUT/all_test.json"

# 4. Throughput and peak memory on real clean pairs (en-de train, 33k pairs; and the same file 5 times:
#    165k rows, of which 132k are duplicates, to show memory is flat beyond the dedup set).
for n in 1 5; do
  for _ in $(seq $n); do cat "$CORPUS/en-de/train.tsv"; done > "$OUT/ende.x$n.tsv"
  for workers in 1 2; do
    /usr/bin/time -f "x$n workers=$workers wall=%e s cpu=%U+%S s maxrss=%M KB" \
      $PY -m volctrans.cli.main clean -s en -t de -i "$OUT/ende.x$n.tsv" -o "$OUT/kept.tsv" \
      --workers $workers --report "$OUT/report.x$n.w$workers.json"
  done
done

# 5. Markdown tables for docs/benchmarks.md
$PY benchmarks/cleaning_tables.py "$OUT"
