#!/usr/bin/env bash
# CPU side of the GPU run (issue 18): build what the GPU command carries, and check that it fits a call.
#   1 corpus   LibreOffice help en↔{de,es,fr,ru,zh,ja}: CORPUS=<corpus dir> if given, else built with
#              `volctrans data libreoffice-help` (from EXTRACTED=<unpacked usr/share/libreoffice/help> if given,
#              else apt-get download)
#   2 sources  `libreoffice`: the corpus (the trusted source; its dev set drives the bilevel weights), or with
#              CLEAN_TRAIN=N a sample of N training pairs per language; `noisy`: NOISY_LIMIT training pairs per
#              language of the same corpus, NOISE_RATE of them corrupted (`volctrans data noisy`: misaligned or
#              wrong-language targets). Its intact pairs repeat clean ones unless CLEAN_TRAIN is set (then the noisy
#              source is drawn from pairs whose English side is in no clean training pair, which leaves few: the
#              English of one help paragraph is shared by all six languages)
#   3 prepare  joint SentencePiece (VOCAB pieces) + fairseq binarization of both sources
#   4 data     cache/data/prepared.tar.xz: the prepared folder, the test TSVs and source.json (commit, settings)
#   5 packs    cp312 wheels downloaded into cache/wheels (pip download), trimmed into cache/{fairseq,ct2}/*.tar.xz
#              by packs.py (WHEELS=0 skips this step)
#   6 sizes    what the GPU call carries (working tree + cache/{data,fairseq,ct2}); exit 1 above 64 MiB
# Each step skips work whose output exists (delete the output to redo it).
#
# Usage: bash benchmarks/gpu/prepare.sh
#   env: CACHE (benchmarks/gpu/cache), CORPUS, EXTRACTED, LANGS (de,es,fr,ru,zh,ja), CLEAN_TRAIN (all),
#        NOISY_LIMIT (8000), NOISE_RATE (0.5), VOCAB (16000), WORKERS (2), WHEELS (1), VOLCTRANS (volctrans),
#        PYTHON (python3)
set -euo pipefail
cd "$(dirname "$0")/../.."
CACHE=${CACHE:-benchmarks/gpu/cache}
LANGS=${LANGS:-de,es,fr,ru,zh,ja}
CLEAN_TRAIN=${CLEAN_TRAIN:-}
NOISY_LIMIT=${NOISY_LIMIT:-8000}
NOISE_RATE=${NOISE_RATE:-0.5}
VOCAB=${VOCAB:-16000}
WORKERS=${WORKERS:-2}
WHEELS=${WHEELS:-1}
PYTHON=${PYTHON:-python3}
VOLCTRANS=${VOLCTRANS:-volctrans}
CT2_VERSION=${CT2_VERSION:-$("$PYTHON" -c 'import ctranslate2; print(ctranslate2.__version__)' 2>/dev/null || echo 4.8.5)}
BUILD="$CACHE/build"
mkdir -p "$BUILD" "$CACHE/data"
step() { printf '\n=== %s\n' "$*"; }

step "1 corpus"
if [ -n "${CORPUS:-}" ]; then
  [ -f "$CORPUS/manifest.json" ] || { echo "prepare.sh: CORPUS=$CORPUS has no manifest.json" >&2; exit 1; }
elif [ -f "$BUILD/corpus/manifest.json" ]; then
  CORPUS="$BUILD/corpus"
else
  CORPUS="$BUILD/corpus"
  if [ -n "${EXTRACTED:-}" ]; then
    $VOLCTRANS data libreoffice-help --langs "$LANGS" --out "$CORPUS" --extracted "$EXTRACTED" --compress
  else
    $VOLCTRANS data libreoffice-help --langs "$LANGS" --out "$CORPUS" --cache "$BUILD/debs" --compress
  fi
fi
echo "corpus: $CORPUS"

step "2 sources: libreoffice (clean: ${CLEAN_TRAIN:-all} train pairs per language) + noisy ($NOISY_LIMIT, rate $NOISE_RATE)"
if [ -z "$CLEAN_TRAIN" ]; then
  CLEAN="$CORPUS"
  [ -f "$BUILD/noisy/manifest.json" ] || $VOLCTRANS data noisy --from "$CORPUS" --out "$BUILD/noisy" --name noisy \
    --rate "$NOISE_RATE" --limit "$NOISY_LIMIT" --seed 3
else
  CLEAN="$BUILD/libreoffice"
  [ -f "$CLEAN/manifest.json" ] || $VOLCTRANS data sample --from "$CORPUS" --out "$CLEAN" \
    --langs "$LANGS" --train "$CLEAN_TRAIN" --dev 1000000 --test 1000000 --mono 0
  [ -f "$BUILD/noisy/manifest.json" ] || $VOLCTRANS data noisy --from "$CORPUS" --out "$BUILD/noisy" --name noisy \
    --rate "$NOISE_RATE" --exclude "$CLEAN" --limit "$NOISY_LIMIT" --seed 3
fi

step "3 prepare (SentencePiece $VOCAB, binarize)"
[ -f "$BUILD/prepared/prepared.json" ] || $VOLCTRANS prepare --corpora "$CLEAN" "$BUILD/noisy" \
  --out "$BUILD/prepared" --vocab-size "$VOCAB" --workers "$WORKERS"

step "4 data pack"
if [ ! -f "$CACHE/data/prepared.tar.xz" ]; then
  "$PYTHON" - "$BUILD" "$CORPUS" "$CLEAN" "$LANGS" "${CLEAN_TRAIN:-all}" "$NOISY_LIMIT" "$NOISE_RATE" "$VOCAB" <<'PY'
import json, subprocess, sys, tarfile, time
from pathlib import Path
build, corpus, clean_dir, langs, clean, noisy_limit, rate, vocab = sys.argv[1:]
build, clean_dir = Path(build), Path(clean_dir)
def git(*args):
    try:
        return subprocess.run(["git", *args], capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None
source = {"built": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()), "commit": git("rev-parse", "HEAD"),
          "dirty": bool(git("status", "--porcelain", "--untracked-files=no")), "corpus": corpus,
          "langs": sorted(pair.split("-", 1)[1] for pair in json.loads((clean_dir / "manifest.json").read_text())["pairs"]),
          "clean_train_per_language": clean, "noisy_per_language": int(noisy_limit), "noise_rate": float(rate),
          "vocab_size": int(vocab),
          "sources": {"clean": json.loads((clean_dir / "manifest.json").read_text())["pairs"],
                      "noisy": json.loads((build / "noisy" / "manifest.json").read_text())["details"]["noise"]}}
(build / "source.json").write_text(json.dumps(source, indent=1) + "\n")
out = build.parent / "data" / "prepared.tar.xz"
partial = out.with_suffix(".partial")
with tarfile.open(partial, "w:xz", preset=6) as tar:
    tar.add(build / "prepared", arcname="prepared")
    tar.add(build / "source.json", arcname="source.json")
    for pair in sorted(p.name for p in clean_dir.iterdir() if p.is_dir() and p.name.startswith("en-")):
        for test in sorted((clean_dir / pair).glob("test.tsv*")):
            tar.add(test, arcname=f"test/{pair}/{test.name}")
partial.rename(out)
print(f"{out}: {out.stat().st_size / 2**20:.1f} MiB")
PY
fi

step "5 packs (cp312 wheels → trimmed .tar.xz)"
if [ "$WHEELS" = 1 ]; then
  if [ ! -f "$CACHE/fairseq/fairseq-cp312.tar.xz" ] || [ ! -f "$CACHE/ct2/ct2-cp312.tar.xz" ]; then
    mkdir -p "$CACHE/wheels"
    platforms=(--platform manylinux_2_28_x86_64 --platform manylinux_2_27_x86_64 --platform manylinux_2_17_x86_64
               --platform manylinux2014_x86_64 --platform manylinux1_x86_64)
    "$PYTHON" -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
      "${platforms[@]}" -d "$CACHE/wheels" ve-fairseq==0.12.3 "ctranslate2==$CT2_VERSION" hydra-core==1.3.8 \
      omegaconf==2.3.1 bitarray==3.12.3
    # antlr4-python3-runtime 4.9.3 (what omegaconf 2.3 requires) exists only as an sdist: build its pure-Python wheel.
    ls "$CACHE"/wheels/antlr4_python3_runtime-4.9.3-*.whl >/dev/null 2>&1 || {
      "$PYTHON" -m pip download -q --no-deps --no-binary=:all: -d "$BUILD/sdist" antlr4-python3-runtime==4.9.3
      "$PYTHON" -m pip wheel -q --no-deps --no-build-isolation -w "$CACHE/wheels" "$BUILD"/sdist/antlr4-python3-runtime-4.9.3.tar.gz
    }
    nice -n 10 "$PYTHON" benchmarks/gpu/packs.py build --wheels "$CACHE/wheels" --out "$CACHE"
  fi
  "$PYTHON" benchmarks/gpu/packs.py list "$CACHE"/fairseq/*.tar.xz "$CACHE"/ct2/*.tar.xz
else
  echo "skipped (WHEELS=$WHEELS)"
fi

step "6 what one GPU call carries"
"$PYTHON" - "$CACHE" <<'PY'
import subprocess, sys
from pathlib import Path
cache = Path(sys.argv[1])
LIMIT = 64 * 2**20
def listed(*args):
    out = subprocess.run(["git", "ls-files", "-z", *args], capture_output=True, check=True).stdout
    return [Path(p) for p in out.decode().split("\0") if p]
tree = sum(p.stat().st_size for p in listed() + listed("--others", "--exclude-standard") if p.is_file())
carried = {name: sum(f.stat().st_size for f in (cache / name).rglob("*") if f.is_file())
           for name in ("data", "fairseq", "ct2") if (cache / name).is_dir()}
total = tree + sum(carried.values())
print(f"working tree (tracked + untracked, not ignored): {tree / 2**20:6.1f} MiB")
for name, size in carried.items():
    print(f"carry {cache / name}: {size / 2**20:6.1f} MiB")
print(f"one call, all of it: {total / 2**20:6.1f} MiB of 64 MiB")
if total > LIMIT:
    print("prepare.sh: over the 64 MiB a call carries: lower CLEAN_TRAIN/VOCAB or split into two calls "
          "(docs/benchmarks.md)", file=sys.stderr)
    sys.exit(1)
PY
