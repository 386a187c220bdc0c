#!/usr/bin/env bash
# Step: back-translate the cleaned monolingual slices (xx → en) with the reverse model into a tagged `bt` source.
# Top-k sampling rather than beam: cheaper, and sampled back-translations train better (Edunov et al., 2018).
set -euo pipefail
cd "$(dirname "$0")/../../.."
source recipes/demo/env.sh

stage "back-translate monolingual text"
out="$RUN/corpus/bt"
if [ -f "$out/manifest.json" ]; then skip "$out"; exit 0; fi
rm -rf "$out.partial"
for xx in ${LANGS//,/ }; do
  volctrans backtranslate -m "$RUN/model-reverse" -l "$xx" -i "$RUN/corpus/mono/$xx.txt" -o "$out.partial" --tagged \
    --method sampling --max-length-ratio "$MAX_LEN_RATIO" 2>>"$RUN/log/backtranslate.log" >/dev/null
done
mv "$out.partial" "$out"
volctrans show "$out"
