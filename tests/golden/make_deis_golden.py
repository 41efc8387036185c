#!/usr/bin/env python3
"""Golden values for Diffuse's `deis` scheduler, computed with PyTorch.

Run with Debian's python3-torch (PyTorch 1.13; `apt-get install -y python3-torch`):

    /usr/bin/python3 tests/golden/make_deis_golden.py > tests/golden/deis.json

diffusers is not installable here, so this script restates diffusers' DEISMultistepScheduler (`__init__`
tables, `set_timesteps` with Karras and exponential sigmas, `convert_model_output`, the first- to
third-order log-rho updates, `step`'s order rule) with its float32 tensor arithmetic, and checks the
restatement against the values diffusers' own tests assert (tests/schedulers/test_scheduler_deis.py)
before anything is written. The loops are loop A of shared/reference/scheduler-vectors.md
(sample_deter, model x * t / (t + 1)) for configs those tests do not cover.
"""
import json
import math
import sys

import numpy as np
import torch

from make_golden import betas_for, sample_deter

DEFAULTS = dict(num_train_timesteps=1000, beta_start=0.0001, beta_end=0.02, beta_schedule="linear", solver_order=2,
                prediction_type="epsilon", thresholding=False, dynamic_thresholding_ratio=0.995, sample_max_value=1.0,
                lower_order_final=True, use_karras_sigmas=False, use_exponential_sigmas=False, timestep_spacing="linspace", steps_offset=0)


def sigma_to_t(sigma, log_sigmas):
    log_sigma = np.log(np.maximum(sigma, 1e-10))
    dists = log_sigma - log_sigmas[:, np.newaxis]
    low = np.cumsum((dists >= 0), axis=0).argmax(axis=0).clip(max=log_sigmas.shape[0] - 2)
    w = np.clip((log_sigmas[low] - log_sigma) / (log_sigmas[low] - log_sigmas[low + 1]), 0, 1)
    return ((1 - w) * low + w * (low + 1)).reshape(np.shape(sigma))


class Deis:
    def __init__(self, **config):
        self.c = c = dict(DEFAULTS, **config)
        betas = betas_for(c["beta_schedule"], c["num_train_timesteps"], c["beta_start"], c["beta_end"], False)
        self.abar = torch.cumprod(1.0 - betas, dim=0)

    def set_timesteps(self, n):
        c, T = self.c, self.c["num_train_timesteps"]
        if c["timestep_spacing"] == "linspace":
            ts = np.linspace(0, T - 1, n + 1).round()[::-1][:-1].copy().astype(np.int64)
        elif c["timestep_spacing"] == "leading":
            ts = (np.arange(0, n + 1) * (T // (n + 1))).round()[::-1][:-1].copy().astype(np.int64) + c["steps_offset"]
        else:
            ts = np.arange(T, 0, -T / n).round().copy().astype(np.int64) - 1
        sigmas = np.array(((1 - self.abar) / self.abar) ** 0.5)
        log_sigmas = np.log(sigmas)
        if c["use_karras_sigmas"] or c["use_exponential_sigmas"]:
            lo, hi = sigmas[0].item(), sigmas[-1].item()
            if c["use_karras_sigmas"]:
                ramp = np.linspace(0, 1, n)
                sigmas = (hi ** (1 / 7) + ramp * (lo ** (1 / 7) - hi ** (1 / 7))) ** 7
                ts = np.array([sigma_to_t(s, log_sigmas) for s in sigmas]).round()
            else:
                sigmas = np.exp(np.linspace(math.log(hi), math.log(lo), n))
                ts = np.array([sigma_to_t(s, log_sigmas) for s in sigmas])
            sigmas = np.concatenate([sigmas, sigmas[-1:]]).astype(np.float32)
        else:
            sigmas = np.interp(ts, np.arange(0, len(sigmas)), sigmas)
            last = ((1 - self.abar[0]) / self.abar[0]) ** 0.5
            sigmas = np.concatenate([sigmas, [last]]).astype(np.float32)
        self.sigmas = torch.from_numpy(sigmas)
        self.timesteps = torch.from_numpy(ts).to(torch.int64)
        self.outputs, self.lower, self.i = [None] * c["solver_order"], 0, None

    def alpha_sigma(self, k):
        s = self.sigmas[k]
        a = 1 / ((s**2 + 1) ** 0.5)
        return a, s * a

    def threshold(self, x0):
        flat = x0.reshape(x0.shape[0], -1)
        s = torch.quantile(flat.abs(), self.c["dynamic_thresholding_ratio"], dim=1)
        s = torch.clamp(s, min=1, max=self.c["sample_max_value"]).unsqueeze(1)
        return (torch.clamp(flat, -s, s) / s).reshape(x0.shape)

    def convert(self, out, x):
        a, s = self.alpha_sigma(self.i)
        kind = self.c["prediction_type"]
        x0 = (x - s * out) / a if kind == "epsilon" else out if kind == "sample" else a * x - s * out
        if self.c["thresholding"]:
            x0 = self.threshold(x0)
        return (x - a * x0) / s

    def update(self, order, x):
        i, m = self.i, self.outputs
        a_t, s_t = self.alpha_sigma(i + 1)
        a_0, s_0 = self.alpha_sigma(i)
        if order == 1:
            h = (torch.log(a_t) - torch.log(s_t)) - (torch.log(a_0) - torch.log(s_0))
            return (a_t / a_0) * x - (s_t * (torch.exp(h) - 1.0)) * m[-1]
        rho = [s_t / a_t] + [s / a for a, s in (self.alpha_sigma(i - k) for k in range(order))]
        if order == 2:
            def ind(t, b, c):
                return t * (-np.log(c) + np.log(t) - 1) / (np.log(b) - np.log(c))
            r_t, r0, r1 = rho
            c1 = ind(r_t, r0, r1) - ind(r0, r0, r1)
            c2 = ind(r_t, r1, r0) - ind(r0, r1, r0)
            return a_t * (x / a_0 + c1 * m[-1] + c2 * m[-2])

        def ind(t, b, c, d):
            num = t * (np.log(c) * (np.log(d) - np.log(t) + 1) - np.log(d) * np.log(t) + np.log(d) + np.log(t) ** 2 - 2 * np.log(t) + 2)
            return num / ((np.log(b) - np.log(c)) * (np.log(b) - np.log(d)))
        r_t, r0, r1, r2 = rho
        c1 = ind(r_t, r0, r1, r2) - ind(r0, r0, r1, r2)
        c2 = ind(r_t, r1, r2, r0) - ind(r0, r1, r2, r0)
        c3 = ind(r_t, r2, r0, r1) - ind(r0, r2, r0, r1)
        return a_t * (x / a_0 + c1 * m[-1] + c2 * m[-2] + c3 * m[-3])

    def step(self, out, t, x):
        c, n = self.c, len(self.timesteps)
        if self.i is None:
            hits = (self.timesteps == t).nonzero()
            self.i = n - 1 if len(hits) == 0 else hits[1].item() if len(hits) > 1 else hits[0].item()
        lower_final = self.i == n - 1 and c["lower_order_final"] and n < 15
        lower_second = self.i == n - 2 and c["lower_order_final"] and n < 15
        out = self.convert(out, x)
        self.outputs = self.outputs[1:] + [out]
        order = c["solver_order"]
        if order == 1 or self.lower < 1 or lower_final:
            x = self.update(1, x)
        elif order == 2 or self.lower < 2 or lower_second:
            x = self.update(2, x)
        else:
            x = self.update(3, x)
        self.lower = min(self.lower + 1, order)
        self.i += 1
        return x


def run_loop(config, steps, t_start=None):
    s = Deis(**config)
    s.set_timesteps(steps)
    x, ts = sample_deter(), s.timesteps
    if t_start is not None:
        ts = ts[t_start:]
        i = (s.timesteps == ts[0]).nonzero()[0].item()
        a, sg = s.alpha_sigma(i)
        x = a * x + sg * sample_deter(flip=True)
    for t in ts:
        x = s.step(x * t / (t + 1), t, x)
    flat = x.reshape(-1)
    return dict(scheduler="deis", config=config, steps=steps, seed=None, t_start=t_start, timesteps=[int(t) for t in s.timesteps],
                sum=float(x.abs().sum()), mean=float(x.abs().mean()), slice_every_85=[float(v) for v in flat[::85][:9]])


def check_reference():
    """The values test_scheduler_deis.py asserts; the restatement above must reproduce them."""
    assert abs(run_loop({}, 10)["mean"] - 0.23916) < 1e-3
    assert abs(run_loop(dict(prediction_type="v_prediction"), 10)["mean"] - 0.091) < 1e-3
    got = run_loop({}, 10, t_start=8)
    assert abs(got["sum"] - 315.3016) < 1e-2 and abs(got["mean"] - 0.41054) < 1e-3, got


def main():
    check_reference()
    loops = [
        run_loop(dict(solver_order=3), 10),
        run_loop(dict(solver_order=3, lower_order_final=False), 20),
        run_loop(dict(solver_order=1, timestep_spacing="trailing"), 10),
        run_loop(dict(use_karras_sigmas=True), 10),
        run_loop(dict(use_exponential_sigmas=True, solver_order=3), 12),
        run_loop(dict(use_karras_sigmas=True, prediction_type="v_prediction", beta_schedule="scaled_linear", beta_start=0.00085, beta_end=0.012), 15),
        run_loop(dict(thresholding=True, prediction_type="sample", sample_max_value=0.5, solver_order=3), 10),
        run_loop(dict(timestep_spacing="leading", steps_offset=1, beta_schedule="squaredcos_cap_v2"), 25),
    ]
    json.dump(dict(generator=f"torch {torch.__version__}, numpy {np.__version__}", loops=loops), sys.stdout, indent=1)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
