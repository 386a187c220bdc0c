#!/usr/bin/env bash
# Phase 2: the shared vocabulary (SentencePiece over English + the targets) and the binarized clean sample.
set -euo pipefail
cd "$(dirname "$0")/../.."
bash recipes/demo/steps/prepare.sh base
