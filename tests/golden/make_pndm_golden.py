#!/usr/bin/env python3
"""Golden values for Diffuse's `pndm` scheduler, computed with PyTorch.

Run with Debian's python3-torch (PyTorch 1.13; `apt-get install -y python3-torch`):

    /usr/bin/python3 tests/golden/make_pndm_golden.py > tests/golden/pndm.json

diffusers is not installable here, so this script restates diffusers' PNDMScheduler (`__init__` tables,
`set_timesteps`, `step_prk`, `step_plms`, `_get_prev_sample`) with its float32 tensor arithmetic and its
mutable state, and checks the restatement against the values diffusers' own tests assert
(tests/schedulers/test_scheduler_pndm.py) before anything is written. The loops are loop A of
shared/reference/scheduler-vectors.md (sample_deter, model x * t / (t + 1)) over `scheduler.timesteps`
through `step`, for configs those tests do not cover.
"""
import json
import sys

import numpy as np
import torch

from make_golden import betas_for, sample_deter

DEFAULTS = dict(num_train_timesteps=1000, beta_start=0.0001, beta_end=0.02, beta_schedule="linear", skip_prk_steps=False,
                set_alpha_to_one=False, prediction_type="epsilon", timestep_spacing="leading", steps_offset=0)


class Pndm:
    def __init__(self, **config):
        self.c = c = dict(DEFAULTS, **config)
        betas = betas_for(c["beta_schedule"], c["num_train_timesteps"], c["beta_start"], c["beta_end"], False)
        self.abar = torch.cumprod(1.0 - betas, dim=0)
        self.final = torch.tensor(1.0) if c["set_alpha_to_one"] else self.abar[0]

    def set_timesteps(self, n):
        c, T = self.c, self.c["num_train_timesteps"]
        self.n = n
        if c["timestep_spacing"] == "linspace":
            ts = np.linspace(0, T - 1, n).round().astype(np.int64)
        elif c["timestep_spacing"] == "leading":
            ts = (np.arange(0, n) * (T // n)).round() + c["steps_offset"]
        else:
            ts = np.round(np.arange(T, 0, -T / n))[::-1].astype(np.int64) - 1
        if c["skip_prk_steps"]:
            self.prk = np.array([])
            self.plms = np.concatenate([ts[:-1], ts[-2:-1], ts[-1:]])[::-1].copy()
        else:
            prk = np.array(ts[-4:]).repeat(2) + np.tile(np.array([0, T // n // 2]), 4)
            self.prk = prk[:-1].repeat(2)[1:-1][::-1].copy()
            self.plms = ts[:-3][::-1].copy()
        self.timesteps = np.concatenate([self.prk, self.plms]).astype(np.int64)
        self.ets, self.counter, self.cur_model_output, self.cur_sample = [], 0, 0, None

    def step(self, out, t, x):
        if self.counter < len(self.prk) and not self.c["skip_prk_steps"]:
            return self.step_prk(out, t, x)
        return self.step_plms(out, t, x)

    def step_prk(self, out, t, x):
        diff = 0 if self.counter % 2 else self.c["num_train_timesteps"] // self.n // 2
        prev, t = t - diff, self.prk[self.counter // 4 * 4]
        phase = self.counter % 4
        if phase == 0:
            self.cur_model_output += 1 / 6 * out
            self.ets.append(out)
            self.cur_sample = x
        elif phase in (1, 2):
            self.cur_model_output += 1 / 3 * out
        else:
            out = self.cur_model_output + 1 / 6 * out
            self.cur_model_output = 0
        sample = self.cur_sample if self.cur_sample is not None else x
        self.counter += 1
        return self.prev_sample(sample, t, prev, out)

    def step_plms(self, out, t, x):
        stride = self.c["num_train_timesteps"] // self.n
        prev = t - stride
        if self.counter != 1:
            self.ets = self.ets[-3:]
            self.ets.append(out)
        else:
            prev, t = t, t + stride
        e = self.ets
        if len(e) == 1 and self.counter == 0:
            self.cur_sample = x
        elif len(e) == 1 and self.counter == 1:
            out = (out + e[-1]) / 2
            x, self.cur_sample = self.cur_sample, None
        elif len(e) == 2:
            out = (3 * e[-1] - e[-2]) / 2
        elif len(e) == 3:
            out = (23 * e[-1] - 16 * e[-2] + 5 * e[-3]) / 12
        else:
            out = (1 / 24) * (55 * e[-1] - 59 * e[-2] + 37 * e[-3] - 9 * e[-4])
        self.counter += 1
        return self.prev_sample(x, t, prev, out)

    def prev_sample(self, x, t, prev, out):
        a = self.abar[t]
        a_prev = self.abar[prev] if prev >= 0 else self.final
        if self.c["prediction_type"] == "v_prediction":
            out = a**0.5 * out + (1 - a) ** 0.5 * x
        denom = a * (1 - a_prev) ** 0.5 + (a * (1 - a) * a_prev) ** 0.5
        return (a_prev / a) ** 0.5 * x - (a_prev - a) * out / denom


def run_loop(config, steps):
    s = Pndm(**config)
    s.set_timesteps(steps)
    x = sample_deter()
    for t in s.timesteps:
        x = s.step(x * t / (t + 1), int(t), x)
    flat = x.reshape(-1)
    return dict(scheduler="pndm", config=config, steps=steps, seed=None, timesteps=[int(t) for t in s.timesteps],
                sum=float(x.abs().sum()), mean=float(x.abs().mean()), slice_every_85=[float(v) for v in flat[::85][:9]])


def check_reference():
    """The values test_scheduler_pndm.py asserts; the restatement above must reproduce them."""
    for config, want in (({}, 198.1318), (dict(prediction_type="v_prediction"), 67.3986),
                         (dict(set_alpha_to_one=True, beta_start=0.01), 230.0399), (dict(set_alpha_to_one=False, beta_start=0.01), 186.9482)):
        got = run_loop(config, 10)["sum"]
        assert abs(got - want) < 1e-2, (config, got)
    s = Pndm(steps_offset=1)
    s.set_timesteps(10)
    assert list(s.timesteps) == [901, 851, 851, 801, 801, 751, 751, 701, 701, 651, 651, 601, 601, 501, 401, 301, 201, 101, 1]


def main():
    check_reference()
    loops = [
        run_loop(dict(skip_prk_steps=True), 10),
        run_loop(dict(skip_prk_steps=True, prediction_type="v_prediction", timestep_spacing="trailing"), 10),
        run_loop(dict(skip_prk_steps=True, beta_schedule="scaled_linear", beta_start=0.00085, beta_end=0.012, steps_offset=1, set_alpha_to_one=True), 25),
        run_loop(dict(skip_prk_steps=True), 1),
        run_loop(dict(timestep_spacing="linspace"), 7),
        run_loop(dict(beta_schedule="squaredcos_cap_v2", steps_offset=1), 8),
        run_loop(dict(timestep_spacing="trailing", prediction_type="v_prediction", set_alpha_to_one=True), 4),
        run_loop(dict(num_train_timesteps=100, steps_offset=1), 27),
    ]
    json.dump(dict(generator=f"torch {torch.__version__}, numpy {np.__version__}", loops=loops), sys.stdout, indent=1)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
