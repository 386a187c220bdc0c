#!/usr/bin/env bash
# Step of phases 2 (base) and 4 (final): fairseq checkpoint → self-contained CTranslate2 model directory.
set -euo pipefail
cd "$(dirname "$0")/../../.."
source recipes/demo/env.sh
WHICH=${1:-base}
MODEL=${MODEL:-$RUN/model-$WHICH}

stage "export ($WHICH)"
checkpoint="$RUN/checkpoints-$WHICH/checkpoint_best.pt"
if [ -f "$MODEL/volctrans_model.json" ] && [ "$MODEL/model.bin" -nt "$checkpoint" ]; then skip "$MODEL"; exit 0; fi
volctrans export --checkpoint "$checkpoint" --data "$RUN/prepared-$WHICH" -o "$MODEL" --force 2>>"$RUN/log/export.log"
