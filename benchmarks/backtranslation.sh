#!/usr/bin/env bash
# Back-translation experiment (issue 6). A standard simulation on real data (LibreOffice help, en-de, MPL-2.0):
#   parallel   PARALLEL en-de training pairs (the only real bitext the models see)
#   mono       the German side of MONO *other* training pairs (English discarded), through `volctrans clean-mono`
#   reverse    a de→en model trained on the parallel part only, exported to CTranslate2; it back-translates mono
#              (BT_METHOD: beam by default, see docs/benchmarks.md for why) into an untagged `bt` source and a
#              tagged `bt_tagged` source (<BT> on the synthetic English side)
# Then en→de models with the same architecture, vocabulary and number of updates:
#   base       parallel only
#   bt         parallel + untagged BT (uniform: half of the batches' pairs from each source)
#   bt_tagged  parallel + tagged BT (uniform)
#   bilevel    parallel + untagged BT, weights learned (bilevel, mode loss), `bt` is one more source
#   bt_fixed   parallel + untagged BT sampled 0.8 / 0.2 (not in the default SYSTEMS)
# Every model is scored on the held-out test split (split by help page; never used for tuning; the dev split
# selects checkpoints) with `volctrans eval` (chrF++, BLEU); the reverse model on the de→en test split.
# Every step is skipped when its output exists, so rerunning resumes.
#
# Usage: benchmarks/backtranslation.sh [WORK_DIR]   (needs `volctrans` on PATH; ~75 min on 2 shared CPU cores)
# Environment: LO_FULL (an existing `volctrans data libreoffice-help` corpus with en-de; built when unset),
# PARALLEL (4000), MONO (16000), VOCAB (4000), REV_UPDATES (800), UPDATES (700), LR (0.005),
# BT_METHOD (beam | sampling | noised), SYSTEMS (base bt bt_tagged bilevel), MAX_LEN (128 output pieces)
set -euo pipefail
# Trainings and translators share 2 cores with other work: one intra-op thread each.
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-1}
WORK=${1:-runs/bench-bt}
LO_FULL=${LO_FULL:-}
PARALLEL=${PARALLEL:-4000}
MONO=${MONO:-16000}
VOCAB=${VOCAB:-4000}
REV_UPDATES=${REV_UPDATES:-800}
UPDATES=${UPDATES:-700}
LR=${LR:-0.005}
BT_METHOD=${BT_METHOD:-beam}
SYSTEMS=${SYSTEMS:-base bt bt_tagged bilevel}
MAX_LEN=${MAX_LEN:-128}
mkdir -p "$WORK"
log() { printf '\n=== %s  (%s)\n' "$*" "$(date -u +%H:%M:%S)"; }

log "data"
if [ ! -f "$WORK/lo-full/manifest.json" ]; then
  if [ -n "$LO_FULL" ]; then
    mkdir -p "$WORK/lo-full/en-de"
    cp "$LO_FULL"/en-de/*.tsv "$WORK/lo-full/en-de/"
    python3 - "$LO_FULL/manifest.json" "$WORK/lo-full/manifest.json" <<'PY'
import json, sys
manifest = json.load(open(sys.argv[1]))
for key in ("pairs", "files"):
    manifest[key] = {"en-de": manifest[key]["en-de"]}
json.dump(manifest, open(sys.argv[2], "w"), indent=1, ensure_ascii=False)
PY
  else
    volctrans data libreoffice-help --langs de --out "$WORK/lo-full" --cache "$WORK/debs" 2>>"$WORK/data.log" >/dev/null
  fi
fi
# PARALLEL random train pairs; mono = German sides of other train pairs (never a target of the sample, never
# from dev/test pages); the whole dev and test splits.
read -r DEV TEST < <(python3 -c 'import json,sys; p=json.load(open(sys.argv[1]))["pairs"]["en-de"]; print(p["dev"], p["test"])' \
  "$WORK/lo-full/manifest.json")
[ -f "$WORK/parallel/manifest.json" ] || volctrans data sample --from "$WORK/lo-full" --out "$WORK/parallel" --langs de \
  --train "$PARALLEL" --dev "$DEV" --test "$TEST" --mono "$MONO" --no-compress >/dev/null
[ -f "$WORK/mono.de.txt" ] || volctrans clean-mono -l de -i "$WORK/parallel/mono/de.txt" -o "$WORK/mono.de.txt" \
  --report "$WORK/clean-mono.json" 2>>"$WORK/data.log"
cut -f1 "$WORK/parallel/en-de/test.tsv" > "$WORK/test.en"
cut -f2 "$WORK/parallel/en-de/test.tsv" > "$WORK/test.de"

# Model and schedule shared by every training run; only data, direction, sources and weighting differ.
base_yaml() {  # DATA SAVE_DIR MAX_UPDATE
  cat <<YAML
data: $1
save_dir: $2
encoder_layers: 2
decoder_layers: 2
embed_dim: 128
ffn_dim: 512
attention_heads: 4
lr: $LR
warmup_updates: 100
max_update: $3
max_tokens: 3072
validate_interval_updates: 200
save_interval_updates: 200
keep_interval_updates: 1
log_interval: 100
device: cpu
bilevel:
  alpha: 10.0
  lambda_lr: 0.1
  interval: 2  # u and λ every 2 updates: ~half the lower-level cost
  log_interval: 20
YAML
}
train_export() {  # NAME DATA MAX_UPDATE [--set k=v ...]
  local name=$1 data=$2 updates=$3 run="$WORK/$1"
  shift 3
  base_yaml "$data" "$run" "$updates" > "$WORK/$name.yaml"
  if [ ! -f "$run/model/volctrans_model.json" ]; then
    log "train $name ($updates updates)"
    volctrans train --config "$WORK/$name.yaml" "$@" >> "$WORK/$name.train.log" 2>&1
    volctrans export --checkpoint "$run/checkpoint_best.pt" --data "$data" -o "$run/model" --force >/dev/null \
      2>>"$WORK/$name.train.log"
  fi
}
translate() {  # MODEL SRC TGT IN OUT
  [ -s "$5" ] || volctrans translate -m "$1" -s "$2" -t "$3" -i "$4" -o "$5" --beam 4 --threads 1 \
    --max-decoding-length "$MAX_LEN" --quiet
}

log "reverse model (de→en, parallel only)"
[ -f "$WORK/prep-rev/prepared.json" ] || volctrans prepare --corpora "$WORK/parallel" --out "$WORK/prep-rev" \
  --langs de --vocab-size "$VOCAB" 2>>"$WORK/data.log" >/dev/null
train_export reverse "$WORK/prep-rev" "$REV_UPDATES" --set directions=xx-en
translate "$WORK/reverse/model" de en "$WORK/test.de" "$WORK/reverse/test.de-en.hyp"

log "back-translate $(wc -l < "$WORK/mono.de.txt") German lines ($BT_METHOD)"
for tagged in no yes; do
  name=bt; flag=()
  [ "$tagged" = yes ] && { name=bt_tagged; flag=(--tagged); }
  if [ ! -f "$WORK/$name/manifest.json" ]; then
    if [ "$tagged" = yes ] && [ -f "$WORK/bt/manifest.json" ]; then
      # Same synthetic sentences as the untagged source (decoding once), plus the tag.
      mkdir -p "$WORK/$name.partial/en-de"
      awk -F'\t' 'BEGIN{OFS="\t"} {$1 = "<BT> " $1; print}' "$WORK/bt/en-de/train.tsv" > "$WORK/$name.partial/en-de/train.tsv"
      python3 - "$WORK/bt/manifest.json" "$WORK/$name.partial/manifest.json" <<'PY'
import json, sys
manifest = json.load(open(sys.argv[1]))
manifest["name"] = "bt_tagged"
for details in manifest["details"]["backtranslation"].values():
    details.update(tagged=True, tag="<BT>")
json.dump(manifest, open(sys.argv[2], "w"), indent=1, ensure_ascii=False)
PY
    else
      /usr/bin/time -f "%e s" -o "$WORK/$name.time" volctrans backtranslate -m "$WORK/reverse/model" -l de \
        -i "$WORK/mono.de.txt" -o "$WORK/$name.partial" --name "$name" --method "$BT_METHOD" "${flag[@]}" \
        --threads 1 --max-decoding-length "$MAX_LEN" --shard-size 2000 2>>"$WORK/bt.log" >/dev/null
    fi
    mv "$WORK/$name.partial" "$WORK/$name"
  fi
done

log "prepare (parallel + bt + bt_tagged: one vocabulary for every en→de model)"
[ -f "$WORK/prep-fwd/prepared.json" ] || volctrans prepare --corpora "$WORK/parallel" "$WORK/bt" "$WORK/bt_tagged" \
  --out "$WORK/prep-fwd" --langs de --vocab-size "$VOCAB" 2>>"$WORK/data.log" >/dev/null

for system in $SYSTEMS; do
  case $system in
    base) sets=(--set "sources=[libreoffice]" --set weighting=uniform) ;;
    bt) sets=(--set "sources=[libreoffice, bt]" --set weighting=uniform) ;;
    bt_tagged) sets=(--set "sources=[libreoffice, bt_tagged]" --set weighting=uniform) ;;
    bilevel) sets=(--set "sources=[libreoffice, bt]" --set weighting=bilevel) ;;
    bt_fixed)  # a lower synthetic share: 80% parallel, 20% BT
      printf 'libreoffice: 0.8\nbt: 0.2\n' > "$WORK/bt_fixed.weights.yaml"
      sets=(--set "sources=[libreoffice, bt]" --set weighting=fixed --set "weights_file=$WORK/bt_fixed.weights.yaml") ;;
    *) echo "unknown system: $system" >&2; exit 2 ;;
  esac
  train_export "$system" "$WORK/prep-fwd" "$UPDATES" --set directions=en-xx "${sets[@]}"
  translate "$WORK/$system/model" en de "$WORK/test.en" "$WORK/$system/test.en-de.hyp"
done

log "results (held-out LibreOffice en-de test split, $(wc -l < "$WORK/test.en") sentences, beam 4)"
python3 - "$WORK" "$SYSTEMS" <<'PY'
import json, subprocess, sys
work, systems = sys.argv[1], sys.argv[2].split()

def score(run, pair, hyp, ref):
    out = f"{work}/{run}/scores.json"
    subprocess.run(["volctrans", "eval", "--spec", pair, hyp, ref, "--json", out], check=True, capture_output=True)
    return json.load(open(out))["pairs"][0]

prepared = json.load(open(f"{work}/prep-fwd/prepared.json"))
bt = json.load(open(f"{work}/bt/manifest.json"))
reverse = score("reverse", "de-en", f"{work}/reverse/test.de-en.hyp", f"{work}/test.en")
print(f"reverse model de→en (parallel only): chrF++ {reverse['chrf']:.1f} / BLEU {reverse['bleu']:.1f}")
print(f"bt pairs: {bt['pairs']['en-de']['train']} ({bt['details']['backtranslation']['en-de']['method']}); "
      f"training pairs per source: " + ", ".join(f"{k}={v['pairs']['en-de']['train']}" for k, v in prepared["sources"].items()))
print("\n| system | sources | en-de chrF++ | en-de BLEU | s/update |")
print("|---|---|---|---|---|")
for system in systems:
    result = score(system, "en-de", f"{work}/{system}/test.en-de.hyp", f"{work}/test.de")
    config = json.load(open(f"{work}/{system}/train_summary.json"))
    sources = {"base": "parallel", "bt": "parallel + bt", "bt_tagged": "parallel + tagged bt",
               "bilevel": "parallel + bt, bilevel", "bt_fixed": "parallel + bt, 0.8/0.2"}[system]
    print(f"| {system} | {sources} | {result['chrf']:.2f} | {result['bleu']:.2f} | "
          f"{config['wall_seconds'] / config['max_update']:.2f} |")
if "bilevel" in systems:
    weights = [json.loads(line) for line in open(f"{work}/bilevel/weights.jsonl")]
    print("\nlearned weights (bilevel):")
    for record in weights[:: max(1, len(weights) // 6)] + [weights[-1]]:
        print(f"  update {record['update']:>5}: " + ", ".join(f"{k}={v:.3f}" for k, v in record["weights"].items()))
PY
