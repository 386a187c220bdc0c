#!/usr/bin/env bash
# Step: the last checkpoint of a demo model (a fixed number of updates) → a self-contained CTranslate2 model.
set -euo pipefail
cd "$(dirname "$0")/../../.."
source recipes/demo/env.sh
WHICH=${1:-final}
MODEL=${MODEL:-$RUN/model-$WHICH}

stage "export ($WHICH)"
checkpoint="$RUN/checkpoints-$WHICH/checkpoint_last.pt"
if [ -f "$MODEL/volctrans_model.json" ] && [ "$MODEL/model.bin" -nt "$checkpoint" ]; then skip "$MODEL"; exit 0; fi
data="$RUN/prepared-base"
[ "$WHICH" = final ] && data="$RUN/prepared-final"
volctrans export --checkpoint "$checkpoint" --data "$data" -o "$MODEL" --force 2>>"$RUN/log/export.log"
