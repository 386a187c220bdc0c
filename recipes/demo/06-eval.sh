#!/usr/bin/env bash
# Phase 6: score base and final models (and Apertium on en↔es when installed) on the held-out test sets.
set -euo pipefail
cd "$(dirname "$0")/../.."
source recipes/demo/env.sh

stage "6 evaluate (sacrebleu: BLEU, spBLEU when available, chrF++)"
specs=()
for xx in ${LANGS//,/ }; do
  for pair in "en-$xx" "$xx-en"; do
    for which in base final; do
      [ -f "$RUN/test/$pair.$which.hyp" ] && specs+=(--spec "$which/$pair" "$RUN/test/$pair.$which.hyp" "$RUN/test/$pair.ref")
    done
  done
done
# Apertium, the rule-based system a user here could pick instead, on exactly the same test sentences. Without a
# system-wide install it is unpacked (no root) from Debian's packages into $RUN/apertium, once.
if ! python3 -c "from volctrans.apertium import apertium_mode as m; import sys; sys.exit(0 if m('en', 'es') else 1)"; then
  export VOLCTRANS_APERTIUM_ROOT="$RUN/apertium"
  [ -f "$RUN/apertium/usr/bin/apertium" ] || python3 -c "from volctrans.apertium import install_local; install_local('$RUN/apertium', 'en', 'es')" \
    2>>"$RUN/log/apertium.log" || echo "apertium: could not unpack it from Debian's packages (see $RUN/log/apertium.log)"
fi
for pair in en-es es-en; do
  if [ -f "$RUN/test/$pair.src" ] && python3 -c "from volctrans.apertium import apertium_mode as m; import sys; sys.exit(0 if m(*'$pair'.split('-')) else 1)"; then
    [ -f "$RUN/test/$pair.apertium.hyp" ] || python3 -c "
import sys
from volctrans import apertium
from volctrans.io import read_lines, write_lines
src, tgt = '$pair'.split('-')
write_lines('$RUN/test/$pair.apertium.hyp', apertium.translate(read_lines('$RUN/test/$pair.src'), apertium.apertium_mode(src, tgt)))"
    specs+=(--spec "apertium/$pair" "$RUN/test/$pair.apertium.hyp" "$RUN/test/$pair.ref")
  else
    echo "apertium: $pair not available (apt-get install apertium apertium-eng-spa) — row skipped"
  fi
done
volctrans eval "${specs[@]}" --json "$RUN/scores.json"
