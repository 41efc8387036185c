#!/usr/bin/env python3
"""Golden values for Diffuse's math tests, computed with PyTorch.

Run with Debian's python3-torch (PyTorch 1.13; `apt-get install -y python3-torch`):

    /usr/bin/python3 tests/golden/make_golden.py > tests/golden/math.json

diffusers is not installable here, so this script restates the parts of diffusers' schedulers that
the tests need (DDPMScheduler and DDIMScheduler: `__init__` tables, `set_timesteps`, `step`) in a few
lines of PyTorch, with diffusers' float32 tensor arithmetic. It is a second, independent implementation
of the same semantics, checked against the values diffusers' own tests assert
(shared/reference/scheduler-vectors.md) before anything is written.
"""
import json
import math
import sys

import numpy as np
import torch


def betas_for(schedule, T, start, end, rescale):
    if schedule == "linear":
        betas = torch.linspace(start, end, T, dtype=torch.float32)
    elif schedule == "scaled_linear":
        betas = torch.linspace(start**0.5, end**0.5, T, dtype=torch.float32) ** 2
    elif schedule == "squaredcos_cap_v2":
        f = lambda s: math.cos((s + 0.008) / 1.008 * math.pi / 2) ** 2
        betas = torch.tensor([min(1 - f((i + 1) / T) / f(i / T), 0.999) for i in range(T)], dtype=torch.float32)
    elif schedule == "sigmoid":
        betas = torch.sigmoid(torch.linspace(-6, 6, T)) * (end - start) + start
    else:
        raise ValueError(schedule)
    if rescale:  # Lin et al. 2023, Algorithm 1
        s = torch.cumprod(1.0 - betas, dim=0).sqrt()
        s0, sT = s[0].clone(), s[-1].clone()
        s = (s - sT) * (s0 / (s0 - sT))
        abar = s**2
        betas = 1 - torch.cat([abar[0:1], abar[1:] / abar[:-1]])
    return betas


def timesteps_for(spacing, T, n, offset):
    if spacing == "linspace":
        return np.linspace(0, T - 1, n).round()[::-1].copy().astype(np.int64)
    if spacing == "leading":
        return (np.arange(0, n) * (T // n)).round()[::-1].copy().astype(np.int64) + offset
    return np.round(np.arange(T, 0, -T / n)).astype(np.int64) - 1


def predicted(kind, out, x, abar):
    a, s = abar**0.5, (1 - abar) ** 0.5
    if kind == "epsilon":
        return (x - s * out) / a, out
    if kind == "sample":
        return out, (x - a * out) / s
    return a * x - s * out, a * out + s * x


def ddpm_step(c, abar_table, timesteps, out, t, x, g):
    i = list(timesteps).index(t)
    prev = timesteps[i + 1] if i + 1 < len(timesteps) else -1
    abar_t = abar_table[t]
    abar_prev = abar_table[prev] if prev >= 0 else torch.tensor(1.0)
    alpha, beta = abar_t / abar_prev, 1 - abar_t / abar_prev
    x0, _ = predicted(c["prediction_type"], out, x, abar_t)
    if c["clip_sample"]:
        x0 = x0.clamp(-c["clip_sample_range"], c["clip_sample_range"])
    mean = (abar_prev**0.5 * beta) / (1 - abar_t) * x0 + alpha**0.5 * (1 - abar_prev) / (1 - abar_t) * x
    if t == 0:
        return mean
    var = beta if c["variance_type"] == "fixed_large" else torch.clamp((1 - abar_prev) / (1 - abar_t) * beta, min=1e-20)
    return mean + var**0.5 * torch.randn(out.shape, generator=g, dtype=out.dtype)


def ddim_step(c, abar_table, n, out, t, x, g):
    prev = t - c["num_train_timesteps"] // n
    abar_t = abar_table[t]
    final = torch.tensor(1.0) if c["set_alpha_to_one"] else abar_table[0]
    abar_prev = abar_table[prev] if prev >= 0 else final
    x0, eps = predicted(c["prediction_type"], out, x, abar_t)
    if c["clip_sample"]:
        x0 = x0.clamp(-c["clip_sample_range"], c["clip_sample_range"])
    std = c["eta"] * ((1 - abar_prev) / (1 - abar_t) * (1 - abar_t / abar_prev)) ** 0.5
    x = abar_prev**0.5 * x0 + (1 - abar_prev - std**2) ** 0.5 * eps
    if c["eta"] > 0:
        x = x + std * torch.randn(out.shape, generator=g, dtype=out.dtype)
    return x


DEFAULTS = dict(num_train_timesteps=1000, beta_start=0.0001, beta_end=0.02, beta_schedule="linear",
                prediction_type="epsilon", variance_type="fixed_small", clip_sample=True, clip_sample_range=1.0,
                timestep_spacing="leading", steps_offset=0, set_alpha_to_one=True, rescale_betas_zero_snr=False, eta=0.0)


def sample_deter(flip=False):
    a = torch.arange(768)
    if flip:
        a = a.flip(-1)
    return (a.reshape(3, 8, 8, 4) / 768).permute(3, 0, 1, 2)


def run_loop(name, config, steps, seed):
    c = dict(DEFAULTS, **config)
    betas = betas_for(c["beta_schedule"], c["num_train_timesteps"], c["beta_start"], c["beta_end"], c["rescale_betas_zero_snr"])
    abar = torch.cumprod(1.0 - betas, dim=0)
    ts = timesteps_for(c["timestep_spacing"], c["num_train_timesteps"], steps, c["steps_offset"])
    g = torch.manual_seed(seed) if seed is not None else None
    x = sample_deter()
    for t in ts:
        t = int(t)
        out = x * t / (t + 1)
        x = ddpm_step(c, abar, ts, out, t, x, g) if name == "ddpm" else ddim_step(c, abar, steps, out, t, x, g)
    flat = x.reshape(-1)
    return dict(scheduler=name, config=config, steps=steps, seed=seed,
                sum=float(x.abs().sum()), mean=float(x.abs().mean()),
                slice_every_85=[float(v) for v in flat[::85][:9]])


def schedule_entry(schedule, T, start, end, rescale):
    betas = betas_for(schedule, T, start, end, rescale)
    abar = torch.cumprod(1.0 - betas, dim=0)
    idx = sorted({i for i in (0, 1, T // 4, T // 2, T - 2, T - 1) if 0 <= i < T})
    return dict(beta_schedule=schedule, num_train_timesteps=T, beta_start=start, beta_end=end, rescale_betas_zero_snr=rescale,
                indices=idx, betas=[float(betas[i]) for i in idx], alphas_cumprod=[float(abar[i]) for i in idx],
                alphas_cumprod_sum=float(abar.double().sum()))


def check_reference():
    """The values diffusers' tests assert; the restatement above must reproduce them."""
    for kind, want in (("epsilon", 258.9606), ("v_prediction", 202.0296)):
        got = run_loop("ddpm", dict(prediction_type=kind), 1000, 0)["sum"]
        assert abs(got - want) < 1e-2, (kind, got)
    got = run_loop("ddim", {}, 10, None)["sum"]
    assert abs(got - 172.0067) < 1e-2, got
    assert list(timesteps_for("leading", 1000, 5, 1)) == [801, 601, 401, 201, 1]


def main():
    check_reference()
    schedules = []
    for schedule in ("linear", "scaled_linear", "squaredcos_cap_v2", "sigmoid"):
        start, end = (0.00085, 0.012) if schedule == "scaled_linear" else (0.0001, 0.02)
        for T in (1, 10, 1000, 4000):
            for rescale in (False, True):
                if not (rescale and T < 2):
                    schedules.append(schedule_entry(schedule, T, start, end, rescale))
    loops = [
        run_loop("ddim", dict(prediction_type="v_prediction", timestep_spacing="trailing", rescale_betas_zero_snr=True, clip_sample=False), 10, None),
        run_loop("ddim", dict(beta_schedule="scaled_linear", beta_start=0.00085, beta_end=0.012, timestep_spacing="linspace", eta=1.0), 25, 0),
        run_loop("ddim", dict(beta_schedule="squaredcos_cap_v2", prediction_type="sample", set_alpha_to_one=False, steps_offset=1, clip_sample_range=0.5), 20, None),
        run_loop("ddpm", dict(beta_schedule="squaredcos_cap_v2", variance_type="fixed_large"), 50, 0),
        run_loop("ddpm", dict(beta_schedule="sigmoid", prediction_type="sample", timestep_spacing="trailing"), 20, 3),
        run_loop("ddpm", dict(prediction_type="v_prediction", timestep_spacing="linspace", rescale_betas_zero_snr=True, clip_sample=False), 30, 1),
    ]
    json.dump(dict(generator=f"torch {torch.__version__}, numpy {np.__version__}", schedules=schedules, loops=loops), sys.stdout, indent=1)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
