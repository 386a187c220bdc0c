#!/usr/bin/env bash
# WMT22 large-scale multilingual recipe, parametrised by the user's data (config.env). Stages:
#   0 validate configs and data list   1 import sources   2 clean   3 back-translate (optional)   4 prepare
#   5 train (torchrun, multi-GPU/multi-node)   6 average checkpoints   7 export   8 translate test sets   9 eval
# DRY_RUN=1 validates and prints every command without running it. START/STOP pick a stage range.
# Each stage skips work whose output exists, so rerunning resumes (training resumes from checkpoint_last.pt).
set -euo pipefail
cd "$(dirname "$0")/../.."
CONFIG=${CONFIG:-recipes/wmt22/config.env}
source "$CONFIG"
START=${START:-0}
STOP=${STOP:-9}

run() { if [ -n "${DRY_RUN:-}" ]; then printf '+ %s\n' "$*"; else "$@"; fi; }
want() { [ "$1" -ge "$START" ] && [ "$1" -le "$STOP" ]; }
stage() { printf '\n=== stage %s\n' "$*"; }
mkdir -p "$WORK/log"
# Source names and target pairs, in list order (the first source is the trusted one).
SOURCES=$(grep -v '^\s*#' "$SOURCES_LIST" | awk 'NF {print $1}' | awk '!seen[$0]++' | paste -sd' ')
TRUSTED=${SOURCES%% *}
DIST="{nproc_per_node: $NPROC_PER_NODE, nnodes: $NNODES, node_rank: $NODE_RANK, master_addr: '$MASTER_ADDR', master_port: $MASTER_PORT}"

if want 0; then
  stage "0: validate"
  volctrans data import --list "$SOURCES_LIST" --out "$WORK/corpora" --check
  volctrans prepare --config "$PREPARE_CONFIG" --corpora "$WORK/corpora/$TRUSTED" --check
  volctrans train --config "$TRAIN_CONFIG" --set "distributed=$DIST" --check
fi

if want 1; then
  stage "1: import sources ($SOURCES)"
  [ -f "$WORK/corpora/$TRUSTED/manifest.json" ] && echo "skip: $WORK/corpora exists" \
    || run volctrans data import --list "$SOURCES_LIST" --out "$WORK/corpora"
fi

if want 2; then
  stage "2: clean the training data of every source"
  for source in $SOURCES; do
    [ -d "$WORK/corpora/$source" ] || [ -n "${DRY_RUN:-}" ] || { echo "missing $WORK/corpora/$source"; exit 1; }
    for train in "$WORK"/corpora/"$source"/*/train.tsv; do
      [ -e "$train" ] || continue
      pair=$(basename "$(dirname "$train")"); src=${pair%-*}; tgt=${pair#*-}
      [ -f "$train.raw" ] && { echo "skip: $train already cleaned"; continue; }
      run mv "$train" "$train.raw"
      run volctrans clean -s "$src" -t "$tgt" -i "$train.raw" -o "$train" --report "$WORK/log/clean.$source.$pair.json"
    done
  done
fi

CORPORA=()
for source in $SOURCES; do CORPORA+=("$WORK/corpora/$source"); done
if want 3 && [ -n "$MONO_DIR" ]; then
  stage "3: back-translate $MONO_DIR with ${BT_MODEL:?set BT_MODEL to an exported xx→en model}"
  for mono in "$MONO_DIR"/*.txt; do
    lang=$(basename "$mono" .txt)
    run volctrans clean-mono -l "$lang" -i "$mono" -o "$WORK/mono.$lang.clean.txt"
    run volctrans backtranslate -m "$BT_MODEL" -l "$lang" -i "$WORK/mono.$lang.clean.txt" -o "$WORK/corpora/bt" \
      --tagged --device "$DEVICE"
  done
fi
[ -n "$MONO_DIR" ] && CORPORA+=("$WORK/corpora/bt")

if want 4; then
  stage "4: prepare (joint SentencePiece, per-source binarization)"
  [ -f "$WORK/prepared/prepared.json" ] && echo "skip: $WORK/prepared exists" \
    || run volctrans prepare --config "$PREPARE_CONFIG" --corpora "${CORPORA[@]}" --out "$WORK/prepared"
fi

if want 5; then
  stage "5: train ($NNODES node(s) × $NPROC_PER_NODE GPU(s)); run this stage on every node with its NODE_RANK"
  if [ -n "${DRY_RUN:-}" ] && [ ! -f "$WORK/prepared/prepared.json" ]; then
    echo "+ volctrans train --config $TRAIN_CONFIG --set data=$WORK/prepared --set save_dir=$WORK/checkpoints --set distributed=$DIST"
  else
    run volctrans train --config "$TRAIN_CONFIG" --set "data=$WORK/prepared" --set "save_dir=$WORK/checkpoints" \
      --set "distributed=$DIST" ${DRY_RUN:+--dry-run}
  fi
fi
[ "$NODE_RANK" = 0 ] || exit 0  # averaging, export and evaluation run once, on the first node

if want 6; then
  stage "6: average the last $AVERAGE_LAST checkpoints"
  run volctrans average --save-dir "$WORK/checkpoints" -n "$AVERAGE_LAST" -o "$WORK/checkpoints/averaged.pt"
fi

if want 7; then
  stage "7: export to CTranslate2 ($QUANTIZATION)"
  run volctrans export --checkpoint "$WORK/checkpoints/averaged.pt" --data "$WORK/prepared" -o "$WORK/model" \
    --quantization "$QUANTIZATION" --force
fi

if want 8; then
  stage "8: translate the test sets of the trusted source, both directions"
  mkdir -p "$WORK/test"
  for test_file in "$WORK"/corpora/"$TRUSTED"/*/test.tsv; do
    [ -e "$test_file" ] || continue
    pair=$(basename "$(dirname "$test_file")"); a=${pair%-*}; b=${pair#*-}
    for direction in "$a $b 1 2" "$b $a 2 1"; do
      read -r src tgt src_col ref_col <<<"$direction"
      cut -f"$src_col" "$test_file" > "$WORK/test/$src-$tgt.src"; cut -f"$ref_col" "$test_file" > "$WORK/test/$src-$tgt.ref"
      run volctrans translate -m "$WORK/model" -s "$src" -t "$tgt" -i "$WORK/test/$src-$tgt.src" \
        -o "$WORK/test/$src-$tgt.hyp" --beam "$BEAM" --device "$DEVICE" --quiet
    done
  done
fi

if want 9; then
  stage "9: evaluate in the WMT22 report form (BLEU, spBLEU, chrF++ per pair and averaged over pairs)"
  specs=()
  for ref in "$WORK"/test/*.ref; do
    [ -e "$ref" ] || continue
    pair=$(basename "$ref" .ref); specs+=(--spec "$pair" "${ref%.ref}.hyp" "$ref")
  done
  if [ ${#specs[@]} -gt 0 ]; then run volctrans eval "${specs[@]}" --json "$WORK/scores.json"
  else echo "no test sets translated yet"; fi
fi
