# Shared settings of the demo recipe (sourced by every stage). Override any of them from the environment.
RUN=${RUN:-runs/demo}
SAMPLE=${SAMPLE:-data/sample}
CONF=${CONF:-recipes/demo}
BEAM=${BEAM:-4}
# Test sentences are short; a tiny, undertrained model tends to repeat itself up to the cap, so keep it modest,
# and stop each output at 2 × its source pieces + 10 (fairseq's --max-len-a/b rule): decoding a weak model that
# repeats itself otherwise costs more than training it.
MAX_LEN=${MAX_LEN:-128}
MAX_LEN_RATIO=${MAX_LEN_RATIO:-2}
LANGS=${LANGS:-$(ls -d "$SAMPLE"/en-*/ | xargs -n1 basename | sed 's/^en-//' | paste -sd, -)}
# Two cores: one intra-op thread per process keeps concurrent stages from oversubscribing them.
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-2}

# `stage NAME` starts a stage: prints its header and, when the script ends without error, appends its wall time to
# $RUN/log/stage_times.tsv (and prints it), so slow stages are visible.
stage() {
  STAGE_NAME="$*"
  STAGE_START=$(date +%s)
  printf '\n=== stage %s\n' "$*"
  trap '[ $? -eq 0 ] && _stage_time' EXIT
}
_stage_time() {
  mkdir -p "$RUN/log"
  printf '%s\t%s\n' "$STAGE_NAME" "$(( $(date +%s) - STAGE_START ))" | tee -a "$RUN/log/stage_times.tsv" \
    | awk -F'\t' '{printf "(%s: %d s)\n", $1, $2}'
}
skip() { echo "skip: $* exists (delete it to redo this stage)"; }
