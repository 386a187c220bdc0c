#!/usr/bin/env bash
# Phase 4: the final model: prepare the clean + bt sources on the base vocabulary → fine-tune the base model with
# bilevel-learned source weights → export it as THE model ($RUN/model).
set -euo pipefail
cd "$(dirname "$0")/../.."
source recipes/demo/env.sh
bash recipes/demo/steps/prepare.sh final
bash recipes/demo/steps/train.sh final
MODEL="$RUN/model" bash recipes/demo/steps/export.sh final
