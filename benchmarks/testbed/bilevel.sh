#!/usr/bin/env bash
# Bilevel weights on the testbed (docs/benchmarks.md, "Bilevel weights on the testbed"). Three sources for one pair:
#   libreoffice  the testbed's clean LibreOffice-help pairs (main, trusted: its dev split is the bilevel L1 set)
#   gettext      real UI strings from the gettext catalogs of a FIXED list of Debian packages (other domain/shape),
#                with every pair holding a LibreOffice dev/test sentence dropped
#   noisy        a copy of the LibreOffice training pairs with 50% misaligned / wrong-language pairs
# Arms: uniform, temperature (T=5), bilevel — same model, schedule and number of updates (the testbed's), seeds
# $SEEDS; all on the testbed's vocabulary. Scores: the held-out LibreOffice test split (never used for tuning).
#
#   benchmarks/testbed/bilevel.sh            # SEEDS="1 2", SCHEMES="uniform temperature bilevel"
#   SEEDS=1 UPDATES=750 WORK=... bilevel.sh   # one seed per core: run two of these at once with OMP_NUM_THREADS=1
set -euo pipefail
cd "$(dirname "$0")/../.."
D=benchmarks/testbed
LANG_XX=${LANG_XX:-es}
DATA=${DATA:-runs/testbed-data/$LANG_XX}
WORK=${WORK:-runs/testbed-bilevel}
SEEDS=${SEEDS-1 2}
SCHEMES=${SCHEMES-uniform temperature bilevel}
CONFIG=${CONFIG:-$D/train.yaml}
BILEVEL=${BILEVEL:-"{alpha: 10.0, lambda_lr: 0.1, log_interval: 20}"}   # the bilevel: block of the bilevel arm
UPDATES=${UPDATES:-}   # another fixed number of updates for every arm (default: the testbed's 1,500)
# Packages whose gettext catalogs make the second source (fixed, so every machine builds the same corpus).
GETTEXT_PACKAGES=${GETTEXT_PACKAGES:-"git coreutils gnupg-l10n bash libc-l10n binutils-common dpkg tar wget login gettext"}
mkdir -p "$WORK"

# The testbed's corpus and vocabulary (built by run.sh when missing: no training with SEEDS="").
[ -f "$DATA/prepared/prepared.json" ] || SEEDS="" LANG_XX=$LANG_XX DATA=$DATA bash $D/run.sh >/dev/null

if [ ! -f "$WORK/gettext/manifest.json" ]; then
  echo "== gettext source from: $GETTEXT_PACKAGES"
  mkdir -p "$WORK/debs" "$WORK/extracted"
  for package in $GETTEXT_PACKAGES; do
    ls "$WORK/debs/${package}"_*.deb >/dev/null 2>&1 || (cd "$WORK/debs" && apt-get download -q "$package" >/dev/null)
  done
  for deb in "$WORK"/debs/*.deb; do dpkg -x "$deb" "$WORK/extracted"; done
  volctrans data gettext "$WORK/extracted/usr/share/locale" --langs "$LANG_XX" --held-out "$DATA/corpus" \
    --out "$WORK/gettext" >/dev/null 2>>"$WORK/data.log"
fi
if [ ! -f "$WORK/noisy/manifest.json" ]; then
  echo "== noisy source"
  volctrans data noisy --from "$DATA/corpus" --out "$WORK/noisy" --name noisy --rate 0.5 --seed 3 >/dev/null
fi
if [ ! -f "$WORK/prepared/prepared.json" ]; then
  echo "== prepare (3 sources, testbed vocabulary)"
  volctrans prepare --corpora "$DATA/corpus" "$WORK/gettext" "$WORK/noisy" --vocab-from "$DATA/prepared" \
    --out "$WORK/prepared" >/dev/null 2>>"$WORK/data.log"
fi
python3 -c "import json,sys; m=json.load(open(sys.argv[1])); print('training pairs per source:', {s: sum(c['train'] for c in v['pairs'].values()) for s, v in m['sources'].items()})" "$WORK/prepared/prepared.json"

arms=()
for scheme in $SCHEMES; do
  set_args="weighting=$scheme${UPDATES:+;max_update=$UPDATES}"
  [ "$scheme" = bilevel ] && set_args="$set_args;bilevel=$BILEVEL"
  echo "== arm $scheme"
  TB="$WORK/$scheme" PREPARED="$WORK/prepared" DATA="$DATA" LANG_XX="$LANG_XX" SEEDS="$SEEDS" CONFIG="$CONFIG" \
    CURVE=0 SET="$set_args" bash $D/run.sh >/dev/null
  arms+=("$WORK/$scheme")
  for log in "$WORK/$scheme"/seed*/weights.jsonl; do
    [ -f "$log" ] && volctrans plot-weights "$log" -o "${log%.jsonl}.png" >/dev/null 2>&1 || true
  done
done
python3 $D/compare.py "${arms[@]}" | tee "$WORK/results.md"
