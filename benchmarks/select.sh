#!/usr/bin/env bash
# G-DIG data selection vs random vs the cleaning rules, at equal budget, on real LibreOffice-help en→de data.
#
#   base model  : en→de transformer (d128, 2+2 layers) trained on BASE_N pairs for BASE_UPDATES updates
#   pool        : POOL_N *other* train pairs, NOISE_RATE of them corrupted by `volctrans data noisy`
#                 (misaligned or a French target; the noise type is in the provenance column)
#   seed set    : the dev split (never the test split)
#   arms        : gdig | random | clean (rules; then random down to the budget if it keeps more) | full (whole
#                 pool) | random-N (random, seed N) | gdig-X (G-DIG with the options in $WORK/gdig-X.opts) |
#                 clean+gdig (G-DIG on the rows the cleaning rules keep; after clean)
#                 each selects BUDGET of the pool; the base checkpoint is fine-tuned FT_UPDATES updates on it
#   score       : BLEU / chrF++ on the held-out test split (beam 4, CTranslate2)
#
# Usage: CORPUS=runs/bench-bilevel-de/lo-full WORK=runs/select-bench bash benchmarks/select.sh
set -euo pipefail

CORPUS=${CORPUS:-runs/bench-bilevel-de/lo-full}
WORK=${WORK:-runs/select-bench}
BASE_N=${BASE_N:-5000}
POOL_N=${POOL_N:-10000}
NOISE_RATE=${NOISE_RATE:-0.3}
BUDGET=${BUDGET:-0.3}
BASE_UPDATES=${BASE_UPDATES:-800}
FT_UPDATES=${FT_UPDATES:-300}
SELECT_CONFIG=${SELECT_CONFIG:-}
ARMS=${ARMS:-gdig random clean}
SEED=${SEED:-1}
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-1} MKL_NUM_THREADS=${OMP_NUM_THREADS:-1}
VT=${VT:-volctrans}
PY=${PY:-python}

mkdir -p "$WORK"
log() { echo "[$(date -u +%H:%M:%S)] $*" >&2; }

# 1. data: base corpus (BASE_N train + dev + test) and the noisy pool
if [ ! -f "$WORK/pool/manifest.json" ]; then
  log "data"
  $PY benchmarks/select_data.py "$CORPUS" "$WORK" --pair en-de --base-n "$BASE_N" --pool-n "$POOL_N" --seed "$SEED"
  $VT data noisy --from "$WORK/poolsrc" --out "$WORK/pool" --name pool --rate "$NOISE_RATE" --seed "$SEED" > /dev/null
fi
POOL=$WORK/pool/en-de/train.tsv
SEEDSET=$WORK/base/en-de/dev.tsv
TEST=$WORK/base/en-de/test.tsv

# 2. base model
model_yaml() {  # data save_dir max_update [init_from]
  cat <<YAML
data: $1
save_dir: $2
directions: en-xx
encoder_layers: 2
decoder_layers: 2
embed_dim: 128
ffn_dim: 512
attention_heads: 4
lr: 0.002
warmup_updates: 100
max_update: $3
max_tokens: 3072
validate_interval_updates: 100000
save_interval_updates: 100000
keep_interval_updates: 1
seed: $SEED
device: cpu
YAML
  if [ -n "${4:-}" ]; then echo "init_from: $4"; fi
}
if [ ! -f "$WORK/base-ckpt/checkpoint_last.pt" ]; then
  log "prepare + train base ($BASE_UPDATES updates)"
  $VT prepare --corpora "$WORK/base" --out "$WORK/base-prepared" --vocab-size 4000 > /dev/null
  model_yaml "$WORK/base-prepared" "$WORK/base-ckpt" "$BASE_UPDATES" > "$WORK/base.yaml"
  $VT train --config "$WORK/base.yaml" > "$WORK/base.train.log" 2>&1
fi
BASE_CKPT=$WORK/base-ckpt/checkpoint_last.pt
if [ "${STOP_AFTER_BASE:-0}" = 1 ]; then exit 0; fi

# 3. selection arms (each writes $WORK/arms/<arm>/selected.tsv and timing)
mkdir -p "$WORK/arms"
source "$(dirname "$0")/select_common.sh"
BUDGET_N=$(budget_rows "$BUDGET" "$POOL")
for arm in $ARMS; do
  dir=$WORK/arms/$arm
  [ -f "$dir/selected.tsv" ] && continue
  mkdir -p "$dir"
  log "select: $arm ($BUDGET_N of $(wc -l < "$POOL") pool rows)"
  start=$(date +%s.%N)
  case $arm in
    gdig*)
      # gdig, or gdig-<variant> with its options in $WORK/<arm>.opts (e.g. --fisher identity)
      opts=""; [ -f "$WORK/$arm.opts" ] && opts=$(cat "$WORK/$arm.opts")
      $VT select --checkpoint "$BASE_CKPT" --data "$WORK/base-prepared" --pool "$POOL" --seed "$SEEDSET" -s en -t de \
        --budget "$BUDGET_N" -o "$dir/selected.tsv" --scores "$dir/scores.tsv" --random-seed "$SEED" --threads 1 \
        ${SELECT_CONFIG:+--config "$SELECT_CONFIG"} $opts 2> "$dir/select.log"
      tail -1 "$dir/select.log" > "$dir/summary.json" ;;
    clean+gdig)  # G-DIG on what the cleaning rules keep (needs the clean arm first)
      $VT select --checkpoint "$BASE_CKPT" --data "$WORK/base-prepared" --pool "$WORK/arms/clean/kept.tsv" \
        --seed "$SEEDSET" -s en -t de --budget "$BUDGET_N" -o "$dir/selected.tsv" --scores "$dir/scores.tsv" \
        --random-seed "$SEED" --threads 1 ${SELECT_CONFIG:+--config "$SELECT_CONFIG"} 2> "$dir/select.log"
      tail -1 "$dir/select.log" > "$dir/summary.json" ;;
    random)
      random_subset "$POOL" "$dir/selected.tsv" "$BUDGET_N" "$SEED" ;;
    random-*)  # random-N: another random subset, seed N (run-to-run variation of the random arm)
      random_subset "$POOL" "$dir/selected.tsv" "$BUDGET_N" "${arm#random-}" ;;
    clean)
      $VT clean -s en -t de -i "$POOL" -o "$dir/kept.tsv" --report "$dir/clean.json" 2> "$dir/clean.log"
      random_subset "$dir/kept.tsv" "$dir/selected.tsv" "$BUDGET_N" "$SEED" ;;
    full)
      cp "$POOL" "$dir/selected.tsv" ;;
    *) echo "unknown arm $arm" >&2; exit 2 ;;
  esac
  echo "$start $(date +%s.%N)" > "$dir/select.time"
done

# 4. fine-tune the base checkpoint FT_UPDATES updates on each arm's rows; 5. translate and score the test split
FT_LR=${FT_LR:-0.001}
MAX_LEN=${MAX_LEN:-160}  # output pieces: the longest test references are ~150 pieces; weak models loop to the cap
cut -f1 "$TEST" > "$WORK/test.en"
score() {  # checkpoint prepared name
  local model=$WORK/models/$3
  [ -f "$WORK/scores/$3.json" ] && return 0
  $VT export --checkpoint "$1" --data "$2" -o "$model" --force > /dev/null 2>&1
  $VT translate -m "$model" -s en -t de -i "$WORK/test.en" -o "$WORK/scores/$3.de" --beam 4 --max-decoding-length "$MAX_LEN" --threads 1 --quiet
  $VT eval --hyp "$WORK/scores/$3.de" --tsv "$TEST" --pair en-de --system "$3" --json "$WORK/scores/$3.json" > /dev/null 2>&1
}
mkdir -p "$WORK/scores" "$WORK/models"
score "$BASE_CKPT" "$WORK/base-prepared" base
for arm in $ARMS; do
  dir=$WORK/arms/$arm
  if [ ! -f "$dir/ckpt/checkpoint_last.pt" ]; then
    log "fine-tune: $arm ($FT_UPDATES updates)"
    mkdir -p "$dir/corpus/en-de"
    cp "$dir/selected.tsv" "$dir/corpus/en-de/train.tsv"
    cp "$WORK/base/en-de/dev.tsv" "$WORK/base/en-de/test.tsv" "$dir/corpus/en-de/"
    $PY - "$dir/corpus" <<'PY'
import sys
from volctrans.data.corpus import Manifest
d = sys.argv[1]
n = {s: sum(1 for _ in open(f"{d}/en-de/{s}.tsv", encoding="utf-8")) for s in ("train", "dev", "test")}
Manifest(name="libreoffice", licence="MPL-2.0", source_lang="en", pairs={"en-de": n},
         files={"en-de": {s: f"en-de/{s}.tsv" for s in n}}).save(d)
PY
    $VT prepare --corpora "$dir/corpus" --out "$dir/prepared" --vocab-from "$WORK/base-prepared" > /dev/null 2> "$dir/prepare.log"
    model_yaml "$dir/prepared" "$dir/ckpt" "$FT_UPDATES" "$BASE_CKPT" > "$dir/ft.yaml"
    sed -i "s/^lr: .*/lr: $FT_LR/; s/^warmup_updates: .*/warmup_updates: 50/" "$dir/ft.yaml"
    $VT train --config "$dir/ft.yaml" > "$dir/train.log" 2>&1
  fi
  log "score: $arm"
  score "$dir/ckpt/checkpoint_last.pt" "$dir/prepared" "$arm"
done

# 6. one table
$PY - "$WORK" "$BUDGET_N" $ARMS <<'PY'
import collections, json, sys
work, budget, arms = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
pool = [line.rstrip("\n").split("\t") for line in open(f"{work}/pool/en-de/train.tsv", encoding="utf-8")]
pool_noise = collections.Counter(row[2].split(":")[0] for row in pool)
def scores(name):
    data = json.load(open(f"{work}/scores/{name}.json"))["pairs"][0]
    return data["bleu"], data["chrf"]
print(f"pool: {len(pool)} pairs ({', '.join(f'{k} {v}' for k, v in sorted(pool_noise.items()))}); budget {budget}")
print(f"{'arm':<16}{'rows':>6}{'misaligned':>12}{'wrong_lang':>12}{'select s':>10}{'pairs/s':>9}{'BLEU':>7}{'chrF++':>8}")
bleu, chrf = scores("base")
print(f"{'base (no FT)':<16}{'-':>6}{'-':>12}{'-':>12}{'-':>10}{'-':>9}{bleu:>7.2f}{chrf:>8.2f}")
for arm in arms:
    rows = [line.rstrip("\n").split("\t") for line in open(f"{work}/arms/{arm}/selected.tsv", encoding="utf-8")]
    noise = collections.Counter(row[2].split(":")[0] for row in rows)
    start, end = map(float, open(f"{work}/arms/{arm}/select.time").read().split())
    seconds = end - start  # clean+gdig: G-DIG time only (its input is the clean arm's kept rows)
    try:  # the rows a selector read (clean+gdig reads only what the rules kept)
        read = json.load(open(f"{work}/arms/{arm}/summary.json"))["rows"]
    except FileNotFoundError:
        read = len(pool)
    bleu, chrf = scores(arm)
    print(f"{arm:<16}{len(rows):>6}{noise['misaligned']:>12}{noise['wrong_language']:>12}{seconds:>10.1f}"
          f"{read / seconds:>9.0f}{bleu:>7.2f}{chrf:>8.2f}")
PY
