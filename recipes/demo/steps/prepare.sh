#!/usr/bin/env bash
# Step of phases 2 (base) and 4 (final): joint SentencePiece + fairseq binarization, one source per corpus (clean
# LibreOffice pairs, and for the final model the back-translated `bt` source of phase 3, on the base vocabulary).
set -euo pipefail
cd "$(dirname "$0")/../../.."
source recipes/demo/env.sh
WHICH=${1:-base}  # base: clean corpus only (for the back-translation model) | final: clean + bt

stage "prepare ($WHICH)"
out="$RUN/prepared-$WHICH"
if [ -f "$out/prepared.json" ]; then skip "$out"; exit 0; fi
corpora=("$RUN/corpus/libreoffice")
extra=()
# final: the base vocabulary is kept, so the final model can start from the base checkpoint (steps/train.sh).
[ "$WHICH" = final ] && corpora+=("$RUN/corpus/bt") && extra=(--vocab-from "$RUN/prepared-base")
volctrans prepare --config "$CONF/prepare.yaml" --corpora "${corpora[@]}" --out "$out" "${extra[@]}" \
  2>>"$RUN/log/prepare-$WHICH.log" >/dev/null
python3 -c "import json,sys; m=json.load(open(sys.argv[1])); print('binarized train pairs:', {s: sum(c['train'] for c in v['pairs'].values()) for s, v in m['sources'].items()}, '| vocabulary', m['vocabulary'])" "$out/prepared.json"
