#!/usr/bin/env bash
# Phase 5: translate the test sets with the base and the final model.
set -euo pipefail
cd "$(dirname "$0")/../.."
source recipes/demo/env.sh
MODEL="$RUN/model-base" bash recipes/demo/steps/translate.sh base
MODEL="$RUN/model" bash recipes/demo/steps/translate.sh final
