#!/usr/bin/env bash
# Demo recipe (what `make demo` runs): the whole pipeline on the embedded sample, on CPU (time measured on 2 cores:
# docs/benchmarks.md, "Demo").
#   1 clean → 3 prepare (base) → 4 train (base) → 5 export (base) → 2 back-translate with the base model →
#   3 prepare (clean + bt, base vocabulary) → 4 fine-tune the base model with bilevel weights → 5 export →
#   6 translate → 7 eval → 8 bench
# Every stage is a script of its own in this folder and skips work whose output exists, so rerunning resumes.
set -euo pipefail
cd "$(dirname "$0")/../.."
source recipes/demo/env.sh
mkdir -p "$RUN/log"
D=recipes/demo
start=$(date +%s)

# Each stage's wall time goes to $RUN/log/stage_times.tsv (and is printed), so slow stages are visible.
timed() {
  local t0=$(date +%s)
  "$@"
  printf '%s\t%s\n' "$*" "$(( $(date +%s) - t0 ))" | sed "s|$D/||" | tee -a "$RUN/log/stage_times.tsv" \
    | awk -F'\t' '{printf "(%s: %d s)\n", $1, $2}'
}

timed bash $D/01-clean.sh
timed bash $D/03-prepare.sh base
timed bash $D/04-train.sh base
timed bash $D/05-export.sh base
timed bash $D/02-backtranslate.sh
timed bash $D/03-prepare.sh final
timed bash $D/04-train.sh final
MODEL="$RUN/model" timed bash $D/05-export.sh final
timed bash $D/06-translate.sh base
MODEL="$RUN/model" timed bash $D/06-translate.sh final
timed bash $D/07-eval.sh
timed bash $D/08-bench.sh

stage "learned source weights (bilevel)"
volctrans plot-weights "$RUN/checkpoints-final/weights.jsonl" -o "$RUN/weights.png" 2>/dev/null >/dev/null
python3 - "$RUN/checkpoints-final/weights.jsonl" <<'PY'
import json, sys
records = [json.loads(line) for line in open(sys.argv[1])]
shown = records[:: max(1, len(records) // 5)]
for record in shown + ([records[-1]] if records[-1] is not shown[-1] else []):
    print(f"  update {record['update']:>4}: " + ", ".join(f"{k}={v:.3f}" for k, v in record["weights"].items()))
PY

cat <<DONE

Done in $(( ($(date +%s) - start) / 60 )) min.
  model (CTranslate2, self-contained): $RUN/model
  scores (JSON):                      $RUN/scores.json
  learned source weights (PNG):       $RUN/weights.png   (log: $RUN/checkpoints-final/weights.jsonl)
  benchmark table:                    $RUN/bench.json
  translations of the test sets:      $RUN/test/*.hyp
  checkpoints and configs:            $RUN/checkpoints-{base,final}
  logs:                               $RUN/log
Try:  echo "Click the Save button." | volctrans translate -m $RUN/model -s en -t de
DONE
