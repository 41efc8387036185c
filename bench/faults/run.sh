#!/usr/bin/env bash
# The fault count (issue 20): runs the diffuse CLI on >= 200 bad or edge inputs across every command, each under a
# timeout and a memory limit, and classifies each run:
#   clean    a non-zero exit with exactly one 'error: ' line on standard error and no stack trace
#   success  exit 0
#   unclear  a non-zero exit without exactly one 'error: ' line (still no stack trace)
#   crash    a stack trace, 'Unhandled exception', 'internal error', or death by a signal (exit > 128, 130 aside)
#   hang     the timeout was reached
#   damage   a file that existed before the run (the fixtures, or the case's user.keep) changed or vanished
# Writes the table to docs/faults.md (with --write) and prints the counts.
#
#   bench/faults/run.sh [--write] [--timeout S] [--filter REGEX]
set -uo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
write=0; limit=60; filter=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    --write) write=1 ;;
    --timeout) limit="$2"; shift ;;
    --filter) filter="$2"; shift ;;
    *) echo "usage: $0 [--write] [--timeout S] [--filter REGEX]" >&2; exit 2 ;;
  esac
  shift
done

"$here/diffuse" samplers >/dev/null || { echo "error: the CLI does not build or run" >&2; exit 1; }
BIN="$here/src/Diffuse.Cli/bin/Release/net10.0/Diffuse.Cli"
VMEM_KB=12000000                 # ulimit -v: 12 GB of address space (libtorch needs a few GB of it to load)
export DOTNET_GCHeapHardLimit=0x100000000  # 4 GB: what the runtime (and so Diffuse's memory checks) sees
W="$(mktemp -d /tmp/diffuse-faults.XXXXXX)"
trap 'rm -rf "$W"' EXIT
FX="$W/fixtures"; mkdir -p "$FX"

# --- fixtures (read by the cases; any change to them is damage) ---
run_setup() { "$BIN" "$@" >/dev/null 2>"$W/setup.err" || { echo "setup failed: diffuse $*" >&2; cat "$W/setup.err" >&2; exit 1; }; }
python3 - "$FX/idx" <<'PY'
import struct, sys, os
d = sys.argv[1]; os.makedirs(d, exist_ok=True)
n, h, w = 40, 28, 28
pix = bytearray()
for i in range(n): pix += bytes([(i * 37) % 256]) * (h * w)
open(f"{d}/train-images-idx3-ubyte", "wb").write(struct.pack(">IIII", 0x803, n, h, w) + pix)
open(f"{d}/train-labels-idx1-ubyte", "wb").write(struct.pack(">II", 0x801, n) + bytes(i % 4 for i in range(n)))
PY
TINY_IMG=(--preset tiny --steps 2 --batch-size 4 --timesteps 20 --validate-every 0 --sample-every 0 --checkpoint-every 0)
TINY_PTS=(--hidden 16 --blocks 1 --steps 20 --timesteps 50 --batch-size 64)
run_setup train --data moons --out "$FX/pts" "${TINY_PTS[@]}"
run_setup train --data "$FX/idx" --out "$FX/img" "${TINY_IMG[@]}"
run_setup train --data "$FX/idx" --out "$FX/cls" "${TINY_IMG[@]}" --cond class --cond-drop 0.2
run_setup train --data "$FX/idx" --out "$FX/sr" "${TINY_IMG[@]}" --task superres --scale 2
run_setup train --data "$FX/idx" --out "$FX/stopped" --preset tiny --steps 3 --batch-size 4 --timesteps 20 --validate-every 0 --sample-every 0 --checkpoint-every 0 --stop-at 1
run_setup sample --model "$FX/img" --n 1 --steps 2 --out "$FX/image.png"
python3 - "$FX" <<'PY'
import sys, os, zlib, struct
fx = sys.argv[1]
def png(path, w, h, f):
    raw = b"".join(b"\x00" + bytes(f(x, y) for x in range(w)) for y in range(h))
    def chunk(t, d): return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d) & 0xffffffff)
    open(path, "wb").write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 0, 0, 0, 0)) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))
png(f"{fx}/mask.png", 28, 28, lambda x, y: 255 if y >= 14 else 0)
png(f"{fx}/graymask.png", 28, 28, lambda x, y: 128)
png(f"{fx}/mask7.png", 7, 7, lambda x, y: 255)
png(f"{fx}/low14.png", 14, 14, lambda x, y: (x * 18) % 256)
png(f"{fx}/huge-header.png", 1, 1, lambda x, y: 0)
open(f"{fx}/garbage.png", "wb").write(os.urandom(2000))
open(f"{fx}/empty.png", "wb").close()
open(f"{fx}/text.txt", "w").write("not a model\n")
data = open(f"{fx}/image.png", "rb").read()
open(f"{fx}/truncated.png", "wb").write(data[: len(data) // 2])
os.makedirs(f"{fx}/emptydir", exist_ok=True)
os.makedirs(f"{fx}/pngdir/a", exist_ok=True)
open(f"{fx}/pngdir/a/bad.png", "wb").write(os.urandom(500))
PY
"$BIN" export --model "$FX/cls" --per-class 2 --steps 2 --out "$FX/synth" >/dev/null 2>&1 || true

# Damaged copies of the points model, one per kind of damage (each case reads one; none is written).
damaged() { local name="$1"; mkdir -p "$FX/bad-$name"; cp "$FX/pts/"* "$FX/bad-$name/" 2>/dev/null; }
damaged noconfig; rm "$FX/bad-noconfig/config.json"
damaged noweights; rm "$FX/bad-noweights/"*.safetensors
damaged emptyconfig; : > "$FX/bad-emptyconfig/config.json"
damaged truncconfig; head -c 200 "$FX/pts/config.json" > "$FX/bad-truncconfig/config.json"
damaged binconfig; head -c 300 /dev/urandom > "$FX/bad-binconfig/config.json"
damaged nullconfig; echo null > "$FX/bad-nullconfig/config.json"
damaged arrayconfig; echo '[1,2,3]' > "$FX/bad-arrayconfig/config.json"
damaged truncweights; head -c 100 "$FX/pts/ema.safetensors" > "$FX/bad-truncweights/ema.safetensors"
damaged zeroweights; : > "$FX/bad-zeroweights/ema.safetensors"
damaged garbageweights; head -c 5000 /dev/urandom > "$FX/bad-garbageweights/ema.safetensors"
damaged hugeheader; python3 -c "import struct,sys; sys.stdout.buffer.write(struct.pack('<Q', 2**62) + b'{}')" > "$FX/bad-hugeheader/ema.safetensors"
damaged shortheader; printf '\x10\x00\x00\x00\x00\x00\x00\x00{"a":' > "$FX/bad-shortheader/ema.safetensors"
damaged swapped; cp "$FX/img/ema.safetensors" "$FX/bad-swapped/ema.safetensors"
edit() { # edit NAME PYTHON-STATEMENT: a copy of the points model whose config.json c is changed by the statement
  damaged "$1"
  python3 - "$FX/bad-$1/config.json" "$2" <<'PY'
import json, sys
p, stmt = sys.argv[1], sys.argv[2]
c = json.load(open(p)); exec(stmt); json.dump(c, open(p, "w"))
PY
}
edit hugesteps "c['scheduler']['num_train_timesteps']=2**31-1"
edit hugehidden "c['network']['hidden_dim']=2000000000"
edit hugeblocks "c['network']['blocks']=100000000"
edit negsteps "c['scheduler']['num_train_timesteps']=-5"
edit stringsteps "c['scheduler']['num_train_timesteps']='many'"
edit floatsteps "c['scheduler']['num_train_timesteps']=1.5"
edit nosched "del c['scheduler']"
edit nonet "del c['network']"
edit badtype "c['network']['type']='transformer'"
edit badenum "c['scheduler']['beta_schedule']='bogus'"
edit badbool "c['scheduler']['clip_sample']='yes'"
edit extrakey "c['scheduler']['bogus_key']=1"
edit netarray "c['network']=[1]"
edit betanan "c['scheduler']['beta_end']='NaN'"
edit betahuge "c['scheduler']['beta_end']=1e300"
edit betaneg "c['scheduler']['beta_start']=-1"
edit dimwrong "c['data']['dim']=3"
edit meanwrong "c['data']['mean']=[1]"
edit scalezero "c['data']['scale']=0"
edit format "c['format']='other'"
edit version "c['version']=99"
edit sde "c['sde']={'type':'vp','beta_min':0.1,'beta_max':1e300,'sigma_min':0.01,'sigma_max':50,'eps':1e-5,'discrete_steps':50}"

# --- the cases: a label and a command line (words split by the shell; $O is the case's own empty folder) ---
P="$FX/pts"; I="$FX/img"; C="$FX/cls"; S="$FX/sr"; F="$FX/text.txt"; X="$FX/idx"
cases=()
add() { cases+=("$*"); }
# global and parsing
add ""; add bogus; add --bogus; add --help; add --version; add samplers; add info; add samplers --bogus; add samplers bogus
add --threads 0 samplers; add --threads 100000 samplers; add --threads abc samplers; add --threads -1 samplers
add --device gpu samplers; add --device cuda samplers; add info --bogus; add eval bogus; add @/etc/passwd
add train; add sample; add inpaint; add export; add eval nll; add train-classifier; add upscale
# train: points
add train --data bogus --out \$O/m
add train --data moons --out \$O/m --steps 0; add train --data moons --out \$O/m --steps -1; add train --data moons --out \$O/m --steps abc
add train --data moons --out \$O/m --steps 2147483648; add train --data moons --out \$O/m --steps 1e9
for v in 0 -1 NaN inf -inf 1e308 2 abc 1e-320; do add train --data moons --out \$O/m --lr $v --steps 5 --hidden 8 --blocks 1; done
for v in -1 1e30 NaN; do add train --data moons --out \$O/m --weight-decay $v --steps 5 --hidden 8 --blocks 1; done
add train --data moons --out \$O/m --batch-size 0 --steps 5 --hidden 8 --blocks 1; add train --data moons --out \$O/m --batch-size 1000000 --steps 5 --hidden 8 --blocks 1
add train --data moons --out \$O/m --hidden 0; add train --data moons --out \$O/m --hidden 1000000
add train --data moons --out \$O/m --hidden 65536 --blocks 1000; add train --data moons --out \$O/m --blocks -1; add train --data moons --out \$O/m --blocks 100000
add train --data moons --out \$O/m --timesteps 0 --steps 5 --hidden 8 --blocks 1; add train --data moons --out \$O/m --timesteps 1000000 --steps 5 --hidden 8 --blocks 1
add train --data moons --out \$O/m --ema-decay 1 --steps 5 --hidden 8 --blocks 1; add train --data moons --out \$O/m --ema-decay -0.1 --steps 5 --hidden 8 --blocks 1
add train --data moons --out \$O/m --seed abc --steps 5 --hidden 8 --blocks 1; add train --data moons --out \$O/m --seed 99999999999999999999 --steps 5 --hidden 8 --blocks 1
add train --data moons --out \$O/m --schedule bogus --steps 5 --hidden 8 --blocks 1; add train --data moons --out \$O/m --prediction bogus --steps 5 --hidden 8 --blocks 1; add train --data moons --out \$O/m --loss bogus --steps 5 --hidden 8 --blocks 1
add train --data moons --out \$O/m --loss hybrid --steps 5 --hidden 8 --blocks 1; add train --data moons --out \$O/m --sde bogus --steps 5 --hidden 8 --blocks 1
add train --data moons --out \$O/m --sde vp --beta-max 1e300 --steps 5 --hidden 8 --blocks 1; add train --data moons --out \$O/m --sde ve --sigma-max 1e300 --steps 5 --hidden 8 --blocks 1
add train --data moons --out \$O/m --sde ve --sigma-min 1e-300 --steps 5 --hidden 8 --blocks 1; add train --data moons --out \$O/m --beta-max 5 --steps 5 --hidden 8 --blocks 1
add train --data moons --out \$O/m --sde vp --beta-min 30 --beta-max 20 --steps 5 --hidden 8 --blocks 1
add train --data moons --out \$O/m --batch-size 10 --grad-accum 3 --steps 5 --hidden 8 --blocks 1; add train --data moons --out \$O/m --warmup -1 --steps 5 --hidden 8 --blocks 1
add train --data moons --out "" --steps 5 --hidden 8 --blocks 1; add train --data moons --out /proc/diffuse-m --steps 5 --hidden 8 --blocks 1; add train --data moons --out $F --steps 5 --hidden 8 --blocks 1
add train --data moons --out $P --steps 5 --hidden 8 --blocks 1; add train --data moons --out \$O/m --stop-at 3 --steps 5 --hidden 8 --blocks 1; add train --data moons --out \$O/m --image-size 8 --steps 5 --hidden 8 --blocks 1
add train --resume --out \$O/none; add train --resume --out $F; add train --resume --out $P
add train --data moons --out \$O/m --steps 5 --hidden 8 --blocks 1
add train --data moons --out \$O/m --steps 5 --hidden 8 --blocks 1 --sde ve --timesteps 20
# train: images
add train --data $FX/emptydir --out \$O/m --preset tiny --steps 1
add train --data $FX/pngdir --out \$O/m --preset tiny --steps 1
add train --data $F --out \$O/m --preset tiny --steps 1
add train --data $X --out \$O/m --preset bogus; add train --data $X --out \$O/m --channel-mult 0
add train --data $X --out \$O/m --channel-mult abc; add train --data $X --out \$O/m --channel-mult 1,2,3,4,5,6,7,8
add train --data $X --out \$O/m --image-size 3; add train --data $X --out \$O/m --image-size 100000; add train --data $X --out \$O/m --channels 2
add train --data $X --out \$O/m --max-images 0; add train --data $X --out \$O/m --max-images 1 --preset tiny --steps 1
add train --data $X --out \$O/m --cond bogus; add train --data $X --out \$O/m --cond-drop 2; add train --data $X --out \$O/m --dropout 5
add train --data $X --out \$O/m --variance learned_range --loss simple; add train --data $X --out \$O/m --task superres --scale 100
add train --data $X --out \$O/m --checkpoint-every -1; add train --data $X --out \$O/m --val-fraction 1; add train --data $X --out \$O/m --crop-padding 1000
add train --data $X --out \$O/m --hidden 8; add train --data $X --out \$O/m --precision fp8
add train --data $X --out \$O/m --base-channels 100000
add train --resume --out $FX/stopped --lr 0.1; add train --resume --out $FX/stopped --max-images 5
add train --data $X --out \$O/m ${TINY_IMG[*]} --image-size 8 --channel-mult 1,2
add train --data $X --out \$O/m ${TINY_IMG[*]} --image-size 8 --channel-mult 1,2 --max-images 20 --stop-at 1
add train --data $X --out \$O/m --preset tiny --steps 1 --batch-size 100000 --image-size 8 --channel-mult 1,2
add train --data $X --out \$O/m --preset tiny --steps 1 --sde ve --sigma-max 1e300
add train --data $X --out \$O/m --preset tiny --steps 1 --cond text --max-images 4
# sample: damaged models
for b in noconfig noweights emptyconfig truncconfig binconfig nullconfig arrayconfig truncweights zeroweights garbageweights hugeheader shortheader swapped \
         hugesteps hugehidden hugeblocks negsteps stringsteps floatsteps nosched nonet badtype badenum badbool extrakey netarray betanan betahuge betaneg \
         dimwrong meanwrong scalezero format version sde; do
  add sample --model $FX/bad-$b --n 2 --steps 2 --out \$O/s.csv
done
# sample: options
add sample --model \$O/none --out \$O/s.csv; add sample --model $F --out \$O/s.csv; add sample --model $FX/emptydir --out \$O/s.csv
add sample --model $P --n 0 --out \$O/s.csv; add sample --model $P --n -1 --out \$O/s.csv; add sample --model $P --n abc --out \$O/s.csv
add sample --model $P --n 1e100 --out \$O/s.csv; add sample --model $P --n 100000000 --out \$O/s.csv
add sample --model $I --n 10000000 --out \$O/s.png; add sample --model $I --n 2000 --batch-size 100000 --steps 1 --out \$O/s.png
add sample --model $P --steps 0 --out \$O/s.csv; add sample --model $P --steps 1000000 --out \$O/s.csv
add sample --model $P --sampler bogus --out \$O/s.csv; add sample --model $I --sampler ddim --eta -1 --out \$O/s.png --n 1 --steps 2
add sample --model $I --sampler ddim --eta 2 --out \$O/s.png --n 1 --steps 2
for v in 1e300 -1 NaN inf; do add sample --model $C --guidance $v --n 1 --steps 2 --out \$O/s.png; done
add sample --model $C --guidance-rescale 2 --n 1 --steps 2 --out \$O/s.png
add sample --model $I --class 1 --n 1 --steps 2 --out \$O/s.png; add sample --model $C --class 99 --n 1 --steps 2 --out \$O/s.png
add sample --model $C --class bogus --n 1 --steps 2 --out \$O/s.png; add sample --model $C --class -1 --n 1 --steps 2 --out \$O/s.png
add sample --model $P --out \$O/s.txt; add sample --model $P --out $FX/image.png; add sample --model $P --n 2 --out /proc/s.csv
add sample --model $P --out $F/s.csv; add sample --model $P --out \$O/missing/s.csv; add sample --model $I --out-dir $F --n 1 --steps 2
add sample --model $I --out-dir $FX --n 1 --steps 2; add sample --model $I --out-dir $FX --n 1 --steps 2 --force
add sample --model $I --batch-size 0 --out \$O/s.png; add sample --model $I --precision bogus --out \$O/s.png; add sample --model $I --weights bogus --out \$O/s.png
add sample --model $P --karras --sampler ddpm --out \$O/s.csv; add sample --model $I --sampler euler --s-churn 1e300 --n 1 --steps 2 --out \$O/s.png
add sample --model $P --sampler pc --snr 0 --out \$O/s.csv; add sample --model $P --sampler pc --snr NaN --out \$O/s.csv
add sample --model $P --sampler ode --rtol 0 --out \$O/s.csv; add sample --model $P --sampler ode --atol inf --out \$O/s.csv
add sample --model $I --classifier $F --n 1 --steps 2 --out \$O/s.png; add sample --model $I --classifier \$O/none --n 1 --steps 2 --out \$O/s.png
add sample --model $I --prompt "a 3" --n 1 --steps 2 --out \$O/s.png; add sample --model $I --cascade $I --n 1 --steps 2 --out \$O/s.png
add sample --model $I --cond-noise 100000 --n 1 --steps 2 --out \$O/s.png; add sample --model $P --seed -5 --n 3 --steps 2 --out \$O/s.csv
add sample --model $P --seed 99999999999999999999 --out \$O/s.csv; add sample --model $P --n 5 --steps 3 --out \$O/s.csv
add sample --model $P --n 5 --steps 3 --out \$O/s.png; add sample --model $I --n 2 --steps 2 --out \$O/s.png
add sample --model $I --n 3 --steps 2 --out-dir \$O/each; add sample --model $C --class 1 --guidance 3 --n 2 --steps 2 --out \$O/s.png
add sample --model $P --sampler pc --steps 3 --n 4 --out \$O/s.csv; add sample --model $I --sampler dpmpp_2m --karras --n 2 --steps 3 --out \$O/s.png
add sample --model $S --n 1 --steps 2 --out \$O/s.png
# editing and upscaling
E="--model $I --out \$O/e.png --steps 2"
add inpaint $E --image \$O/none.png --mask $FX/mask.png; add inpaint $E --image $FX --mask $FX/mask.png; add inpaint $E --image $FX/garbage.png --mask $FX/mask.png
add inpaint $E --image $FX/empty.png --mask $FX/mask.png; add inpaint $E --image $FX/truncated.png --mask $FX/mask.png; add inpaint $E --image $FX/image.png --mask $FX/mask7.png
add inpaint $E --image $FX/image.png --mask $FX/graymask.png; add inpaint $E --image $FX/image.png --mask $F
add inpaint --model $I --out \$O/e.png --image $FX/image.png --mask $FX/mask.png --steps 20 --jump-length 2 --resample 1000000
add inpaint $E --image $FX/image.png --mask $FX/mask.png --jump-length 0; add inpaint --model $I --out \$O/e.png --image $FX/image.png --mask $FX/mask.png --steps 1000000
add inpaint $E --image $FX/image.png --mask $FX/mask.png --n 0; add inpaint $E --image $FX/image.png --mask $FX/mask.png --n 100000000
add inpaint $E --image $FX/image.png --mask $FX/mask.png; add inpaint --model $P --out \$O/e.png --image $FX/image.png --mask $FX/mask.png
add outpaint $E --image $FX/image.png; add outpaint $E --image $FX/low14.png --pad -1; add outpaint $E --image $FX/low14.png --pad 100000
add outpaint $E --image $FX/low14.png --pad abc; add outpaint $E --image $FX/low14.png
for v in 2 -1 NaN 0; do add img2img $E --image $FX/image.png --strength $v; done
add img2img $E --image $FX/garbage.png; add img2img $E --image $FX/image.png --sampler bogus; add img2img $E --image $FX/low14.png; add img2img $E --image $FX/image.png
add upscale --model $I --image $FX/low14.png --out \$O/u.png --steps 2; add upscale --model $S --image $FX/image.png --out \$O/u.png --steps 2
add upscale --model $S --image $FX/low14.png --out \$O/u.png --steps 2 --cond-noise 100000; add upscale --model $S --image $FX/garbage.png --out \$O/u.png --steps 2
add upscale --model $S --image $FX/low14.png --out \$O/u.png --steps 2
# export
add export --model $C --per-class 0 --out \$O/x; add export --model $C --per-class 1 --out $FX --steps 2; add export --model $C --per-class 1 --out $F --steps 2
add export --model $C --per-class 1 --out $C --force --steps 2; add export --model $I --per-class 1 --out \$O/x --steps 2
add export --model $C --per-class 100000000 --out \$O/x --steps 2; add export --model $C --per-class 1 --out \$O/x --steps 2
add export --model $C --per-class 1 --out / --force --steps 2
# eval
add eval quality --model $P --n 0; add eval quality --model $P --projections 0; add eval quality --model $P --n 50 --steps 3
add eval quality --model $I --data $F --n 2 --steps 2; add eval quality --model \$O/none
add eval nll --model $P --nll-points 0; add eval nll --model $P --estimator bogus; add eval nll --model $P --probes 100000
add eval nll --model $P --nll-points 20 --rtol 1e-2 --atol 1e-2; add eval nll --model $I --elbo-only --ode-only
add eval inpaint --model $I --region bogus; add eval inpaint --model $P --region center; add eval inpaint --model $I --n 0
add eval img2img --model $I --strengths abc; add eval img2img --model $I --strengths 2; add eval img2img --model $I --strengths ,
add eval superres --model $I --n 2 --steps 2; add eval superres --model $S --cond-noise 100000
add eval cascade --cascade $I; add eval cascade --cascade \$O/a,\$O/b; add eval cascade --cascade $I,$I --n 2 --steps 2
add eval cas --synthetic \$O/none --data mnist; add eval cas --synthetic $F --data mnist; add eval cas --synthetic $FX/emptydir --data mnist
add eval cas --synthetic $FX/synth --data bogus
# train-classifier
add train-classifier --data bogus --out \$O/c; add train-classifier --data $X --out \$O/c --base-channels 7; add train-classifier --data $X --out \$O/c --steps 0
add train-classifier --data $X --out $F; add train-classifier --data $X --out \$O/c --val-fraction 1; add train-classifier --data $X --out \$O/c --schedule-from $F
add train-classifier --data $X --out \$O/c --lr 1e308; add train-classifier --data $X --out \$O/c --schedule-from $I --steps 2 --batch-size 4
# demo
add demo --data bogus; add demo --steps 0; add demo --n 0; add demo --out $F; add demo --out $P; add demo --data moons --out \$O/d --steps 0

# --- running them ---
snapshot() { (cd "$FX" && find . -type f -print0 | sort -z | xargs -0 sha256sum) | LC_ALL=C sort; }
declare -A count=()
rows=()
n=0
for line in "${cases[@]}"; do
  n=$((n + 1))
  [[ -n "$filter" && ! "$line" =~ $filter ]] && continue
  O="$W/case/$n"; mkdir -p "$O"
  echo "keep me" > "$O/user.keep"
  before="$(snapshot)"
  eval "args=($line)"
  start=$(date +%s.%N)
  ( ulimit -v "$VMEM_KB"; exec timeout -k 5 "$limit" "$BIN" "${args[@]}" ) >"$W/out" 2>"$W/err" </dev/null
  rc=$?
  secs=$(printf '%.1f' "$(echo "$(date +%s.%N) - $start" | bc)")
  after="$(snapshot)"
  errors=$(grep -c '^error: ' "$W/err")
  # Damage: a file that was there before is gone or changed (new files, e.g. outputs written with --force, are not).
  lost=$(LC_ALL=C comm -23 <(printf '%s\n' "$before") <(printf '%s\n' "$after"))
  if [[ -n "$lost" || "$(cat "$O/user.keep" 2>/dev/null)" != "keep me" ]]; then class=damage
  elif [[ $rc -eq 124 || $rc -eq 137 ]]; then class=hang
  elif grep -qE '^\s+at |Unhandled exception|internal error' "$W/err" || [[ $rc -gt 128 && $rc -ne 130 ]]; then class=crash
  elif [[ $rc -eq 0 ]]; then class=success
  elif [[ $errors -eq 1 ]]; then class=clean
  else class=unclear
  fi
  count[$class]=$(( ${count[$class]:-0} + 1 ))
  first=$(grep -m1 '^error: ' "$W/err" || tail -n1 "$W/err")
  [[ $class == success ]] && first=$(tail -n1 "$W/out")
  shown="${line//$FX/FX}"; shown="${shown//\$O/OUT}"; shown="${shown//$W/W}"
  msg="${first//$FX/FX}"; msg="${msg//$W/W}"; msg="${msg//|/\\|}"
  rows+=("| $n | \`diffuse ${shown//|/\\|}\` | $rc | $class | ${secs} | ${msg:0:160} |")
  printf '%4d %-8s rc=%-3d %5ss  diffuse %s\n' "$n" "$class" "$rc" "$secs" "${shown:0:110}"
  rm -rf "$O"
done
# Two cases of a broken standard output: closed, and full.
for how in closed full; do
  n=$((n + 1))
  [[ -n "$filter" && ! "closed full" =~ $filter ]] && continue
  if [[ $how == closed ]]; then ( ulimit -v "$VMEM_KB"; exec timeout -k 5 "$limit" "$BIN" --help ) >&- 2>"$W/err"; rc=$?
  else ( ulimit -v "$VMEM_KB"; exec timeout -k 5 "$limit" "$BIN" --help ) >/dev/full 2>"$W/err"; rc=$?; fi
  errors=$(grep -c '^error: ' "$W/err")
  if [[ $rc -eq 124 || $rc -eq 137 ]]; then class=hang
  elif grep -qE '^\s+at |Unhandled exception|internal error' "$W/err" || [[ $rc -gt 128 ]]; then class=crash
  elif [[ $rc -eq 0 ]]; then class=success
  elif [[ $errors -eq 1 ]]; then class=clean; else class=unclear; fi
  count[$class]=$(( ${count[$class]:-0} + 1 ))
  rows+=("| $n | \`diffuse --help\` with standard output $how | $rc | $class | - | $(head -n1 "$W/err") |")
  printf '%4d %-8s rc=%-3d  diffuse --help (stdout %s)\n' "$n" "$class" "$rc" "$how"
done

total=${#rows[@]}
summary="$total cases: ${count[clean]:-0} clean errors, ${count[success]:-0} successes, ${count[unclear]:-0} unclear errors, ${count[crash]:-0} crashes, ${count[hang]:-0} hangs, ${count[damage]:-0} damage"
echo "$summary"
if [[ $write -eq 1 ]]; then
  {
    echo "# Faults: the CLI under bad input"
    echo
    echo "What \`bench/faults/run.sh --write\` found at commit $(git -C "$here" rev-parse --short HEAD) on $(date -u +%Y-%m-%d) ($(nproc) cores). Each case"
    echo "runs the built CLI under \`timeout $limit\` and \`ulimit -v $VMEM_KB\` (with \`DOTNET_GCHeapHardLimit=4 GB\`, which is also"
    echo "the memory Diffuse's own checks then see), in an empty folder of its own (OUT; FX holds the fixtures: tiny"
    echo "points, image, class-conditional and super-resolution models, damaged copies of the points model, images, masks,"
    echo "a text file). A case is *clean* when it exits non-zero with exactly one \`error:\` line and no stack trace, *unclear*"
    echo "when it exits non-zero otherwise, a *crash* on a stack trace, \`internal error\` or a signal, a *hang* at the timeout,"
    echo "and *damage* when a fixture or the case's own \`user.keep\` file changed or vanished."
    echo
    echo "**$summary.**"
    echo
    echo "Reproduce: \`bench/faults/run.sh --write\` (about $(( SECONDS / 60 + 1 )) minutes here; \`--filter REGEX\` runs some)."
    echo
    echo "| # | command | exit | class | s | first error line (or the last output line) |"
    echo "|---|---|---|---|---|---|"
    printf '%s\n' "${rows[@]}"
  } > "$here/docs/faults.md"
  echo "wrote docs/faults.md"
fi
[[ ${count[crash]:-0} -eq 0 && ${count[hang]:-0} -eq 0 && ${count[damage]:-0} -eq 0 ]]
