#!/usr/bin/env bash
# Does G-DIG selection beat random selection at equal budget? The whole protocol in one command, on an existing
# base model (e.g. the testbed en→es model) and its corpus:
#
#   1. pool      POOL_N train pairs of CORPUS/PAIR, NOISE_RATE of them corrupted by `volctrans data noisy`
#                (misaligned, or a wrong-language target from WRONG_FROM); the provenance column says which
#   2. select    gdig: `volctrans select` with SELECT_OPTS (the variant the diagnostic found best); random: a random
#                subset per seed; both BUDGET of the pool. Seed set = CORPUS's dev split (never the test split).
#                Optional arms: clean (the cleaning rules, then random down to the budget), full (the whole pool),
#                gdig-NAME (options from $WORK/gdig-NAME.opts)
#   3. fine-tune BASE_CKPT on each arm's rows for FT_UPDATES updates with each seed in SEEDS (`volctrans prepare
#                --vocab-from BASE_PREPARED` + `volctrans train` with init_from, the base's own train_config.yaml
#                with data/save_dir/max_update/lr/seed overridden); random uses a different subset per seed
#   4. score     export, translate CORPUS's test split (CTranslate2, beam 4), BLEU and chrF++
#   5. table     per arm: rows, noisy rows kept, chrF++ per seed, mean ± sd, range; and whether gdig beats random by
#                more than the seed spread (Δ mean > the larger of the two arms' max − min over seeds)
#
# Usage (from the repository root; reruns skip what exists):
#   CORPUS=runs/lo-es PAIR=en-es BASE_CKPT=runs/tb/A/checkpoint_last.pt BASE_PREPARED=runs/tb/prepared \
#   WORK=runs/select-arms bash benchmarks/select_arms.sh
set -euo pipefail

CORPUS=${CORPUS:?set CORPUS (corpus dir with PAIR train/dev/test)}
PAIR=${PAIR:-en-es}
BASE_CKPT=${BASE_CKPT:?set BASE_CKPT (the base model checkpoint)}
BASE_PREPARED=${BASE_PREPARED:?set BASE_PREPARED (its prepare folder)}
WORK=${WORK:-runs/select-arms}
POOL_N=${POOL_N:-10000}
NOISE_RATE=${NOISE_RATE:-0.4}
BUDGET=${BUDGET:-0.3}
WRONG_FROM=${WRONG_FROM:-data/sample:en-fr}
SELECT_OPTS=${SELECT_OPTS:---fisher-from pool --centre --normalise --finetune-updates 0}  # the best variant measured (docs/selection.md)
ARMS=${ARMS:-gdig random}
SEEDS=${SEEDS:-1 2 3}
FT_UPDATES=${FT_UPDATES:-150}
FT_WARMUP=${FT_WARMUP:-20}
FT_LR=${FT_LR:-}  # default: the lr the base's own schedule had reached at its last update
MAX_LEN=${MAX_LEN:-200}  # output pieces at most when translating the test split
DATA_SEED=${DATA_SEED:-1}
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-1} MKL_NUM_THREADS=${OMP_NUM_THREADS:-1}
VT=${VT:-volctrans}
PY=${PY:-python}
SRC=${PAIR%-*}
TGT=${PAIR#*-}

mkdir -p "$WORK"
log() { echo "[$(date -u +%H:%M:%S)] $*" >&2; }
split_file() {  # the CORPUS file of a split (train/dev/test)
  $PY -c "import sys; from volctrans.data.corpus import Manifest; print(Manifest.load(sys.argv[1]).path(sys.argv[1], sys.argv[2], sys.argv[3]))" "$CORPUS" "$PAIR" "$1"
}
DEV=$(split_file dev)
TEST=$(split_file test)
BASE_TRAIN_CONFIG=$(dirname "$BASE_CKPT")/train_config.yaml
[ -f "$BASE_TRAIN_CONFIG" ] || { echo "$BASE_TRAIN_CONFIG: not found (the base's volctrans train config)" >&2; exit 2; }
if [ -z "$FT_LR" ]; then
  FT_LR=$($PY -c "import sys, torch; from volctrans.select.finetune import checkpoint_lr
s = torch.load(sys.argv[1], map_location='cpu', weights_only=False)
print(f\"{checkpoint_lr(s['cfg'], s['optimizer_history'][-1]['num_updates']):.6g}\")" "$BASE_CKPT")
fi

# 1. the noisy pool
if [ ! -f "$WORK/pool/manifest.json" ]; then
  log "pool: $POOL_N pairs of $CORPUS/$PAIR, noise rate $NOISE_RATE"
  $PY benchmarks/select_data.py "$CORPUS" "$WORK" --pair "$PAIR" --pool-n "$POOL_N" --wrong-from "$WRONG_FROM" --seed "$DATA_SEED"
  $VT data noisy --from "$WORK/poolsrc" --out "$WORK/pool" --name pool --rate "$NOISE_RATE" --seed "$DATA_SEED" > /dev/null
fi
POOL=$WORK/pool/$PAIR/train.tsv
source "$(dirname "$0")/select_common.sh"
BUDGET_N=$(budget_rows "$BUDGET" "$POOL")

# 2. selections: $WORK/arms/<arm>/selected.tsv, or .../seed-<s>/selected.tsv for random
select_arm() {  # arm
  local arm=$1 dir=$WORK/arms/$1
  mkdir -p "$dir"
  case $arm in
    gdig|gdig-*)
      [ -f "$dir/selected.tsv" ] && return 0
      local opts=$SELECT_OPTS
      if [ "$arm" != gdig ]; then opts=$(cat "$WORK/$arm.opts"); fi
      log "select: $arm ($opts): $BUDGET_N of $(wc -l < "$POOL") pool rows"
      # shellcheck disable=SC2086
      $VT select --checkpoint "$BASE_CKPT" --data "$BASE_PREPARED" --pool "$POOL" --seed "$DEV" -s "$SRC" -t "$TGT" \
        --budget "$BUDGET_N" -o "$dir/selected.tsv" --scores "$dir/scores.tsv" --random-seed "$DATA_SEED" \
        --threads 1 --no-progress $opts 2> "$dir/select.log"
      tail -1 "$dir/select.log" > "$dir/summary.json" ;;
    random)
      for seed in $SEEDS; do
        mkdir -p "$dir/seed-$seed"
        [ -f "$dir/seed-$seed/selected.tsv" ] || random_subset "$POOL" "$dir/seed-$seed/selected.tsv" "$BUDGET_N" "$seed"
      done ;;
    clean)
      [ -f "$dir/selected.tsv" ] && return 0
      $VT clean -s "$SRC" -t "$TGT" -i "$POOL" -o "$dir/kept.tsv" --report "$dir/clean.json" 2> "$dir/clean.log"
      random_subset "$dir/kept.tsv" "$dir/selected.tsv" "$BUDGET_N" "$DATA_SEED" ;;
    full)
      [ -f "$dir/selected.tsv" ] || cp "$POOL" "$dir/selected.tsv" ;;
    *) echo "unknown arm $arm" >&2; exit 2 ;;
  esac
}
for arm in $ARMS; do select_arm "$arm"; done

# 3.-4. fine-tune and score
$VT export --checkpoint "$BASE_CKPT" --data "$BASE_PREPARED" -o "$WORK/base-model" --force > /dev/null 2>&1
mkdir -p "$WORK/scores"
zcat -f "$TEST" | cut -f1 > "$WORK/test.$SRC"
score() {  # model_dir name
  [ -f "$WORK/scores/$2.json" ] && return 0
  $VT translate -m "$1" -s "$SRC" -t "$TGT" -i "$WORK/test.$SRC" -o "$WORK/scores/$2.$TGT" --beam 4 \
    --max-decoding-length "$MAX_LEN" --threads 1 --quiet
  $VT eval --hyp "$WORK/scores/$2.$TGT" --tsv "$TEST" --pair "$PAIR" --system "$2" --json "$WORK/scores/$2.json" > /dev/null 2>&1
}
score "$WORK/base-model" base
finetune_arm() {  # rows_dir seed name
  local dir=$1 seed=$2 name=$3 run=$1/ft-seed-$2
  if [ ! -f "$dir/prepared/prepared.json" ]; then
    mkdir -p "$dir/corpus/$PAIR"
    cp "$dir/selected.tsv" "$dir/corpus/$PAIR/train.tsv"
    zcat -f "$DEV" > "$dir/corpus/$PAIR/dev.tsv"
    zcat -f "$TEST" > "$dir/corpus/$PAIR/test.tsv"
    $PY - "$dir/corpus" "$PAIR" <<'PY'
import sys
from volctrans.data.corpus import Manifest
d, pair = sys.argv[1], sys.argv[2]
n = {s: sum(1 for _ in open(f"{d}/{pair}/{s}.tsv", encoding="utf-8")) for s in ("train", "dev", "test")}
Manifest(name="libreoffice", licence="MPL-2.0", source_lang="en", pairs={pair: n},
         files={pair: {s: f"{pair}/{s}.tsv" for s in n}}).save(d)
PY
    $VT prepare --corpora "$dir/corpus" --out "$dir/prepared" --vocab-from "$BASE_PREPARED" > /dev/null 2> "$dir/prepare.log"
  fi
  if [ ! -f "$run/ckpt/checkpoint_last.pt" ]; then
    log "fine-tune: $name ($FT_UPDATES updates, lr $FT_LR, seed $seed)"
    mkdir -p "$run"
    $VT train --config "$BASE_TRAIN_CONFIG" --set "data=$dir/prepared" --set "save_dir=$run/ckpt" \
      --set "init_from=$BASE_CKPT" --set "max_update=$FT_UPDATES" --set "warmup_updates=$FT_WARMUP" \
      --set "lr=$FT_LR" --set "seed=$seed" --set "validate_interval_updates=100000" \
      --set "save_interval_updates=100000" --set "keep_interval_updates=1" --set "weighting=uniform" \
      > "$run/train.log" 2>&1
  fi
  if [ ! -f "$WORK/scores/$name.json" ]; then
    log "score: $name"
    $VT export --checkpoint "$run/ckpt/checkpoint_last.pt" --data "$dir/prepared" -o "$run/model" --force > /dev/null 2>&1
    score "$run/model" "$name"
    rm -rf "$run/model"
  fi
}
for arm in $ARMS; do
  for seed in $SEEDS; do
    if [ "$arm" = random ]; then
      finetune_arm "$WORK/arms/random/seed-$seed" "$seed" "random.s$seed"
    else
      finetune_arm "$WORK/arms/$arm" "$seed" "$arm.s$seed"
    fi
  done
done

# 5. the table
$PY - "$WORK" "$POOL" "$BUDGET_N" "$SEEDS" $ARMS <<'PY'
import collections, json, statistics, sys
work, pool_path, budget, seeds, arms = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4].split(), sys.argv[5:]
def noise(path):
    rows = [line.rstrip("\n").split("\t") for line in open(path, encoding="utf-8")]
    return len(rows), collections.Counter(row[2].split(":")[0] for row in rows if len(row) > 2)
def scores(name):
    data = json.load(open(f"{work}/scores/{name}.json"))["pairs"][0]
    return data["bleu"], data["chrf"]
n, kinds = noise(pool_path)
print(f"pool: {n} pairs ({', '.join(f'{k} {v}' for k, v in sorted(kinds.items()))}); budget {budget}; seeds {' '.join(seeds)}")
bleu, chrf = scores("base")
print(f"\n| arm | rows | noisy kept | chrF++ per seed | chrF++ mean ± sd | range | BLEU mean |\n|---|---|---|---|---|---|---|")
print(f"| base, no fine-tuning | – | – | {chrf:.2f} | – | – | {bleu:.2f} |")
summary = {}
for arm in arms:
    values, bleus, kept = [], [], []
    for seed in seeds:
        rows_dir = f"{work}/arms/{arm}/seed-{seed}" if arm == "random" else f"{work}/arms/{arm}"
        rows, kind = noise(f"{rows_dir}/selected.tsv")
        kept.append((rows, rows - kind.get("clean", 0)))
        b, c = scores(f"{arm}.s{seed}")
        values.append(c); bleus.append(b)
    sd = statistics.stdev(values) if len(values) > 1 else 0.0
    summary[arm] = (statistics.mean(values), max(values) - min(values))
    rows_text = "/".join(sorted({str(r) for r, _ in kept}))
    noisy_text = "/".join(str(x) for _, x in kept) if arm == "random" else str(kept[0][1])
    print(f"| {arm} | {rows_text} | {noisy_text} | {' / '.join(f'{v:.2f}' for v in values)} | "
          f"{statistics.mean(values):.2f} ± {sd:.2f} | {max(values) - min(values):.2f} | {statistics.mean(bleus):.2f} |")
if "gdig" in summary and "random" in summary:
    delta = summary["gdig"][0] - summary["random"][0]
    spread = max(summary["gdig"][1], summary["random"][1])
    verdict = "yes" if delta > spread else "no"
    print(f"\ngdig − random: Δ mean chrF++ {delta:+.2f}; seed spread (larger max − min) {spread:.2f}; "
          f"beats random by more than the spread: {verdict}")
PY
