#!/usr/bin/env bash
# Writes the old-model fixture folders under tests/Diffuse.Tests/Fixtures/models/<kind>/ with the real CLI
# ('./diffuse train'), one per kind of model folder, then golden.safetensors in each with 'Diffuse.Bench fixture-goldens'
# (the stored inputs, the network's output on them, samples from stored noise; see FixtureRuns.cs).
# OldModelFolderTests loads the folders and checks those numbers.
#
# The committed folders and goldens were written by commit 2d1e3ebfff34ed85a4ccb2d60a0d27b292578193 of main (each
# golden.safetensors names its commit in its metadata, "written_by"). They guard the redesign's rule "every model
# folder written before this change still loads and samples the same images": do NOT rerun this script once
# config.json, the weight names, the networks or the samplers have changed, or the guard guards nothing. Run it only to
# add a kind, and then keep the old folders as they are.
#
# Sizes: the CLI's smallest U-Net is the tiny preset with --channel-mult 1 (99k parameters, 400 KB of float32; it has
# no smaller channel count), so each folder keeps only config.json and ema.safetensors, what ImageModel.Load and
# PointModel.Load read by default, and drops model.safetensors (the raw weights), train_state/ and tensorboard/.
#
# Data: MNIST shrunk to 8x8 (--image-size 8), 64 images; the CLI downloads it into ~/.cache/diffuse once. Training:
# 40 steps at a constant learning rate of 0.005, enough to move every zero-initialised layer (each residual block's
# second convolution, the attention and cross-attention outputs, the output convolution) off zero, so that every part
# of the network and of its conditioning shapes the golden outputs.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)"
out="$repo/tests/Diffuse.Tests/Fixtures/models"
cd "$repo"

image=(--data mnist --image-size 8 --max-images 64 --steps 40 --batch-size 8 --lr 0.005 --lr-schedule constant
       --warmup 1 --channel-mult 1 --validate-every 0 --sample-every 0 --seed 1)

train() {  # train KIND ARGS...: a fresh folder for KIND, trimmed to what loading reads
  local kind="$1"; shift
  rm -rf "${out:?}/$kind"
  ./diffuse train --out "$out/$kind" "$@"
  rm -rf "$out/$kind/model.safetensors" "$out/$kind/train_state" "$out/$kind/tensorboard" "$out/$kind/samples"
}

points=(--data moons --hidden 16 --blocks 1 --batch-size 64 --warmup 10 --seed 1)
train points          "${points[@]}" --steps 200
# The SDE model is one of points: after 40 steps an image U-Net's probability-flow ODE ends far outside [-1, 1]
# (values of 30), while 1000 steps of the 2-D MLP (seconds, 145 KB) give a model whose ODE lands on the data.
train sde-vp          "${points[@]}" --steps 1000 --sde vp
train unconditional   "${image[@]}"
train class           "${image[@]}" --cond class --cond-drop 0.2
train text            "${image[@]}" --cond text --cond-drop 0.2
train superres        "${image[@]}" --task superres --scale 2 --cond-noise-max 200
train learned-variance "${image[@]}" --variance learned_range --vlb-weight 0.001
train bf16            "${image[@]}" --precision bf16

# The goldens, on the code of this checkout.
written_by="$(git rev-parse HEAD)$(git diff --quiet HEAD -- src || echo ' with uncommitted changes in src/')"
dotnet run --project bench/Diffuse.Bench -c Release -- fixture-goldens "$out" "$written_by"
