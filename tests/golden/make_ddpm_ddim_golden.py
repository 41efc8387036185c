#!/usr/bin/env python3
"""Golden values for DDPM's variance types and thresholding, DDIM's thresholding and use_clipped_model_output,
and DDIMInverseScheduler, computed with PyTorch.

Run with Debian's python3-torch (PyTorch 1.13), from the repository root:

    /usr/bin/python3 tests/golden/make_ddpm_ddim_golden.py > tests/golden/ddpm_ddim.json

A restatement of diffusers' DDPMScheduler.step / _get_variance / _threshold_sample, DDIMScheduler.step and
DDIMInverseScheduler (set_timesteps, step) in float32 torch arithmetic, reusing the tables of make_golden.py.
check_reference() reproduces the values diffusers' own tests assert before anything is written.
"""
import json
import sys

import numpy as np
import torch

from make_golden import DEFAULTS, betas_for, predicted, sample_deter, timesteps_for


def threshold(x0, ratio, max_value):
    b = x0.shape[0]
    flat = x0.reshape(b, -1)
    s = torch.quantile(flat.abs(), ratio, dim=1).clamp(min=1, max=max_value).unsqueeze(1)
    return (torch.clamp(flat, -s, s) / s).reshape(x0.shape)


def clean(c, x0):
    if c["thresholding"]:
        return threshold(x0, c["dynamic_thresholding_ratio"], c["sample_max_value"])
    if c["clip_sample"]:
        return x0.clamp(-c["clip_sample_range"], c["clip_sample_range"])
    return x0


def ddpm_step(c, abar_table, timesteps, out, t, x, g):
    i = list(timesteps).index(t)
    prev = timesteps[i + 1] if i + 1 < len(timesteps) else -1
    kind = c["variance_type"]
    v = None
    if kind in ("learned", "learned_range") and out.shape[1] == 2 * x.shape[1]:
        out, v = torch.split(out, x.shape[1], dim=1)
    abar_t = abar_table[t]
    abar_prev = abar_table[prev] if prev >= 0 else torch.tensor(1.0)
    alpha, beta = abar_t / abar_prev, 1 - abar_t / abar_prev
    x0 = clean(c, predicted(c["prediction_type"], out, x, abar_t)[0])
    mean = (abar_prev**0.5 * beta) / (1 - abar_t) * x0 + alpha**0.5 * (1 - abar_prev) / (1 - abar_t) * x
    if t == 0:
        return mean
    z = torch.randn(out.shape, generator=g, dtype=out.dtype)
    small = torch.clamp((1 - abar_prev) / (1 - abar_t) * beta, min=1e-20)
    if kind == "fixed_small":
        return mean + small**0.5 * z
    if kind == "fixed_small_log":
        return mean + torch.exp(0.5 * torch.log(small)) * z
    if kind == "fixed_large":
        return mean + beta**0.5 * z
    if kind == "learned":
        return mean + v**0.5 * z
    assert kind == "learned_range"
    frac = (v + 1) / 2
    return mean + torch.exp(0.5 * (frac * torch.log(beta) + (1 - frac) * torch.log(small))) * z


def ddim_step(c, abar_table, n, out, t, x, g):
    prev = t - c["num_train_timesteps"] // n
    abar_t = abar_table[t]
    final = torch.tensor(1.0) if c["set_alpha_to_one"] else abar_table[0]
    abar_prev = abar_table[prev] if prev >= 0 else final
    x0, eps = predicted(c["prediction_type"], out, x, abar_t)
    x0 = clean(c, x0)
    std = c["eta"] * ((1 - abar_prev) / (1 - abar_t) * (1 - abar_t / abar_prev)) ** 0.5
    if c["use_clipped_model_output"]:
        eps = (x - abar_t**0.5 * x0) / (1 - abar_t) ** 0.5
    x = abar_prev**0.5 * x0 + (1 - abar_prev - std**2) ** 0.5 * eps
    if c["eta"] > 0:
        x = x + std * torch.randn(out.shape, generator=g, dtype=out.dtype)
    return x


def inverse_timesteps(c, n):
    T = c["num_train_timesteps"]
    if c["timestep_spacing"] == "leading":
        return (np.arange(0, n) * (T // n)).round().astype(np.int64) + c["steps_offset"]
    return np.round(np.arange(T, 0, -T / n)[::-1]).astype(np.int64) - 1


def ddim_inverse_step(c, abar_table, n, out, t, x):
    T = c["num_train_timesteps"]
    cur = min(t - T // n, T - 1)
    initial = torch.tensor(1.0) if c["set_alpha_to_one"] else abar_table[0]
    abar_t = abar_table[cur] if cur >= 0 else initial
    abar_next = abar_table[t]
    x0, eps = predicted(c["prediction_type"], out, x, abar_t)
    if c["clip_sample"]:
        x0 = x0.clamp(-c["clip_sample_range"], c["clip_sample_range"])
    return abar_next**0.5 * x0 + (1 - abar_next) ** 0.5 * eps


EXTRA = dict(thresholding=False, dynamic_thresholding_ratio=0.995, sample_max_value=1.0, use_clipped_model_output=False)


def model(x, t, variance):
    """The dummy model x t / (t + 1); for a learned variance type, a second set of C channels:
    0.01 out^2 + 1e-4 (a variance, learned) or tanh(out) (in [-1, 1], learned_range)."""
    out = x * t / (t + 1)
    if variance == "learned":
        return torch.cat([out, 0.01 * out * out + 1e-4], dim=1)
    if variance == "learned_range":
        return torch.cat([out, torch.tanh(out)], dim=1)
    return out


def run_loop(name, config, steps, seed, scale=1.0):
    c = {**DEFAULTS, **EXTRA, **config}
    betas = betas_for(c["beta_schedule"], c["num_train_timesteps"], c["beta_start"], c["beta_end"], c["rescale_betas_zero_snr"])
    abar = torch.cumprod(1.0 - betas, dim=0)
    if name == "ddim_inverse":
        ts = inverse_timesteps(c, steps)
    else:
        ts = timesteps_for(c["timestep_spacing"], c["num_train_timesteps"], steps, c["steps_offset"])
    g = torch.manual_seed(seed) if seed is not None else None
    x = sample_deter() * scale
    for t in ts:
        t = int(t)
        out = model(x, t, c["variance_type"] if name == "ddpm" else None)
        if name == "ddpm":
            x = ddpm_step(c, abar, ts, out, t, x, g)
        elif name == "ddim":
            x = ddim_step(c, abar, steps, out, t, x, g)
        else:
            x = ddim_inverse_step(c, abar, steps, out, t, x)
    flat = x.reshape(-1)
    return dict(scheduler=name, config=config, steps=steps, seed=seed, scale=scale,
                sum=float(x.abs().sum()), mean=float(x.abs().mean()),
                slice_every_85=[float(v) for v in flat[::85][:9]])


def check_reference():
    """diffusers' tests/schedulers/test_scheduler_ddim_inverse.py (10 steps, clip_sample true) and the DDPM/DDIM loops."""
    for config, want_sum, want_mean in (({}, 671.6816, 0.8746), (dict(prediction_type="v_prediction"), 1394.2185, 1.8154),
                                        (dict(set_alpha_to_one=True, beta_start=0.01), 539.9622, 0.7031),
                                        (dict(set_alpha_to_one=False, beta_start=0.01), 542.6722, 0.7066)):
        got = run_loop("ddim_inverse", config, 10, None)
        assert abs(got["sum"] - want_sum) < 1e-2 and abs(got["mean"] - want_mean) < 1e-3, (config, got["sum"], got["mean"])
    assert list(inverse_timesteps(dict(DEFAULTS, steps_offset=1), 5)) == [1, 201, 401, 601, 801]
    got = run_loop("ddpm", {}, 1000, 0)["sum"]
    assert abs(got - 258.9606) < 1e-2, got
    got = run_loop("ddim", dict(prediction_type="v_prediction"), 10, None)["sum"]
    assert abs(got - 52.5302) < 1e-2, got


def main():
    check_reference()
    loops = []
    for variance in ("fixed_small_log", "learned", "learned_range"):
        loops.append(run_loop("ddpm", dict(variance_type=variance), 50, 0))
    loops.append(run_loop("ddpm", dict(variance_type="learned_range", prediction_type="v_prediction", timestep_spacing="trailing"), 1000, 2))
    # sample_deter * 4 makes the predicted x_0 leave [-1, 1], so that thresholding and clipping act.
    for kind, max_value in (("epsilon", 1.5), ("sample", 3.0), ("v_prediction", 2.0)):
        spacing = "trailing" if kind == "sample" else "leading"
        loops.append(run_loop("ddpm", dict(thresholding=True, prediction_type=kind, sample_max_value=max_value, timestep_spacing=spacing), 50, 0, 4.0))
        loops.append(run_loop("ddim", dict(thresholding=True, prediction_type=kind, sample_max_value=max_value, timestep_spacing=spacing), 10, None, 4.0))
    loops.append(run_loop("ddim", dict(thresholding=True, dynamic_thresholding_ratio=0.6, sample_max_value=3.0, eta=0.5, prediction_type="v_prediction"), 20, 1, 4.0))
    # eps re-derived from the clipped x_0 differs only where clipping acted: v_prediction's x_0 leaves the range early.
    loops.append(run_loop("ddim", dict(use_clipped_model_output=True, prediction_type="v_prediction", clip_sample_range=0.5), 10, None))
    loops.append(run_loop("ddim", dict(use_clipped_model_output=True, prediction_type="v_prediction"), 10, None, 4.0))
    loops.append(run_loop("ddim", dict(use_clipped_model_output=True, prediction_type="sample", timestep_spacing="trailing"), 10, None, 4.0))
    loops.append(run_loop("ddim", dict(use_clipped_model_output=True, thresholding=True, sample_max_value=2.0), 10, None, 4.0))
    loops.append(run_loop("ddim_inverse", dict(prediction_type="sample", set_alpha_to_one=False), 10, None))
    loops.append(run_loop("ddim_inverse", dict(timestep_spacing="trailing", clip_sample=False), 25, None))
    loops.append(run_loop("ddim_inverse", dict(steps_offset=1, beta_schedule="squaredcos_cap_v2", prediction_type="v_prediction"), 20, None))
    loops.append(run_loop("ddim_inverse", dict(rescale_betas_zero_snr=True, timestep_spacing="trailing", prediction_type="v_prediction", clip_sample_range=0.5), 10, None))
    json.dump(dict(generator=f"torch {torch.__version__}, numpy {np.__version__}", loops=loops), sys.stdout, indent=1)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
