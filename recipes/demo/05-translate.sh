#!/usr/bin/env bash
# Phase 5: translate the test sets: xx→en with the reverse model, en→xx with the clean model and the final model.
set -euo pipefail
cd "$(dirname "$0")/../.."
source recipes/demo/env.sh
bash recipes/demo/steps/translate.sh reverse xx-en
bash recipes/demo/steps/translate.sh clean en-xx
MODEL="$RUN/model" bash recipes/demo/steps/translate.sh final en-xx
