#!/usr/bin/env bash
# Step of phase 5: translate every test set in both directions with a model (beam search, CTranslate2).
set -euo pipefail
cd "$(dirname "$0")/../../.."
source recipes/demo/env.sh
WHICH=${1:-final}
MODEL=${MODEL:-$RUN/model-$WHICH}

stage "translate the test sets ($WHICH)"
mkdir -p "$RUN/test"
for xx in ${LANGS//,/ }; do
  test_file=$(ls "$SAMPLE/en-$xx/"test.tsv*)
  for direction in "en $xx 1 2" "$xx en 2 1"; do
    read -r src tgt src_col ref_col <<<"$direction"
    base="$RUN/test/$src-$tgt"
    [ -f "$base.src" ] || zcat -f "$test_file" | cut -f"$src_col" > "$base.src"
    [ -f "$base.ref" ] || zcat -f "$test_file" | cut -f"$ref_col" > "$base.ref"
    [ -f "$base.$WHICH.hyp" ] || volctrans translate -m "$MODEL" -s "$src" -t "$tgt" -i "$base.src" \
      -o "$base.$WHICH.hyp" --beam "$BEAM" --quiet \
      --max-decoding-length "$MAX_LEN" --max-length-ratio "$MAX_LEN_RATIO"
  done
done
echo "translations: $RUN/test/*.$WHICH.hyp"
