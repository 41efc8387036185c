#!/usr/bin/env bash
# The 2-D acceptance benchmark: for every dataset, time the default 'diffuse train' and score the
# model with 'diffuse eval' (SWD of 10,000 samples, beside the data floor and a Gaussian baseline).
# Usage: bench/toy2d.sh [runs folder (default: a fresh temporary one)] [extra train options...]
# Prints a Markdown table; docs/results.md shows its latest output.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
runs="${1:-$(mktemp -d)}"; shift || true
mkdir -p "$runs"
"$root/diffuse" info >/dev/null   # builds once, outside the timings
bin="$root/src/Diffuse.Cli/bin/Release/net10.0/Diffuse.Cli"

echo "| dataset | train time (s) | samples SWD | data floor SWD | gaussian baseline SWD | samples / baseline |"
echo "|---|---|---|---|---|---|"
for data in moons swiss_roll 8gaussians checkerboard circles; do
  dir="$runs/$data"
  start=$(date +%s.%N)
  "$bin" train --data "$data" --out "$dir" --force "$@" >/dev/null 2>"$runs/$data.train.log"
  end=$(date +%s.%N)
  scores=$("$bin" eval --model "$dir" 2>/dev/null)
  s=$(awk '/^samples  /{print $3}' <<<"$scores")
  f=$(awk '/^data floor/{print $4}' <<<"$scores")
  g=$(awk '/^gaussian baseline/{print $4}' <<<"$scores")
  awk -v d="$data" -v t0="$start" -v t1="$end" -v s="$s" -v f="$f" -v g="$g" \
    'BEGIN { printf "| %s | %.1f | %s | %s | %s | %.1f%% |\n", d, t1 - t0, s, f, g, 100 * s / g }'
done
