"""The PyTorch peer of Diffuse's benchmark suite: times the same U-Net (unet.py, built from Diffuse's
config JSON) for training steps/s and sampling images/s, fp32 and bf16, at a thread count, and prints
JSON. Usage:
  python3 bench/peer/peer.py --config OUT/configs/small.json [--threads N] [--batches 64]
      [--precisions fp32,bf16] [--train-steps 5] [--sample-steps 10] [--repeats 3] [--check]
--check prints the parameter count and forward FLOPs only. Training: AdamW (lr 1e-3, no weight decay),
the eps MSE loss at uniform timesteps of the linear schedule (1e-4..0.02, 1000 steps), gradient
clipping at 1, an EMA of decay 0.999, as Diffuse's Trainer does; bf16 training uses
torch.autocast("cpu", torch.bfloat16). Sampling: a DDIM (eta 0) loop of N network calls under no_grad,
the network in the precision (model.to(torch.bfloat16) for bf16) and the update in fp32.
"""
import argparse
import json
import os
import sys
import time

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import unet  # noqa: E402

DTYPES = {"fp32": torch.float32, "bf16": torch.bfloat16}


def best_seconds(body, repeats):
    body()  # warm-up
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        body()
        best = min(best, time.perf_counter() - start)
    return best


def alphas_cumprod():
    betas = torch.linspace(1e-4, 0.02, 1000, dtype=torch.float64)
    return torch.cumprod(1 - betas, 0).float()


def train_images_per_second(cfg, batch, steps, precision):
    torch.manual_seed(0)
    model = unet.UNet2D(cfg)
    ema = unet.UNet2D(cfg)
    ema.load_state_dict(model.state_dict())
    params = list(model.parameters())
    ema_params = list(ema.parameters())
    opt = torch.optim.AdamW(params, lr=1e-3, weight_decay=0.0)
    ac = alphas_cumprod()
    shape = (batch, cfg.in_channels, cfg.image_size, cfg.image_size)
    model.train()

    def step():
        opt.zero_grad(set_to_none=True)
        x0 = torch.rand(shape) * 2 - 1
        t = torch.randint(0, 1000, (batch,))
        noise = torch.randn(shape)
        a = ac[t].view(-1, 1, 1, 1)
        xt = a.sqrt() * x0 + (1 - a).sqrt() * noise
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=precision == "bf16"):
            out = model(xt, t)
        loss = F.mse_loss(out.float(), noise)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        with torch.no_grad():
            for e, p in zip(ema_params, params):
                e.mul_(0.999).add_(p, alpha=0.001)

    step()  # warm-up
    start = time.perf_counter()
    for _ in range(steps):
        step()
    return steps * batch / (time.perf_counter() - start)


def make_model(cfg, precision):
    torch.manual_seed(0)
    model = unet.UNet2D(cfg).eval()
    return model.to(DTYPES[precision])


def forward_seconds(cfg, batch, precision, repeats):
    model = make_model(cfg, precision)
    x = torch.randn(batch, cfg.in_channels, cfg.image_size, cfg.image_size).to(DTYPES[precision])
    t = torch.full((batch,), 500, dtype=torch.int64)
    with torch.no_grad():
        return best_seconds(lambda: model(x, t), repeats)


def sample_images_per_second(cfg, batch, steps, precision):
    model = make_model(cfg, precision)
    dtype = DTYPES[precision]
    ac = alphas_cumprod()
    shape = (batch, cfg.in_channels, cfg.image_size, cfg.image_size)
    timesteps = list(range(0, 1000, 1000 // steps))[::-1][:steps]  # "leading" spacing, as diffusers' DDIM
    with torch.no_grad():
        model(torch.randn(shape).to(dtype), torch.zeros(batch, dtype=torch.int64))  # warm-up
        start = time.perf_counter()
        x = torch.randn(shape)
        for i, t in enumerate(timesteps):
            eps = model(x.to(dtype), torch.full((batch,), t, dtype=torch.int64)).float()
            a_t = ac[t]
            a_prev = ac[timesteps[i + 1]] if i + 1 < len(timesteps) else torch.tensor(1.0)
            x0 = (x - (1 - a_t).sqrt() * eps) / a_t.sqrt()
            x = a_prev.sqrt() * x0 + (1 - a_prev).sqrt() * eps
        return batch / (time.perf_counter() - start)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--config", required=True, help="a Diffuse U-Net config JSON (suite OUT/configs/<preset>.json or a model's config.json)")
    p.add_argument("--name", help="the preset name to report (default: the config file's name)")
    p.add_argument("--threads", type=int)
    p.add_argument("--batches", default="64")
    p.add_argument("--precisions", default="fp32,bf16")
    p.add_argument("--train-steps", type=int, default=5)
    p.add_argument("--sample-steps", type=int, default=10)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--check", action="store_true", help="print the parameter count and forward FLOPs only")
    a = p.parse_args()
    if a.threads:
        torch.set_num_threads(a.threads)
    cfg = unet.UNetConfig.load(a.config)
    name = a.name or os.path.splitext(os.path.basename(a.config))[0]
    probe = unet.UNet2D(cfg)
    report = {"preset": name, "torch": torch.__version__, "threads": torch.get_num_threads(),
              "parameters": unet.parameter_count(probe), "forward_flops_per_image": unet.forward_flops(probe), "rows": []}
    if not a.check:
        flops = report["forward_flops_per_image"]["total"]
        for precision in a.precisions.split(","):
            if precision not in DTYPES:
                sys.exit(f"error: --precisions takes fp32 and bf16, got '{precision}'")
            for batch in (int(b) for b in a.batches.split(",")):
                fwd = forward_seconds(cfg, batch, precision, a.repeats)
                train = train_images_per_second(cfg, batch, a.train_steps, precision)
                sample = sample_images_per_second(cfg, batch, a.sample_steps, precision)
                report["rows"].append({"precision": precision, "batch": batch, "forward_seconds": fwd,
                                       "forward_gflop_per_second": flops * batch / fwd / 1e9,
                                       "train_images_per_second": train, "train_steps_per_second": train / batch,
                                       "sample_images_per_second": sample, "sample_steps": a.sample_steps})
                print(f"peer {name} {precision} batch {batch}: forward {fwd * 1e3:.1f} ms, train {train:.1f} images/s, "
                      f"sample {sample:.2f} images/s", file=sys.stderr)
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
