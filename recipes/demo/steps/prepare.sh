#!/usr/bin/env bash
# Step: joint SentencePiece + fairseq binarization, one source per corpus.
#   base:  the clean LibreOffice sample (the vocabulary every demo model shares)
#   final: clean + the back-translated `bt` source (phase 3), on the base vocabulary, so the final model can
#          continue from the clean en→xx model
set -euo pipefail
cd "$(dirname "$0")/../../.."
source recipes/demo/env.sh
WHICH=${1:-base}

stage "prepare ($WHICH)"
out="$RUN/prepared-$WHICH"
if [ -f "$out/prepared.json" ]; then skip "$out"; exit 0; fi
corpora=("$RUN/corpus/libreoffice")
extra=()
[ "$WHICH" = final ] && corpora+=("$RUN/corpus/bt") && extra=(--vocab-from "$RUN/prepared-base")
volctrans prepare --config "$CONF/prepare.yaml" --corpora "${corpora[@]}" --out "$out" "${extra[@]}" \
  2>>"$RUN/log/prepare-$WHICH.log" >/dev/null
volctrans show "$out"
