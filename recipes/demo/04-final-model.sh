#!/usr/bin/env bash
# Phase 4: the final model: the clean en→xx model fine-tuned on clean + bt sources with bilevel-learned weights,
# exported as THE model ($RUN/model).
set -euo pipefail
cd "$(dirname "$0")/../.."
source recipes/demo/env.sh
bash recipes/demo/steps/train.sh final
MODEL="$RUN/model" bash recipes/demo/steps/export.sh final
