#!/usr/bin/env bash
# Null run of the bilevel signal (docs/training.md, "Why λ favoured …"): dev term off (α 10⁶) and λ frozen, so w and
# u have one objective and ℓ_g(w) − ℓ_g(u) in weights.jsonl should stay ≈ 0 for every source; a drift is a bias in u
# that λ would read as signal. Runs on the three-source data of bilevel.sh (build it first).
#
#   INTERVAL=2 UPDATES=300 OMP_NUM_THREADS=1 bash benchmarks/testbed/null_run.sh    # → runs/why/null-interval2
set -euo pipefail
cd "$(dirname "$0")/../.."
INTERVAL=${INTERVAL:-1}
UPDATES=${UPDATES:-300}
PREPARED=${PREPARED:-runs/testbed-bilevel/prepared}
OUT=${OUT:-runs/why/null-interval$INTERVAL}
mkdir -p "$OUT"
volctrans train --config benchmarks/testbed/train.yaml --set "data=$PREPARED" --set "save_dir=$OUT" --set seed=1 \
  --set weighting=bilevel --set "max_update=$UPDATES" --set validate_interval_updates=100000 \
  --set save_interval_updates=100000 \
  --set "bilevel={lambda_lr: 0.0, log_interval: 10, alpha: 1000000.0, alpha_max: 1000000.0, interval: $INTERVAL}" \
  > "$OUT/train.log" 2>&1
python3 benchmarks/testbed/signal_gap.py "$OUT/weights.jsonl" "$UPDATES"
