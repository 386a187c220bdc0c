#!/usr/bin/env bash
# The CPU testbed (docs/benchmarks.md, "Testbed"): one language pair of real LibreOffice-help data, page-disjoint
# dev/test, one model shape and schedule trained for a FIXED number of updates, over several seeds. Prints the
# learning curve (updates → dev loss → dev/test chrF++ and BLEU) and the seed-to-seed spread of the final scores.
#
#   benchmarks/testbed/run.sh                       # en→es, seeds 1 2 3, benchmarks/testbed/train.yaml
#   SEEDS="1 2" LANG_XX=de DIRECTIONS=both benchmarks/testbed/run.sh
#   CONFIG=my.yaml TB=runs/tb-x benchmarks/testbed/run.sh   # another arm: same data, same protocol
#
# Needs Debian's apt (the libreoffice-help packages are downloaded once into $TB/../testbed-debs).
# Trains one seed at a time on all cores (set OMP_NUM_THREADS); rerunning resumes and skips finished work.
set -euo pipefail
cd "$(dirname "$0")/../.."
D=benchmarks/testbed
TB=${TB:-runs/testbed}
LANG_XX=${LANG_XX:-es}
SEEDS=${SEEDS-1 2 3}
DIRECTIONS=${DIRECTIONS:-en-xx}     # en-xx | xx-en | both (the train config's `directions`)
CONFIG=${CONFIG:-$D/train.yaml}
DATA=${DATA:-runs/testbed-data/$LANG_XX}   # corpus + prepared folder, shared by every arm on this pair
DEBS=${DEBS:-runs/testbed-data/debs}
PREPARED=${PREPARED:-$DATA/prepared}   # another prepared folder (e.g. several sources on this vocabulary)
SET=${SET:-}                         # extra `--set key=value` overrides for every seed, separated by ';'
                                     # (YAML values may hold spaces: SET="weighting=bilevel;bilevel={alpha: 10}")
CURVE=${CURVE:-1}                    # 1: score every interval checkpoint (the learning curve); 0: only the last
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-2}
mkdir -p "$TB" "$DATA"

if [ ! -f "$DATA/corpus/manifest.json" ]; then
  echo "== data: LibreOffice help en-$LANG_XX"
  volctrans data libreoffice-help --langs "$LANG_XX" --cache "$DEBS" --out "$DATA/corpus" --compress >/dev/null
fi
if [ ! -f "$DATA/prepared/prepared.json" ]; then
  echo "== prepare"
  volctrans prepare --config $D/prepare.yaml --corpora "$DATA/corpus" --out "$DATA/prepared" >/dev/null
fi
[ -f "$PREPARED/prepared.json" ] || { echo "$PREPARED: not a prepared folder" >&2; exit 1; }

directions=()
case $DIRECTIONS in
  en-xx) directions=("en-$LANG_XX") ;;
  xx-en) directions=("$LANG_XX-en") ;;
  both) directions=("en-$LANG_XX" "$LANG_XX-en") ;;
esac

overrides=()
IFS=';' read -ra items <<<"$SET"
for item in "${items[@]}"; do [ -n "$item" ] && overrides+=(--set "$item"); done
for seed in $SEEDS; do
  run="$TB/seed$seed"
  if [ ! -f "$run/.done" ]; then
    echo "== train seed $seed ($(uptime | sed 's/.*load/load/'))"
    mkdir -p "$run"
    volctrans train --config "$CONFIG" --set "data=$PREPARED" --set "save_dir=$run" --set "seed=$seed" \
      --set "directions=$DIRECTIONS" "${overrides[@]}" >>"$run/train.log" 2>&1
    uptime | sed 's/.*load/load/' > "$run/.done"
  fi
  checkpoints=("$run/checkpoint_last.pt")
  [ "$CURVE" = 1 ] && checkpoints=("$run"/checkpoint_*_*.pt "$run/checkpoint_last.pt")
  for checkpoint in "${checkpoints[@]}"; do
    for direction in "${directions[@]}"; do
      for split in dev test; do
        key=$(printf '%s\t%s\t%s\t' "$(basename "$checkpoint" .pt)" "$split" "$direction")   # the row's first 3 fields
        grep -qF "$key" "$run/scores.tsv" 2>/dev/null && continue
        row=$(bash $D/score.sh "$checkpoint" "$PREPARED" "$DATA/corpus" "$split" "$direction" "$run/eval")
        printf '%s\t%s\t%s\t%s\n' "$(basename "$checkpoint" .pt)" "$split" "$direction" "$(cut -f4- <<<"$row")" >> "$run/scores.tsv"
      done
    done
  done
  rm -rf "$run"/eval/model-*   # exported copies: rebuilt on demand
done
[ -z "${SEEDS// /}" ] && exit 0   # data and vocabulary only
python3 $D/summarize.py "$TB" "$CONFIG" | tee "$TB/results.md"
