#!/usr/bin/env bash
# Phase 3: back-translate the monolingual slices (xx → en) with the base model (phase 2) into a tagged `bt` source.
# Top-k sampling rather than beam: cheaper, and sampled back-translations train better (Edunov et al., 2018).
set -euo pipefail
cd "$(dirname "$0")/../.."
source recipes/demo/env.sh

stage "3 back-translate monolingual text"
out="$RUN/corpus/bt"
if [ -f "$out/manifest.json" ]; then skip "$out"; exit 0; fi
for xx in ${LANGS//,/ }; do
  mono="$RUN/corpus/mono/$xx.txt"
  volctrans backtranslate -m "$RUN/model-base" -l "$xx" -i "$mono" -o "$out.partial" --tagged --method sampling \
    --max-length-ratio "$MAX_LEN_RATIO" \
    2>>"$RUN/log/backtranslate.log" >/dev/null
done
mv "$out.partial" "$out"
python3 -c "import json,sys; m=json.load(open(sys.argv[1])); print('bt pairs:', {p: c['train'] for p, c in m['pairs'].items()})" "$out/manifest.json"
