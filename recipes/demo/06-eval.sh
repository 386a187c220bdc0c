#!/usr/bin/env bash
# Phase 6: score the reverse (xx→en), clean (en→xx) and final (en→xx) models (and Apertium on en↔es when installed) on the held-out test sets.
set -euo pipefail
cd "$(dirname "$0")/../.."
source recipes/demo/env.sh

stage "6 evaluate (sacrebleu: BLEU, spBLEU when available, chrF++)"
specs=()
for xx in ${LANGS//,/ }; do
  for pair in "en-$xx" "$xx-en"; do
    for which in reverse clean final; do
      [ -f "$RUN/test/$pair.$which.hyp" ] && specs+=(--spec "$which/$pair" "$RUN/test/$pair.$which.hyp" "$RUN/test/$pair.ref")
    done
  done
done
# Apertium, the rule-based system a user here could pick instead, on exactly the same test sentences. Without a
# system-wide install it is unpacked (no root) from Debian's packages into $RUN/apertium, once.
for pair in en-es es-en; do
  [ -f "$RUN/test/$pair.src" ] || continue
  if [ -f "$RUN/test/$pair.apertium.hyp" ] || volctrans apertium "$pair" -i "$RUN/test/$pair.src" \
      -o "$RUN/test/$pair.apertium.hyp" --install-to "$RUN/apertium" >/dev/null 2>>"$RUN/log/apertium.log"; then
    specs+=(--spec "apertium/$pair" "$RUN/test/$pair.apertium.hyp" "$RUN/test/$pair.ref")
  else
    echo "apertium: $pair not available ($(tail -1 "$RUN/log/apertium.log")) — row skipped"
  fi
done
volctrans eval "${specs[@]}" --json "$RUN/scores.json"
