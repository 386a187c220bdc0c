#!/usr/bin/env bash
# Score one checkpoint of a testbed run on a split of the pair's corpus: export to CTranslate2 (float32),
# translate with beam 4, score with `volctrans eval`. Prints one TSV row: checkpoint, split, direction, BLEU, chrF++.
#   benchmarks/testbed/score.sh CHECKPOINT PREPARED_DIR CORPUS_DIR SPLIT(dev|test) DIRECTION(en-es|es-en) OUT_DIR
set -euo pipefail
checkpoint=$1 prepared=$2 corpus=$3 split=$4 direction=$5 out=$6
src=${direction%-*} tgt=${direction#*-}
pair_dir=$(ls -d "$corpus"/en-*/ | head -n1)
tsv=$(ls "$pair_dir"$split.tsv*)
if [ "$src" = en ]; then src_col=1 ref_col=2; else src_col=2 ref_col=1; fi
name=$(basename "$(dirname "$checkpoint")")-$(basename "$checkpoint" .pt)
mkdir -p "$out"
model="$out/model-$name"
if [ ! -f "$model/model.bin" ] || [ "$checkpoint" -nt "$model/model.bin" ]; then
  volctrans export --checkpoint "$checkpoint" --data "$prepared" -o "$model" --force >/dev/null 2>"$out/export-$name.log"
fi
zcat -f "$tsv" | cut -f"$src_col" > "$out/$split.$direction.src"
zcat -f "$tsv" | cut -f"$ref_col" > "$out/$split.$direction.ref"
hyp="$out/$name.$split.$direction.hyp"
volctrans translate -m "$model" -s "$src" -t "$tgt" -i "$out/$split.$direction.src" -o "$hyp" --beam 4 --quiet \
  --max-length-ratio 2 --threads "${THREADS:-2}"
volctrans eval --hyp "$hyp" --ref "$out/$split.$direction.ref" --pair "$direction" --json "$hyp.json" >/dev/null 2>&1
python3 - "$hyp.json" "$name" "$split" "$direction" <<'PY'
import json, sys
scores = json.load(open(sys.argv[1]))["pairs"][0]
print("\t".join([sys.argv[2], sys.argv[3], sys.argv[4], f"{scores['bleu']:.2f}", f"{scores['chrf']:.2f}"]))
PY
