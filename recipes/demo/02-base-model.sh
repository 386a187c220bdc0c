#!/usr/bin/env bash
# Phase 2: the base model, on the clean corpus alone: prepare → train (temperature sampling) → export. It
# back-translates the monolingual text in phase 3 and is the baseline row of the scores.
set -euo pipefail
cd "$(dirname "$0")/../.."
bash recipes/demo/steps/prepare.sh base
bash recipes/demo/steps/train.sh base
bash recipes/demo/steps/export.sh base
