#!/usr/bin/env bash
# The image figures of docs/results.md, stage by stage (each prints its own lines; logs go to the runs folder):
#   throughput   training and sampling images/s of the tiny U-Net (Diffuse.Bench throughput)
#   memory       resident memory after 200 and 2,000 training steps (Diffuse.Bench train-memory)
#   mnist        the demo's training (tiny, 2,000 steps of 64), timed, then 'eval' of 10,000 samples
#   fashion      the same on Fashion-MNIST with the longer budget (3,000 steps), then 'eval'
#   cond         a class-conditional MNIST model (tiny, --cond class --cond-drop 0.1; COND_STEPS, default 2,000), 'eval' at
#                guidance 3 (COND_N samples, default 10,000) and the guidance sweep W = 0,1,2,3,5,7 (SWEEP_N per W, default
#                1,000) into bench/results/guidance.md and guidance.png; dpmpp_2m_sde with Karras sigmas, 20 steps
#   cas          the Classification Accuracy Score of the cond stage's model: 100 images a class exported at each guidance
#                scale of CAS_W (default 0.5 1 1.5 2 3), then CAS_PER_CLASS (default 1,000) a class at CAS_BEST_W (default
#                1), scored on the real validation split and on the images the model held out (--model); dpmpp_2m, 20 steps
#   captions     MNIST written as a folder with a captions.tsv of digit and stroke (Diffuse.Bench captions write), a
#                text-conditional model trained on it (tiny, 2,000 steps, bf16), and its digit and stroke scores
# Usage: bench/images.sh RUNS-FOLDER [stage ...]   (default: all stages, in that order; about 1.5 hours on 2 cores)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
runs="${1:?usage: bench/images.sh RUNS-FOLDER [throughput|memory|mnist|fashion|cond|cas|captions ...]}"; shift
stages=("$@"); [ ${#stages[@]} -eq 0 ] && stages=(throughput memory mnist fashion)
mkdir -p "$runs"
"$root/diffuse" info >/dev/null   # builds once, outside the timings
bin="$root/src/Diffuse.Cli/bin/Release/net10.0/Diffuse.Cli"
bench() { dotnet run --project "$root/bench/Diffuse.Bench" -c Release -- "$@"; }

train_and_eval() {  # data steps
  local data=$1 steps=$2 dir="$runs/$1"
  local start=$(date +%s)
  "$bin" train --data "$data" --preset tiny --out "$dir" --steps "$steps" --sample-every 500 --force 2>"$runs/$data.train.log"
  echo "$data: training wall time $(( $(date +%s) - start )) s"
  "$bin" eval --model "$dir" --n 10000 --grid "$runs/$data-grid.png" 2>"$runs/$data.eval.log"
}

for stage in "${stages[@]}"; do
  case "$stage" in
    throughput) bench throughput tiny 64 250 50 fp32; bench throughput tiny 64 250 50 bf16 ;;
    memory) bench train-memory 2000 16 ;;
    mnist) train_and_eval mnist 2000 ;;
    fashion) train_and_eval fashion-mnist 3000 ;;
    cond)
      "$bin" train --data mnist --preset tiny --cond class --cond-drop 0.1 --out "$runs/mnist-cond" --steps "${COND_STEPS:-2000}" --force 2>"$runs/mnist-cond.train.log"
      "$bin" eval --model "$runs/mnist-cond" --n "${COND_N:-10000}" --guidance 3 --sampler dpmpp_2m_sde --karras --steps 20 \
        --grid "$runs/mnist-cond-grid.png" 2>"$runs/mnist-cond.eval.log"
      bench guidance "$runs/mnist-cond" "${SWEEP_N:-1000}" dpmpp_2m_sde+karras 20 "$root/bench/results" ;;
    cas)
      export_cas() {  # per-class W
        local out="$runs/synth-w$2-$1"
        "$bin" export --model "$runs/mnist-cond" --per-class "$1" --out "$out" --guidance "$2" --sampler dpmpp_2m --steps 20 --force 2>"$out.log"
        "$bin" eval cas --synthetic "$out" --data mnist 2>>"$out.log"
      }
      for w in ${CAS_W:-0.5 1 1.5 2 3}; do export_cas 100 "$w"; done
      export_cas "${CAS_PER_CLASS:-1000}" "${CAS_BEST_W:-1}"
      "$bin" eval cas --synthetic "$runs/synth-w${CAS_BEST_W:-1}-${CAS_PER_CLASS:-1000}" --model "$runs/mnist-cond" 2>/dev/null ;;
    captions)
      rm -rf "$runs/captioned-mnist"
      bench captions write "$runs/captioned-mnist"
      "$bin" train --data "$runs/captioned-mnist" --image-size 28 --preset tiny --cond text --cond-drop 0.1 --precision bf16 --steps 2000 \
        --sample-every 500 --out "$runs/mnist-captions" --force 2>"$runs/mnist-captions.train.log"
      bench captions score "$runs/mnist-captions" 50 3 20 ;;
    *) echo "unknown stage '$stage'" >&2; exit 2 ;;
  esac
done
