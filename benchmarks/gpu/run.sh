#!/usr/bin/env bash
# The GPU part of the pipeline in one command (issue 18): install the carried packs, train, export, translate,
# score, benchmark, report. Steps and their dependencies: benchmarks/gpu/driver.py; the device-tool call and what
# it carries: docs/benchmarks.md, "GPU run (issue 18)"; the data and packs are built on a CPU by prepare.sh.
#
#   bash benchmarks/gpu/run.sh [--set key=value ...] [--until STEP]
#   env: CONFIG (benchmarks/gpu/gpu.yaml; toy.yaml is the CPU run at toy size), OUT (the device tool's $OUT, else
#        benchmarks/gpu/work/out), PYTHON (python3: on the lent machines the one that holds torch)
# Exit status 1 when a step failed; the report is written whatever happens.
set -uo pipefail
cd "$(dirname "$0")/../.."
PYTHON=${PYTHON:-python3}
CONFIG=${CONFIG:-benchmarks/gpu/gpu.yaml}
OUT=${OUT:-benchmarks/gpu/work/out}
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1
exec "$PYTHON" benchmarks/gpu/driver.py --config "$CONFIG" --out "$OUT" "$@"
