#!/usr/bin/env bash
# Phase 3, two jobs at once, one core each (a small model trains faster as two 1-thread processes than as one
# 2-thread process):
#   core 1: the reverse model xx→en → export → back-translate the monolingual slices → prepare clean + bt
#   core 2: the en→xx model on the clean sample (the final model's first part), its first $CLEAN_BESIDE_REVERSE updates
# then, both cores free, the en→xx model's remaining updates on 2 threads (fairseq resumes from its last checkpoint:
# the same schedule and data order; a second core left idle while one thread finishes it cost ~100 s of the demo).
set -euo pipefail
cd "$(dirname "$0")/../.."
source recipes/demo/env.sh
S=recipes/demo/steps
# Updates of the en→xx model that take about as long as the reverse chain (~440 s at ~1.07 updates/s beside it;
# measured: 420 updates left it waiting 40 s). Alone on 2 threads it then runs at ~1.9 updates/s.
CLEAN_BESIDE_REVERSE=${CLEAN_BESIDE_REVERSE:-460}
(
  export OMP_NUM_THREADS=1
  bash $S/train.sh reverse && bash $S/export.sh reverse && bash $S/backtranslate.sh && bash $S/prepare.sh final
) &
reverse_chain=$!
OMP_NUM_THREADS=1 bash $S/train.sh clean --set "max_update=$CLEAN_BESIDE_REVERSE"
wait $reverse_chain
OMP_NUM_THREADS=2 bash $S/train.sh clean
OMP_NUM_THREADS=2 bash $S/export.sh clean
