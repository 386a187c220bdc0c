#!/usr/bin/env bash
# Step of phases 2 (base) and 4 (final): fairseq training. base: temperature sampling on the clean corpus (it
# back-translates in phase 3 and is the baseline row of the score table); final: fine-tunes the base model on
# clean + bt sources mixed by bilevel-learned weights. Rerunning resumes.
set -euo pipefail
cd "$(dirname "$0")/../../.."
source recipes/demo/env.sh
WHICH=${1:-base}

stage "train ($WHICH)"
config="$CONF/train-$WHICH.yaml"
init=()
[ "$WHICH" = final ] && init=(--set "init_from=$RUN/checkpoints-base/checkpoint_best.pt")
volctrans train --config "$config" --set "data=$RUN/prepared-$WHICH" --set "save_dir=$RUN/checkpoints-$WHICH" "${init[@]}" \
  > "$RUN/log/train-$WHICH.log" 2>&1 || { tail -20 "$RUN/log/train-$WHICH.log"; exit 1; }
python3 -c "import json,sys; s=json.load(open(sys.argv[1])); print(f\"trained in {s['wall_seconds']:.0f}s, peak RSS {s['peak_rss_mb']:.0f} MB\")" \
  "$RUN/checkpoints-$WHICH/train_summary.json"
