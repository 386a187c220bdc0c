#!/usr/bin/env bash
# Phase 1: clean the sample's training pairs and monolingual slices with the rule engine (docs/cleaning.md).
# Dev and test sets are copied untouched: they are references, and cleaning them would flatter the scores.
set -euo pipefail
cd "$(dirname "$0")/../.."
source recipes/demo/env.sh

stage "1 clean"
out="$RUN/corpus/libreoffice"
if [ -f "$out/manifest.json" ]; then skip "$out"; exit 0; fi
mkdir -p "$RUN/log" "$RUN/corpus/mono" "$out.partial"
for xx in ${LANGS//,/ }; do
  pair="en-$xx"
  mkdir -p "$out.partial/$pair"
  volctrans clean -s en -t "$xx" -i "$(ls "$SAMPLE/$pair/"train.tsv*)" -o "$out.partial/$pair/train.tsv" \
    --rejected "$RUN/log/rejected.$pair.tsv" --report "$RUN/log/clean.$pair.json" 2>>"$RUN/log/clean.log"
  for split in dev test; do zcat -f "$(ls "$SAMPLE/$pair/"$split.tsv*)" > "$out.partial/$pair/$split.tsv"; done
  volctrans clean-mono -l "$xx" -i "$(ls "$SAMPLE/mono/"$xx.txt*)" -o "$RUN/corpus/mono/$xx.txt" 2>>"$RUN/log/clean.log"
done
# The cleaned corpus keeps the sample's manifest (name, licence), with its own file names and counts.
volctrans data recount "$out.partial" --manifest-from "$SAMPLE" >/dev/null
volctrans show "$out.partial"
mv "$out.partial" "$out"
