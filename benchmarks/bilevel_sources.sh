#!/usr/bin/env bash
# Multi-source weighting experiment (issue: bilevel weights). Three sources on real data:
#   libreoffice  in-domain clean pairs (LibreOffice help)          — the trusted source; its dev set is L1
#   gettext      UI strings from .po/.mo catalogs (other shape)
#   noisy        other LibreOffice pairs, 50% misaligned / wrong-language
# Trains uniform, temperature (T=5) and bilevel with the same number of updates, then scores every model on
# the held-out LibreOffice test sets (never used for tuning) and prints one table.
#
# Usage: benchmarks/bilevel_sources.sh [WORK_DIR]   (needs `volctrans` on PATH; ~1 h on 2 CPU cores)
# Environment: LANGS (de,ru), TRAIN (3000 pairs/lang/source), UPDATES (400), SCHEMES (uniform temperature
# bilevel), VOCAB (6000), LOCALE_DIRS (/usr/share/locale)
set -euo pipefail
# Several trainings may share 2 cores; one intra-op thread each avoids oversubscription.
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-1}
WORK=${1:-runs/bench-bilevel}
LANGS=${LANGS:-de,ru}
TRAIN=${TRAIN:-3000}
UPDATES=${UPDATES:-400}
SCHEMES=${SCHEMES:-uniform temperature bilevel}
VOCAB=${VOCAB:-6000}
LOCALE_DIRS=${LOCALE_DIRS:-/usr/share/locale}
mkdir -p "$WORK"
log() { printf '\n=== %s\n' "$*"; }

log "data"
[ -f "$WORK/lo-full/manifest.json" ] || volctrans data libreoffice-help --langs "$LANGS" --out "$WORK/lo-full" \
  --cache "$WORK/debs" 2>>"$WORK/data.log" >/dev/null
[ -f "$WORK/libreoffice/manifest.json" ] || volctrans data sample --from "$WORK/lo-full" --out "$WORK/libreoffice" \
  --langs "$LANGS" --train "$TRAIN" --dev 200 --test 300 --mono 0 --no-compress >/dev/null
[ -f "$WORK/noisy/manifest.json" ] || volctrans data noisy --from "$WORK/lo-full" --out "$WORK/noisy" --name noisy \
  --rate 0.5 --exclude "$WORK/libreoffice" --limit "$TRAIN" --seed 3 >/dev/null
if [ ! -f "$WORK/gettext/manifest.json" ]; then
  volctrans data gettext $LOCALE_DIRS --langs "$LANGS" --out "$WORK/gettext-full" 2>>"$WORK/data.log" >/dev/null
  volctrans data sample --from "$WORK/gettext-full" --out "$WORK/gettext" --langs "$LANGS" --train "$TRAIN" --dev 0 --test 0 \
    --mono 0 --no-compress >/dev/null
fi
[ -f "$WORK/prepared/prepared.json" ] || volctrans prepare --corpora "$WORK/libreoffice" "$WORK/gettext" "$WORK/noisy" \
  --out "$WORK/prepared" --langs "$LANGS" --vocab-size "$VOCAB" --workers 2 2>>"$WORK/data.log" >/dev/null

cat > "$WORK/base.yaml" <<YAML
data: $WORK/prepared
save_dir: $WORK/unset
encoder_layers: 2
decoder_layers: 2
embed_dim: 128
ffn_dim: 512
attention_heads: 4
lr: 0.002
warmup_updates: 100
max_update: $UPDATES
max_tokens: 3072
validate_interval_updates: 100
save_interval_updates: 100
keep_interval_updates: 1
temperature: 5.0
bilevel:
  alpha: 10.0
  lambda_lr: 0.1
  log_interval: 20
YAML

specs=()
for scheme in $SCHEMES; do
  run="$WORK/$scheme"
  log "train $scheme"
  volctrans train --config "$WORK/base.yaml" --set "save_dir=$run" --set "weighting=$scheme" > "$WORK/$scheme.train.log" 2>&1
  [ -f "$run/model/volctrans_model.json" ] || volctrans export --checkpoint "$run/checkpoint_best.pt" \
    --data "$WORK/prepared" -o "$run/model" --force >/dev/null 2>>"$WORK/$scheme.train.log"
  for xx in ${LANGS//,/ }; do
    for direction in "en $xx 1 2" "$xx en 2 1"; do
      read -r src tgt src_col ref_col <<<"$direction"
      test_file="$WORK/libreoffice/en-$xx/test.tsv"
      cut -f"$src_col" "$test_file" > "$WORK/test.$src-$tgt.src"
      cut -f"$ref_col" "$test_file" > "$WORK/test.$src-$tgt.ref"
      volctrans translate -m "$run/model" -s "$src" -t "$tgt" -i "$WORK/test.$src-$tgt.src" \
        -o "$run/test.$src-$tgt.hyp" --beam 4 --quiet
    done
  done
done

log "results (held-out LibreOffice test sets, beam 4)"
python3 - "$WORK" "$LANGS" "$SCHEMES" <<'PY'
import json, subprocess, sys
work, langs, schemes = sys.argv[1], sys.argv[2].split(","), sys.argv[3].split()
directions = [d for xx in langs for d in (f"en-{xx}", f"{xx}-en")]
rows = {}
for scheme in schemes:
    specs = []
    for d in directions:
        specs += ["--spec", d, f"{work}/{scheme}/test.{d}.hyp", f"{work}/test.{d}.ref"]
    out = f"{work}/{scheme}/scores.json"
    subprocess.run(["volctrans", "eval", *specs, "--json", out], check=True, capture_output=True)
    rows[scheme] = json.load(open(out))
    rows[scheme]["summary"] = json.load(open(f"{work}/{scheme}/train_summary.json"))
print("| weighting | " + " | ".join(f"{d} chrF++/BLEU" for d in directions) + " | avg chrF++ | avg BLEU | s/update | peak RSS MB |")
print("|---" * (len(directions) + 5) + "|")
for scheme, data in rows.items():
    cells = [f"{p['chrf']:.1f} / {p['bleu']:.1f}" for p in data["pairs"]]
    s = data["summary"]
    print(f"| {scheme} | " + " | ".join(cells) + f" | {data['average']['volctrans']['chrf']:.2f} | {data['average']['volctrans']['bleu']:.2f} | "
          f"{s['wall_seconds'] / s['max_update']:.2f} | {s['peak_rss_mb']:.0f} |")
weights = [json.loads(line) for line in open(f"{work}/bilevel/weights.jsonl")]
print("\nlearned weights (bilevel):")
for record in weights[:: max(1, len(weights) // 6)] + [weights[-1]]:
    print(f"  update {record['update']:>5}: " + ", ".join(f"{k}={v:.3f}" for k, v in record["weights"].items()))
PY
volctrans plot-weights "$WORK/bilevel/weights.jsonl" -o "$WORK/bilevel/weights.png" 2>/dev/null
echo "plot: $WORK/bilevel/weights.png"
