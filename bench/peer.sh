#!/usr/bin/env bash
# Diffuse against the same U-Net in PyTorch (bench/peer/), at the same batch sizes and thread count:
# runs `Diffuse.Bench suite`, then bench/peer/peer.py per preset, checks that both networks have the
# same parameters and forward FLOPs, and prints Diffuse / PyTorch per row (OUT/peer.md, OUT/peer.json).
#   bench/peer.sh [OUT] [--threads N] [--presets tiny,small] [--batches 64] [--precisions fp32,bf16]
#                 [--train-steps N] [--sample-steps N] [--repeats N] [--check]
# --check: only build both networks and compare parameter counts and FLOPs (seconds, no timing).
# PYTHON (default /usr/bin/python3, Debian's python3-torch) picks the interpreter. Run it on an idle machine.
set -euo pipefail
cd "$(dirname "$0")/.."
out=bench/results/suite
if [[ $# -gt 0 && $1 != --* ]]; then out=$1; shift; fi
threads=$(nproc); presets=tiny,small; batches=64; precisions=fp32,bf16; train=5; sample=10; repeats=3; check=0
while [[ $# -gt 0 ]]; do
  case $1 in
    --threads) threads=$2; shift 2 ;;
    --presets) presets=$2; shift 2 ;;
    --batches) batches=$2; shift 2 ;;
    --precisions) precisions=$2; shift 2 ;;
    --train-steps) train=$2; shift 2 ;;
    --sample-steps) sample=$2; shift 2 ;;
    --repeats) repeats=$2; shift 2 ;;
    --check) check=1; shift ;;
    *) echo "error: unknown option '$1' (see the top of $0)" >&2; exit 2 ;;
  esac
done
python=${PYTHON:-/usr/bin/python3}
"$python" -c 'import torch' 2>/dev/null || { echo "error: $python cannot import torch; install python3-torch or set PYTHON" >&2; exit 2; }
export OMP_NUM_THREADS=$threads
mkdir -p "$out"
common=(--threads "$threads" --batches "$batches" --precisions "$precisions" --train-steps "$train" --sample-steps "$sample" --repeats "$repeats")
if [[ $check == 1 ]]; then
  dotnet run --project bench/Diffuse.Bench -c Release -- suite "$out" --presets "$presets" --configs-only
else
  dotnet run --project bench/Diffuse.Bench -c Release -- suite "$out" --presets "$presets" "${common[@]}"
fi
names=()
for preset in ${presets//,/ }; do
  names+=("$preset")
  if [[ $check == 1 ]]; then
    "$python" bench/peer/peer.py --config "$out/configs/$preset.json" --name "$preset" --check > "$out/peer-$preset.json"
  else
    "$python" bench/peer/peer.py --config "$out/configs/$preset.json" --name "$preset" "${common[@]}" > "$out/peer-$preset.json"
  fi
done
if [[ $check == 1 ]]; then
  # a --check run compares the networks only: hide an older suite.json so no stale timings are joined
  tmp=$(mktemp -d); cp "$out/presets.json" "$out"/peer-*.json "$tmp/"; "$python" bench/peer/compare.py "$tmp" "${names[@]}"; rm -rf "$tmp"
else
  "$python" bench/peer/compare.py "$out" "${names[@]}"
fi
