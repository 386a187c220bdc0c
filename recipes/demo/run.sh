#!/usr/bin/env bash
# Demo recipe (what `make demo` runs): the whole pipeline on the embedded sample, on CPU (time measured on 2 cores:
# docs/benchmarks.md, "Demo"). The numbered scripts of this folder are its phases, run in their order:
#   01 clean → 02 base model (prepare → train → export) → 03 back-translate with the base model →
#   04 final model (prepare clean + bt on the base vocabulary → fine-tune with bilevel weights → export) →
#   05 translate the test sets (base and final) → 06 eval → 07 bench
# steps/ holds what phases 2, 4 and 5 do once per model. Every stage skips work whose output exists, so rerunning
# resumes; each stage's wall time goes to $RUN/log/stage_times.tsv.
set -euo pipefail
cd "$(dirname "$0")/../.."
source recipes/demo/env.sh
mkdir -p "$RUN/log"
start=$(date +%s)

for phase in recipes/demo/0[1-7]-*.sh; do
  bash "$phase"
done

printf '\n=== %s\n' "learned source weights (bilevel)"
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
