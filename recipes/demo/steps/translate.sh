#!/usr/bin/env bash
# Step: translate the test sets of the directions a demo model was trained on (beam search, CTranslate2).
#   steps/translate.sh WHICH en-xx|xx-en
set -euo pipefail
cd "$(dirname "$0")/../../.."
source recipes/demo/env.sh
WHICH=${1:-final}
DIRECTIONS=${2:-en-xx}
MODEL=${MODEL:-$RUN/model-$WHICH}

stage "translate the test sets ($WHICH, $DIRECTIONS)"
mkdir -p "$RUN/test"
for xx in ${LANGS//,/ }; do
  test_file=$(ls "$SAMPLE/en-$xx/"test.tsv*)
  direction="en $xx 1 2"
  [ "$DIRECTIONS" = xx-en ] && direction="$xx en 2 1"
  read -r src tgt src_col ref_col <<<"$direction"
  base="$RUN/test/$src-$tgt"
  [ -f "$base.src" ] || zcat -f "$test_file" | cut -f"$src_col" > "$base.src"
  [ -f "$base.ref" ] || zcat -f "$test_file" | cut -f"$ref_col" > "$base.ref"
  [ -f "$base.$WHICH.hyp" ] || volctrans translate -m "$MODEL" -s "$src" -t "$tgt" -i "$base.src" \
    -o "$base.$WHICH.hyp" --beam "$BEAM" --quiet \
    --max-decoding-length "$MAX_LEN" --max-length-ratio "$MAX_LEN_RATIO"
done
echo "translations: $RUN/test/*.$WHICH.hyp"
