#!/usr/bin/env bash
# Back-translation on the testbed (docs/benchmarks.md, "Back-translation on the testbed"), en→xx:
#   1. a reverse model xx→en: the testbed protocol with DIRECTIONS=xx-en (seed 1), which must translate
#      (chrF++ ≥ 45 on the test split) for the comparison to mean anything;
#   2. real monolingual xx text outside the training data: Debian's manpages-xx and fortunes-xx
#      (`volctrans data debian-mono`, LibreOffice dev/test sentences removed), cleaned with `volctrans clean-mono`;
#   3. back-translated with the reverse model (beam 4), untagged and tagged (<BT> on the synthetic English);
#   4. arms en→xx at the testbed's model, schedule and number of updates, seeds $SEEDS:
#        nobt     the testbed's own en→xx runs (same config and updates; reused when present)
#        bt       LibreOffice + bt, concatenated (temperature 1 = sampled in proportion to size)
#        bt_tagged the same with tagged synthetic sources
#        bt_bilevel LibreOffice + untagged bt, mixed by bilevel weights against the LibreOffice dev split
# Scores: the LibreOffice test split (never used for tuning).
#
#   benchmarks/testbed/backtranslation.sh                          # seeds 1 2, the testbed's 1,500 updates
#   SEEDS= ARMS= benchmarks/testbed/backtranslation.sh              # reverse model and synthetic data only
#   SEEDS=1 UPDATES=750 OMP_NUM_THREADS=1 benchmarks/testbed/backtranslation.sh   # one seed per core (and SEEDS=2)
# With UPDATES, nobt is the testbed run's interval checkpoint at that update (compare.py --at: the same model as a
# run stopped there, the schedule being inverse_sqrt).
set -euo pipefail
cd "$(dirname "$0")/../.."
D=benchmarks/testbed
LANG_XX=${LANG_XX:-es}
DATA=${DATA:-runs/testbed-data/$LANG_XX}
WORK=${WORK:-runs/testbed-bt}
SEEDS=${SEEDS-1 2}
ARMS=${ARMS-bt bt_tagged bt_bilevel}
NOBT=${NOBT:-runs/testbed}           # the testbed's en→xx arm (benchmarks/testbed/run.sh); trained here if missing
MONO_LIMIT=${MONO_LIMIT:-30000}
CONFIG=${CONFIG:-$D/train.yaml}
BILEVEL=${BILEVEL:-"{alpha: 10.0, lambda_lr: 0.1, log_interval: 20}"}
UPDATES=${UPDATES:-}   # another fixed number of updates for every arm (default: the testbed's 1,500)
mkdir -p "$WORK"

echo "== reverse model $LANG_XX→en"
TB="$WORK/reverse" DATA="$DATA" LANG_XX="$LANG_XX" SEEDS=1 DIRECTIONS=xx-en CONFIG="$CONFIG" CURVE=0 bash $D/run.sh \
  | grep -E "^\*\*" || true
reverse="$WORK/reverse/model"
[ -f "$reverse/model.bin" ] || volctrans export --checkpoint "$WORK/reverse/seed1/checkpoint_last.pt" --data "$DATA/prepared" \
  -o "$reverse" --force >/dev/null 2>>"$WORK/data.log"

if [ ! -f "$WORK/mono/$LANG_XX.clean.txt" ]; then
  echo "== monolingual $LANG_XX text (Debian manpages/fortunes)"
  volctrans data debian-mono --lang "$LANG_XX" --cache "$WORK/debs" --held-out "$DATA/corpus" --out "$WORK/mono-raw" \
    >/dev/null 2>>"$WORK/data.log"
  mkdir -p "$WORK/mono"
  volctrans clean-mono -l "$LANG_XX" -i "$WORK/mono-raw/mono/$LANG_XX.txt" -o "$WORK/mono/$LANG_XX.all.txt" \
    --report "$WORK/mono/clean-report.json" 2>>"$WORK/data.log"
  head -n "$MONO_LIMIT" "$WORK/mono/$LANG_XX.all.txt" > "$WORK/mono/$LANG_XX.clean.txt"
fi
echo "monolingual sentences: $(wc -l < "$WORK/mono/$LANG_XX.clean.txt")"

for variant in bt bt_tagged; do
  [ -f "$WORK/$variant/manifest.json" ] && continue
  echo "== back-translate ($variant)"
  tag=(); [ "$variant" = bt_tagged ] && tag=(--tagged)
  volctrans backtranslate -m "$reverse" -l "$LANG_XX" -i "$WORK/mono/$LANG_XX.clean.txt" -o "$WORK/$variant.partial" \
    --name bt --beam 4 --max-length-ratio 2 "${tag[@]}" >/dev/null 2>>"$WORK/data.log"
  mv "$WORK/$variant.partial" "$WORK/$variant"
  volctrans prepare --corpora "$DATA/corpus" "$WORK/$variant" --vocab-from "$DATA/prepared" --out "$WORK/prepared-$variant" \
    >/dev/null 2>>"$WORK/data.log"
done

[ -z "${SEEDS// /}" ] && exit 0   # reverse model and synthetic data only
if [ ! -f "$NOBT/seed1/.done" ]; then
  echo "== arm nobt (the testbed en→xx protocol)"
  TB="$NOBT" DATA="$DATA" LANG_XX="$LANG_XX" SEEDS="$SEEDS" CONFIG="$CONFIG" CURVE=0 bash $D/run.sh >/dev/null
fi
arms=("$NOBT")
for arm in $ARMS; do
  case $arm in
    bt) prepared="$WORK/prepared-bt" set_args="weighting=temperature;temperature=1.0" ;;
    bt_tagged) prepared="$WORK/prepared-bt_tagged" set_args="weighting=temperature;temperature=1.0" ;;
    bt_bilevel) prepared="$WORK/prepared-bt" set_args="weighting=bilevel;bilevel=$BILEVEL" ;;
    *) echo "unknown arm $arm" >&2; exit 2 ;;
  esac
  set_args="$set_args${UPDATES:+;max_update=$UPDATES}"
  echo "== arm $arm"
  TB="$WORK/$arm" PREPARED="$prepared" DATA="$DATA" LANG_XX="$LANG_XX" SEEDS="$SEEDS" CONFIG="$CONFIG" CURVE=0 \
    SET="$set_args" bash $D/run.sh >/dev/null
  arms+=("$WORK/$arm")
  for log in "$WORK/$arm"/seed*/weights.jsonl; do
    [ -f "$log" ] && volctrans plot-weights "$log" -o "${log%.jsonl}.png" >/dev/null 2>&1 || true
  done
done
python3 $D/compare.py ${UPDATES:+--at "$UPDATES"} "${arms[@]}" | tee "$WORK/results.md"
