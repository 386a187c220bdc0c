#!/usr/bin/env bash
# Demo recipe: the whole pipeline on the embedded sample (en↔de,fr,es,ru,zh,ja), on CPU.
# Each stage is skipped when its output exists, so rerunning resumes where it stopped.
set -euo pipefail
cd "$(dirname "$0")/../.."

RUN=${RUN:-runs/demo}
SAMPLE=${SAMPLE:-data/sample}
CONF=recipes/demo
BEAM=${BEAM:-4}

stage() { printf '\n=== stage %s: %s\n' "$1" "$2"; }

stage 1 "prepare (SentencePiece + binarize)"
if [ -f "$RUN/prepared/prepared.json" ]; then echo "skip: $RUN/prepared exists"
else volctrans prepare --config "$CONF/prepare.yaml" --out "$RUN/prepared" --corpora "$SAMPLE"; fi

stage 2 "train (fairseq, resumes from $RUN/checkpoints)"
volctrans train --config "$CONF/train.yaml" --set "data=$RUN/prepared" --set "save_dir=$RUN/checkpoints"

stage 3 "export to CTranslate2"
if [ -f "$RUN/model/volctrans_model.json" ] && [ "$RUN/model/model.bin" -nt "$RUN/checkpoints/checkpoint_best.pt" ]; then
  echo "skip: $RUN/model is newer than the checkpoint"
else
  volctrans export --checkpoint "$RUN/checkpoints/checkpoint_best.pt" --data "$RUN/prepared" -o "$RUN/model" --force
fi

stage 4 "translate the test sets (beam $BEAM)"
mkdir -p "$RUN/test"
specs=()
for pair_dir in "$SAMPLE"/en-*/; do
  pair=$(basename "$pair_dir"); xx=${pair#en-}
  test_file=$(ls "$pair_dir"test.tsv*)
  for direction in "en $xx 1 2" "$xx en 2 1"; do
    read -r src tgt src_col ref_col <<<"$direction"
    out="$RUN/test/$src-$tgt"
    if [ ! -f "$out.hyp" ]; then
      zcat -f "$test_file" | cut -f"$src_col" > "$out.src"
      zcat -f "$test_file" | cut -f"$ref_col" > "$out.ref"
      volctrans translate -m "$RUN/model" -s "$src" -t "$tgt" -i "$out.src" -o "$out.hyp" --beam "$BEAM" --quiet
    fi
    specs+=(--spec "$src-$tgt" "$out.hyp" "$out.ref")
  done
done

stage 5 "evaluate (sacrebleu)"
volctrans eval "${specs[@]}" --json "$RUN/scores.json"

cat <<DONE

Done.
  model (CTranslate2, self-contained): $RUN/model
  scores (JSON):                      $RUN/scores.json
  translations of the test sets:      $RUN/test/*.hyp
  checkpoints and training config:    $RUN/checkpoints
Try:  echo "Click the Save button." | volctrans translate -m $RUN/model -s en -t de
DONE
