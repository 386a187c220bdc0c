#!/usr/bin/env bash
# The full LibreOffice-help corpus (31 languages ↔ English, ~820k unique pairs), transformer-base, one GPU.
#   1 data (apt-get download, align, split by page)   2 clean   3 prepare   4 train   5 average   6 export
#   7 translate the test sets   8 eval
# Each stage skips work whose output exists; training resumes from checkpoint_last.pt.
# CPU-only machines: DEVICE=cpu PRECISION=fp32 (measured: about a year for the full run — README.md here); GPU: defaults.
set -euo pipefail
cd "$(dirname "$0")/../.."
WORK=${WORK:-runs/libreoffice}
# Every libreoffice-help package Debian has, except en-gb (English) and sk (a link to Czech).
LANGS=${LANGS:-ca,cs,da,de,dz,el,es,et,eu,fi,fr,gl,hi,hu,id,it,ja,km,ko,nl,om,pl,pt,pt_br,ru,sl,sv,tr,vi,zh,zh_tw}
DEVICE=${DEVICE:-auto}
PRECISION=${PRECISION:-fp16}
BEAM=${BEAM:-5}
QUANTIZATION=${QUANTIZATION:-int8_float16}
mkdir -p "$WORK/log"
stage() { printf '\n=== stage %s\n' "$*"; }

stage "1: LibreOffice help → en-xx pairs"
[ -f "$WORK/raw/manifest.json" ] || volctrans data libreoffice-help --langs "$LANGS" --out "$WORK/raw" --cache "$WORK/debs"

stage "2: clean"
if [ ! -f "$WORK/corpus/manifest.json" ]; then
  rm -rf "$WORK/corpus.partial"; cp -r "$WORK/raw" "$WORK/corpus.partial"
  for train in "$WORK"/corpus.partial/en-*/train.tsv; do
    pair=$(basename "$(dirname "$train")")
    mv "$train" "$train.raw"
    volctrans clean -s en -t "${pair#en-}" -i "$train.raw" -o "$train" --report "$WORK/log/clean.$pair.json"
    rm "$train.raw"
  done
  volctrans data recount "$WORK/corpus.partial" >/dev/null
  mv "$WORK/corpus.partial" "$WORK/corpus"
fi

stage "3: prepare"
[ -f "$WORK/prepared/prepared.json" ] || volctrans prepare --config recipes/libreoffice/prepare.yaml \
  --corpora "$WORK/corpus" --out "$WORK/prepared"

stage "4: train (device $DEVICE, precision $PRECISION)"
volctrans train --config recipes/libreoffice/train.yaml --set "data=$WORK/prepared" --set "save_dir=$WORK/checkpoints" \
  --set "device=$DEVICE" --set "precision=$PRECISION"

stage "5: average the last 5 checkpoints"
volctrans average --save-dir "$WORK/checkpoints" -n 5 -o "$WORK/checkpoints/averaged.pt"

stage "6: export"
volctrans export --checkpoint "$WORK/checkpoints/averaged.pt" --data "$WORK/prepared" -o "$WORK/model" \
  --quantization "$QUANTIZATION" --force

stage "7-8: translate and score every test set, both directions"
specs=(); mkdir -p "$WORK/test"
for test_file in "$WORK"/corpus/en-*/test.tsv; do
  xx=$(basename "$(dirname "$test_file")"); xx=${xx#en-}
  for direction in "en $xx 1 2" "$xx en 2 1"; do
    read -r src tgt src_col ref_col <<<"$direction"
    base="$WORK/test/$src-$tgt"
    cut -f"$src_col" "$test_file" > "$base.src"; cut -f"$ref_col" "$test_file" > "$base.ref"
    [ -f "$base.hyp" ] || volctrans translate -m "$WORK/model" -s "$src" -t "$tgt" -i "$base.src" -o "$base.hyp" \
      --beam "$BEAM" --device "$([ "$DEVICE" = cpu ] && echo cpu || echo auto)" --quiet
    specs+=(--spec "$src-$tgt" "$base.hyp" "$base.ref")
  done
done
volctrans eval "${specs[@]}" --json "$WORK/scores.json"
