#!/usr/bin/env bash
# Demo recipe (what `make demo` runs): the whole pipeline on the embedded sample, on CPU (time measured on 2 cores:
# docs/benchmarks.md, "Demo"). The numbered scripts of this folder are its phases, run in their order:
#   01 clean → 02 prepare (shared vocabulary) →
#   03 two jobs, one core each: reverse model xx→en → export → back-translate the monolingual slices → prepare
#      clean + bt  ∥  en→xx model on the clean sample →
#   04 final model (the clean en→xx model fine-tuned on clean + bt with bilevel weights → export) →
#   05 translate the test sets → 06 eval (with Apertium en↔es) → 07 bench
# Languages: en → es, fr, ru (the sample's pairs). steps/ holds what the phases do once per model. Every stage skips
# work whose output exists, so rerunning resumes; each stage's wall time goes to $RUN/log/stage_times.tsv (the
# two jobs of phase 3 overlap).
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
volctrans show "$RUN/checkpoints-final/weights.jsonl" | sed 's/^/  /'

printf '\n=== %s\n' "summary: test chrF++ / BLEU (300 sentences per direction, beam $BEAM)"
volctrans show "$RUN/scores.json" | sed 's/^/  /'
echo "  (final: the clean model fine-tuned on clean + back-translation with bilevel weights; clean: the en→xx model"
echo "   before back-translation; reverse: the xx→en model that back-translates; apertium: rule-based, for scale)"
example="Click the Save button to store the document."
printf '\n=== %s\n' "the final model on: $example"
for xx in ${LANGS//,/ }; do
  printf '  en→%s: %s\n' "$xx" "$(echo "$example" | volctrans translate -m "$RUN/model" -s en -t "$xx" --beam "$BEAM" --quiet 2>/dev/null)"
done

cat <<DONE

Done in $(( ($(date +%s) - start) / 60 )) min.
  model (CTranslate2, self-contained): $RUN/model
  scores (JSON):                      $RUN/scores.json
  learned source weights (PNG):       $RUN/weights.png   (log: $RUN/checkpoints-final/weights.jsonl)
  benchmark table:                    $RUN/bench.json
  translations of the test sets:      $RUN/test/*.hyp
  checkpoints and configs:            $RUN/checkpoints-{reverse,clean,final}
  logs:                               $RUN/log
Try:  echo "Click the Save button to store the document." | volctrans translate -m $RUN/model -s en -t es
DONE
