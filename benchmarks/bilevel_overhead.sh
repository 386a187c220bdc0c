#!/usr/bin/env bash
# Step time and peak memory of bilevel training vs plain training, same data, model and batch size.
# Usage: benchmarks/bilevel_overhead.sh PREPARED_DIR [UPDATES]   (e.g. the bilevel_sources.sh prepared folder)
# Prints seconds per update (fairseq's train_wall / updates, start-up excluded) and the peak RSS of fairseq-train.
set -euo pipefail
PREPARED=${1:?prepared folder}
UPDATES=${2:-80}
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
cat > "$WORK/base.yaml" <<YAML
data: $PREPARED
save_dir: $WORK/unset
encoder_layers: 2
decoder_layers: 2
embed_dim: 128
ffn_dim: 512
attention_heads: 4
max_tokens: 3072
warmup_updates: 20
max_update: $UPDATES
validate_interval_updates: 100000
save_interval_updates: 100000
log_interval: 10
YAML
printf '| run | s/update | × plain | peak RSS MB | × plain |\n|---|---|---|---|---|\n'
plain_time=""; plain_rss=""
# name;--set value;--set value… (';' separates: the YAML values contain ':')
for run in "plain;weighting=temperature" "bilevel-interval1;weighting=bilevel" \
           "bilevel-interval2;weighting=bilevel;bilevel={interval: 2}" \
           "bilevel-interval3;weighting=bilevel;bilevel={interval: 3}" \
           "bilevel-lisa1;weighting=bilevel;bilevel={lisa_layers: 1, lisa_interval: 20}"; do
  name=${run%%;*}; IFS=';' read -ra sets <<<"${run#*;}"
  args=(); for s in "${sets[@]}"; do args+=(--set "$s"); done
  volctrans train --config "$WORK/base.yaml" --set "save_dir=$WORK/$name" "${args[@]}" > "$WORK/$name.log" 2>&1 \
    || { echo "$name: training failed:"; tail -5 "$WORK/$name.log"; exit 1; }
  # fairseq's last epoch summary carries the cumulative training wall time (no start-up, no validation).
  wall=$(grep -a "| train |" "$WORK/$name.log" | tail -1 | sed -E 's/.*train_wall ([0-9.]+).*/\1/')
  rss=$(python3 -c "import json; print(json.load(open('$WORK/$name/train_summary.json'))['peak_rss_mb'])")
  per=$(python3 -c "print(f'{$wall / $UPDATES:.3f}')")
  [ -z "$plain_time" ] && { plain_time=$per; plain_rss=$rss; }
  python3 -c "print(f'| $name | $per | {$per / $plain_time:.2f} | {$rss:.0f} | {$rss / $plain_rss:.2f} |')"
done
