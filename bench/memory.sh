#!/usr/bin/env bash
# Peak resident memory of long runs against short ones: flat memory means disposed tensors and a
# heap that gives freed pages back (see src/Diffuse/NativeMemory.cs). Prints a Markdown table.
# Usage: bench/memory.sh [runs folder (default: a fresh temporary one)]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
runs="${1:-$(mktemp -d)}"
mkdir -p "$runs"
"$root/diffuse" info >/dev/null
bin="$root/src/Diffuse.Cli/bin/Release/net10.0/Diffuse.Cli"
command -v /usr/bin/time >/dev/null || { echo "error: needs GNU time (/usr/bin/time): apt-get install time" >&2; exit 1; }
peak() { /usr/bin/time -f '%M' "$@" 2>&1 >/dev/null | tail -1; }   # peak RSS in KiB

echo "| run | short | peak RSS (MB) | long | peak RSS (MB) |"
echo "|---|---|---|---|---|"
a=$(peak "$bin" train --data moons --out "$runs/m300" --force --steps 300)
b=$(peak "$bin" train --data moons --out "$runs/m3000" --force --steps 3000)
echo "| train moons, batch 512 | 300 steps | $((a / 1024)) | 3,000 steps | $((b / 1024)) |"
a=$(peak "$bin" sample --model "$runs/m3000" --n 10000 --steps 100 --out "$runs/s.csv" --force)
b=$(peak "$bin" sample --model "$runs/m3000" --n 10000 --steps 1000 --out "$runs/s.csv" --force)
echo "| sample 10,000 points, ddpm | 100 steps | $((a / 1024)) | 1,000 steps | $((b / 1024)) |"

# Sampling images (a random tiny U-Net, DDPM, one batch of N images; Diffuse.Bench sample-memory): the peak per image
# from two batch sizes, and no growth over 10,000 steps against 100.
dotnet build "$root/bench/Diffuse.Bench" -c Release >/dev/null
bench="$root/bench/Diffuse.Bench/bin/Release/net10.0/Diffuse.Bench"
hwm() { "$bench" sample-memory "$@" | sed -E 's/.*peak ([0-9.]+) MiB.*/\1/'; }
echo
echo "| sampling, tiny U-Net | peak RSS (MiB), 64 images | peak RSS (MiB), 256 images | MiB per image |"
echo "|---|---|---|---|"
for p in fp32 bf16; do
  a=$(hwm 64 10 $p); b=$(hwm 256 10 $p)
  echo "| $p, 10 steps | $a | $b | $(awk -v a="$a" -v b="$b" 'BEGIN { printf "%.2f", (b - a) / 192 }') |"
done
a=$(hwm 1 100 bf16); b=$(hwm 1 10000 bf16)
echo
echo "| sampling 1 image, tiny U-Net, bf16, ddpm | 100 steps | peak RSS (MiB) | 10,000 steps | peak RSS (MiB) |"
echo "|---|---|---|---|---|"
echo "| | 100 | $a | 10,000 | $b |"
