#!/usr/bin/env bash
# Step: fairseq training from recipes/demo/train-$WHICH.yaml (reverse | clean | final). Rerunning resumes. Further
# arguments go to `volctrans train` (e.g. --set max_update=N to stop early and resume later).
set -euo pipefail
cd "$(dirname "$0")/../../.."
source recipes/demo/env.sh
WHICH=${1:-clean}
shift || true

stage "train ($WHICH$([ $# -gt 0 ] && echo ", $*"))"
data="$RUN/prepared-base"
init=()
if [ "$WHICH" = final ]; then
  data="$RUN/prepared-final"
  init=(--set "init_from=$RUN/checkpoints-clean/checkpoint_last.pt")
fi
volctrans train --config "$CONF/train-$WHICH.yaml" --set "data=$data" --set "save_dir=$RUN/checkpoints-$WHICH" "${init[@]}" "$@" \
  >> "$RUN/log/train-$WHICH.log" 2>&1 || { tail -20 "$RUN/log/train-$WHICH.log"; exit 1; }
volctrans show "$RUN/checkpoints-$WHICH"
