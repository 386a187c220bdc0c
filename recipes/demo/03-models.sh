#!/usr/bin/env bash
# Phase 3, two jobs at once, one core each (a small model trains faster as two 1-thread processes than as one
# 2-thread process):
#   core 1: the reverse model xx→en → export → back-translate the monolingual slices → prepare clean + bt
#   core 2: the en→xx model on the clean sample (the final model's first part)
set -euo pipefail
cd "$(dirname "$0")/../.."
source recipes/demo/env.sh
S=recipes/demo/steps
(
  export OMP_NUM_THREADS=1
  bash $S/train.sh reverse && bash $S/export.sh reverse && bash $S/backtranslate.sh && bash $S/prepare.sh final
) &
reverse_chain=$!
OMP_NUM_THREADS=1 bash $S/train.sh clean
OMP_NUM_THREADS=1 bash $S/export.sh clean
wait $reverse_chain
