#!/usr/bin/env python3
"""Golden values for Diffuse's dpmpp_2s and dpmpp_2s_ancestral schedulers, computed with PyTorch.

Run with Debian's python3-torch (PyTorch 1.13):

    /usr/bin/python3 tests/golden/make_dpmpp_2s_golden.py > tests/golden/dpmpp_2s.json

diffusers and k-diffusion are not installable here, so this script restates, in a few lines of PyTorch each,
(1) diffusers' DPMSolverSinglestepScheduler (`set_timesteps`, `get_order_list`, `convert_model_output`, the
first/second/third-order singlestep updates, `step`, `add_noise`) with its float32 tensor arithmetic, checked
against the values diffusers' tests/schedulers/test_scheduler_dpm_single.py asserts before anything is written;
(2) k-diffusion's `sample_dpmpp_2s_ancestral` loop (eta 1, s_noise 1) over the sigmas that diffusers'
KDPM2AncestralDiscreteScheduler would use, with a deterministic denoiser and the noise drawn from one
torch.Generator in k-diffusion's order (one randn of the sample's shape per step after its second model call,
none when sigma_{i+1} = 0).
"""
import json
import math
import sys

import numpy as np
import torch

T = 1000


def sample_deter(flip=False):
    n = torch.arange(768, dtype=torch.float32)
    if flip:
        n = n.flip(0)
    return (n.reshape(3, 8, 8, 4) / 768).permute(3, 0, 1, 2)


def model(x, t):
    return x * t / (t + 1)


def betas_for(schedule, n=T, start=0.0001, end=0.02):
    if schedule == "linear":
        return torch.linspace(start, end, n, dtype=torch.float32)
    if schedule == "scaled_linear":
        return torch.linspace(start**0.5, end**0.5, n, dtype=torch.float32) ** 2
    f = lambda s: math.cos((s + 0.008) / 1.008 * math.pi / 2) ** 2
    return torch.tensor([min(1 - f((i + 1) / n) / f(i / n), 0.999) for i in range(n)], dtype=torch.float32)


def sigma_to_t(sigma, log_sigmas):
    log_sigma = np.log(np.maximum(sigma, 1e-10))
    dists = log_sigma - log_sigmas[:, np.newaxis]
    low = np.cumsum((dists >= 0), axis=0).argmax(axis=0).clip(max=log_sigmas.shape[0] - 2)
    w = np.clip((log_sigmas[low] - log_sigma) / (log_sigmas[low] - log_sigmas[low + 1]), 0, 1)
    return ((1 - w) * low + w * (low + 1)).reshape(np.shape(sigma))


def karras(lo, hi, n, rho=7.0):
    ramp = np.linspace(0, 1, n)
    return (hi ** (1 / rho) + ramp * (lo ** (1 / rho) - hi ** (1 / rho))) ** rho


def exponential(lo, hi, n):
    return np.exp(np.linspace(math.log(hi), math.log(lo), n))


class Singlestep:
    """diffusers' DPMSolverSinglestepScheduler, restated."""

    def __init__(self, **kw):
        c = dict(beta_schedule="linear", beta_start=0.0001, beta_end=0.02, solver_order=2, prediction_type="epsilon", thresholding=False,
                 dynamic_thresholding_ratio=0.995, sample_max_value=1.0, algorithm_type="dpmsolver++",
                 solver_type="midpoint", lower_order_final=False, use_karras_sigmas=False,
                 use_exponential_sigmas=False, final_sigmas_type="zero", lambda_min_clipped=-float("inf"))
        c.update(kw)
        self.c = c
        self.abar = torch.cumprod(1.0 - betas_for(c["beta_schedule"], T, c["beta_start"], c["beta_end"]), dim=0)
        self.lambda_t = torch.log(torch.sqrt(self.abar)) - torch.log(torch.sqrt(1 - self.abar))

    def set_timesteps(self, n):
        c = self.c
        clipped = torch.searchsorted(torch.flip(self.lambda_t, [0]), c["lambda_min_clipped"]).item()
        ts = np.linspace(0, T - 1 - clipped, n + 1).round()[::-1][:-1].copy().astype(np.int64)
        sigmas = np.array(((1 - self.abar) / self.abar) ** 0.5)
        log_sigmas = np.log(sigmas)
        if c["use_karras_sigmas"]:
            sigmas = karras(sigmas[0].item(), sigmas[-1].item(), n)
            ts = np.array([sigma_to_t(s, log_sigmas) for s in sigmas]).round()
        elif c["use_exponential_sigmas"]:
            sigmas = exponential(sigmas[0].item(), sigmas[-1].item(), n)
            ts = np.array([sigma_to_t(s, log_sigmas) for s in sigmas])
        else:
            sigmas = np.interp(ts, np.arange(0, len(sigmas)), sigmas)
        last = ((1 - self.abar[0]) / self.abar[0]) ** 0.5 if c["final_sigmas_type"] == "sigma_min" else 0
        self.sigmas = torch.from_numpy(np.concatenate([sigmas, [last]]).astype(np.float32))
        self.timesteps = torch.from_numpy(ts).to(torch.int64)
        lower = c["lower_order_final"] or n % c["solver_order"] != 0 or c["final_sigmas_type"] == "zero"
        self.orders = self.order_list(n, c["solver_order"], lower)
        self.outputs = [None] * c["solver_order"]
        self.sample = None
        self.index = None

    def order_list(self, steps, order, lower):
        if lower:
            if order == 3:
                o = ([1, 2, 3] * (steps // 3 - 1) + [1, 2] + [1]) if steps % 3 == 0 else \
                    ([1, 2, 3] * (steps // 3) + [1]) if steps % 3 == 1 else ([1, 2, 3] * (steps // 3) + [1, 2])
            elif order == 2:
                o = ([1, 2] * (steps // 2 - 1) + [1, 1]) if steps % 2 == 0 else ([1, 2] * (steps // 2) + [1])
            else:
                o = [1] * steps
        else:
            o = {3: [1, 2, 3] * (steps // 3), 2: [1, 2] * (steps // 2), 1: [1] * steps}[order]
        if self.c["final_sigmas_type"] == "zero":
            o[-1] = 1
        return o

    @staticmethod
    def alpha_sigma(sigma):
        a = 1 / ((sigma**2 + 1) ** 0.5)
        return a, sigma * a

    def threshold(self, x):
        b = x.shape[0]
        flat = x.reshape(b, -1)
        s = torch.quantile(flat.abs(), self.c["dynamic_thresholding_ratio"], dim=1)
        s = torch.clamp(s, min=1, max=self.c["sample_max_value"]).unsqueeze(1)
        return (torch.clamp(flat, -s, s) / s).reshape(x.shape)

    def convert(self, out, x):
        c = self.c
        a, s = self.alpha_sigma(self.sigmas[self.index])
        kind = c["prediction_type"]
        x0 = (x - s * out) / a if kind == "epsilon" else out if kind == "sample" else a * x - s * out
        if c["algorithm_type"] != "dpmsolver":
            return self.threshold(x0) if c["thresholding"] else x0
        eps = out if kind == "epsilon" else (x - a * out) / s if kind == "sample" else a * out + s * x
        if c["thresholding"]:  # diffusers fails here (alpha_t[None]); the step's sigma, as the multistep solver
            eps = (x - a * self.threshold((x - s * eps) / a)) / s
        return eps

    def update(self, order, noise):
        c, i, m = self.c, self.index, self.outputs
        sg = [self.sigmas[i + 1]] + [self.sigmas[i - k] for k in range(order)]  # t, s0, s1, s2
        al = [self.alpha_sigma(v) for v in sg]
        lam = [torch.log(a) - torch.log(s) for a, s in al]
        (at, st), (a_s, s_s) = al[0], al[order]
        h = lam[0] - lam[order]
        x = self.sample
        algo, mid = c["algorithm_type"], c["solver_type"] == "midpoint"
        if algo == "dpmsolver++":
            base = (st / s_s) * x - (at * (torch.exp(-h) - 1.0)) * m[-order]
            c1 = at * ((torch.exp(-h) - 1.0) / h + 1.0)
            c2 = -(at * ((torch.exp(-h) - 1.0 + h) / h**2 - 0.5))
            half = -0.5 * (at * (torch.exp(-h) - 1.0))
        elif algo == "dpmsolver":
            base = (at / a_s) * x - (st * (torch.exp(h) - 1.0)) * m[-order]
            c1 = -(st * ((torch.exp(h) - 1.0) / h - 1.0))
            c2 = -(st * ((torch.exp(h) - 1.0 - h) / h**2 - 0.5))
            half = -0.5 * (st * (torch.exp(h) - 1.0))
        else:
            base = (st / s_s * torch.exp(-h)) * x + (at * (1 - torch.exp(-2.0 * h))) * m[-order] \
                + st * torch.sqrt(1.0 - torch.exp(-2 * h)) * noise
            c1 = at * ((1.0 - torch.exp(-2.0 * h)) / (-2.0 * h) + 1.0)
            c2 = None  # third-order heun: diffusers' coefficient has a sign error; not restated
            half = 0.5 * (at * (1 - torch.exp(-2.0 * h)))
        if order == 1:
            return base
        if order == 2:
            r0 = (lam[1] - lam[2]) / h
            d1 = (1.0 / r0) * (m[-1] - m[-2])
            return base + (half if mid else c1) * d1
        r0, r1 = (lam[1] - lam[3]) / h, (lam[2] - lam[3]) / h
        d1_0, d1_1 = (1.0 / r1) * (m[-2] - m[-3]), (1.0 / r0) * (m[-1] - m[-3])
        if mid:
            return base + c1 * d1_1
        d1 = (r0 * d1_0 - r1 * d1_1) / (r0 - r1)
        d2 = 2.0 * (d1_1 - d1_0) / (r0 - r1)
        return base + c1 * d1 + c2 * d2

    def step(self, out, t, x, g=None):
        if self.index is None:
            cand = (self.timesteps == t).nonzero()
            self.index = cand[1].item() if len(cand) > 1 else cand[0].item()
        out = self.convert(out, x)
        self.outputs = self.outputs[1:] + [out]
        noise = torch.randn(out.shape, generator=g) if self.c["algorithm_type"] == "sde-dpmsolver++" else None
        order = self.orders[self.index]
        while self.outputs[-order] is None:
            order -= 1
        if order == 1:
            self.sample = x
        prev = self.update(order, noise)
        self.index += 1
        return prev

    def add_noise(self, x0, noise, t):
        cand = (self.timesteps == t).nonzero()
        k = cand[1].item() if len(cand) > 1 else cand[0].item()
        a, s = self.alpha_sigma(self.sigmas[k])
        return a * x0 + s * noise


def singlestep_loop(config, n=10, start=0, noisy=False, seed=None):
    s = Singlestep(**config)
    s.set_timesteps(n)
    ts = s.timesteps[start:]
    x = sample_deter()
    if noisy:
        x = s.add_noise(x, sample_deter(flip=True), ts[0])
    g = torch.Generator().manual_seed(seed) if seed is not None else None
    for t in ts:
        x = s.step(model(x, t), t, x, g)
    return x, s


def check_reference():
    # diffusers' test_scheduler_dpm_single.py: get_scheduler_config() has final_sigmas_type sigma_min.
    base = dict(final_sigmas_type="sigma_min")
    means = [({}, 0.2791), (dict(use_karras_sigmas=True), 0.2248), (dict(prediction_type="v_prediction"), 0.1453),
             (dict(prediction_type="v_prediction", use_karras_sigmas=True), 0.0649)]
    for extra, mean in means:
        x, _ = singlestep_loop({**base, **extra})
        assert abs(x.abs().mean().item() - mean) < 1e-3, (extra, x.abs().mean().item(), mean)
    x, _ = singlestep_loop(base, n=50, start=3)
    assert abs(x.abs().mean().item() - 0.2574) < 1e-3, x.abs().mean().item()
    x, _ = singlestep_loop(base, start=5, noisy=True)
    assert abs(x.abs().sum().item() - 269.2187) < 1e-2 and abs(x.abs().mean().item() - 0.3505) < 1e-3, x.abs().sum().item()


SINGLESTEP_CASES = [
    # (config, steps, start, noisy, seed)
    (dict(final_sigmas_type="sigma_min"), 10, 0, False, None),
    (dict(final_sigmas_type="sigma_min", use_karras_sigmas=True), 10, 0, False, None),
    (dict(final_sigmas_type="sigma_min", prediction_type="v_prediction"), 10, 0, False, None),
    (dict(final_sigmas_type="sigma_min", prediction_type="v_prediction", use_karras_sigmas=True), 10, 0, False, None),
    (dict(final_sigmas_type="sigma_min"), 50, 3, False, None),
    (dict(final_sigmas_type="sigma_min"), 10, 5, True, None),
    ({}, 10, 0, False, None),
    ({}, 25, 0, False, None),
    (dict(final_sigmas_type="sigma_min", lower_order_final=True), 10, 0, False, None),
    (dict(final_sigmas_type="sigma_min", solver_order=1), 10, 0, False, None),
    (dict(final_sigmas_type="sigma_min", solver_order=3), 12, 0, False, None),
    (dict(final_sigmas_type="sigma_min", solver_order=3), 10, 0, False, None),
    (dict(solver_order=3), 12, 0, False, None),
    (dict(final_sigmas_type="sigma_min", solver_order=3, solver_type="heun"), 12, 0, False, None),
    (dict(final_sigmas_type="sigma_min", solver_type="heun"), 10, 0, False, None),
    (dict(final_sigmas_type="sigma_min", solver_order=3), 10, 4, False, None),
    (dict(final_sigmas_type="sigma_min", algorithm_type="dpmsolver"), 10, 0, False, None),
    (dict(final_sigmas_type="sigma_min", algorithm_type="dpmsolver", solver_order=3, solver_type="heun"), 12, 0, False, None),
    (dict(final_sigmas_type="sigma_min", algorithm_type="dpmsolver", prediction_type="sample"), 10, 0, False, None),
    (dict(final_sigmas_type="sigma_min", prediction_type="sample"), 10, 0, False, None),
    (dict(final_sigmas_type="sigma_min", use_exponential_sigmas=True), 10, 0, False, None),
    (dict(thresholding=True, sample_max_value=0.5), 10, 0, False, None),
    (dict(final_sigmas_type="sigma_min", thresholding=True, sample_max_value=2.0, solver_order=3, solver_type="heun", prediction_type="sample"), 12, 0, False, None),
    (dict(final_sigmas_type="sigma_min", algorithm_type="dpmsolver", thresholding=True, sample_max_value=0.5), 10, 0, False, None),
    (dict(beta_schedule="squaredcos_cap_v2", lambda_min_clipped=-5.1), 10, 0, False, None),
    (dict(beta_schedule="scaled_linear", beta_end=0.012, beta_start=0.00085), 10, 0, False, None),
    (dict(algorithm_type="sde-dpmsolver++"), 10, 0, False, 0),
    (dict(algorithm_type="sde-dpmsolver++", solver_order=1, final_sigmas_type="sigma_min"), 10, 0, False, 0),
    (dict(algorithm_type="sde-dpmsolver++", solver_type="heun", use_karras_sigmas=True), 10, 0, False, 0),
    (dict(algorithm_type="sde-dpmsolver++", solver_order=3, final_sigmas_type="sigma_min"), 12, 0, False, 0),
]


def singlestep_entries():
    out = []
    for config, n, start, noisy, seed in SINGLESTEP_CASES:
        x, s = singlestep_loop(config, n, start, noisy, seed)
        a = x.abs()
        out.append(dict(config=config, steps=n, start=start, noisy=noisy, seed=seed,
                        timesteps=s.timesteps.tolist(), orders=s.orders,
                        sum=a.sum().item(), mean=a.mean().item(), slice=x.flatten()[::97].tolist()))
    return out


# --- k-diffusion's sample_dpmpp_2s_ancestral -------------------------------------------------------------

def kdpm2_sigmas(n, karras_sigmas=False):
    """The sigmas (float32, ending at 0) and log sigmas of diffusers' KDPM2AncestralDiscreteScheduler, linspace spacing."""
    abar = torch.cumprod(1.0 - betas_for("linear"), dim=0)
    sigmas = np.array(((1 - abar) / abar) ** 0.5)
    log_sigmas = np.log(sigmas)
    ts = np.linspace(0, T - 1, n, dtype=np.float64)[::-1].copy()
    s = np.interp(ts, np.arange(0, len(sigmas)), sigmas)
    if karras_sigmas:
        s = karras(s[-1].item(), s[0].item(), n)
        ts = np.array([sigma_to_t(v, log_sigmas) for v in s]).round()
    return torch.from_numpy(np.concatenate([s, [0.0]]).astype(np.float32)), ts.astype(np.float32), log_sigmas


def ancestral_step(sigma_from, sigma_to):
    up = min(sigma_to, (sigma_to**2 * (sigma_from**2 - sigma_to**2) / sigma_from**2) ** 0.5)
    return (sigma_to**2 - up**2) ** 0.5, up


def f(u):
    """The test's eps model: deterministic, nonlinear, independent of t (tests/Diffuse.Tests: DpmPp2SAncestralSchedulerTests)."""
    return 0.8 * u + 0.3 * torch.sin(3 * u)


def denoiser(kind):
    def d(x, sigma):
        a = 1 / (sigma**2 + 1) ** 0.5
        out = f(x * a)
        if kind == "epsilon":
            return x - sigma * out
        if kind == "sample":
            return out
        return a * a * x - sigma * a * out  # v: x0 = alpha u - sigma_t v, u = alpha x, sigma_t = sigma alpha
    return d


def sample_dpmpp_2s_ancestral(model, x, sigmas, noise_sampler):
    """k-diffusion/sampling.py sample_dpmpp_2s_ancestral, eta 1, s_noise 1 (restated)."""
    sigma_fn = lambda t: t.neg().exp()
    t_fn = lambda sigma: sigma.log().neg()
    for i in range(len(sigmas) - 1):
        denoised = model(x, sigmas[i])
        sigma_down, sigma_up = ancestral_step(sigmas[i], sigmas[i + 1])
        if sigma_down == 0:
            x = x + (x - denoised) / sigmas[i] * (sigma_down - sigmas[i])
        else:
            t, t_next = t_fn(sigmas[i]), t_fn(sigma_down)
            h = t_next - t
            s = t + 0.5 * h
            x_2 = (sigma_fn(s) / sigma_fn(t)) * x - (-h * 0.5).expm1() * denoised
            denoised_2 = model(x_2, sigma_fn(s))
            x = (sigma_fn(t_next) / sigma_fn(t)) * x - (-h).expm1() * denoised_2
        if sigmas[i + 1] > 0:
            x = x + noise_sampler(sigmas[i], sigmas[i + 1]) * sigma_up
    return x


def ancestral_entries():
    out = []
    for kind, n, karras_sigmas, seed in [("epsilon", 10, False, 0), ("epsilon", 10, True, 0), ("v_prediction", 10, False, 1),
                                         ("sample", 7, False, 2), ("epsilon", 1, False, 0), ("epsilon", 50, False, 5)]:
        sigmas, ts, log_sigmas = kdpm2_sigmas(n, karras_sigmas)
        g = torch.Generator().manual_seed(seed)
        x0 = sample_deter() * 2 - 1
        x = x0 * sigmas[0]
        x = sample_dpmpp_2s_ancestral(denoiser(kind), x, sigmas, lambda s, sn: torch.randn(x.shape, generator=g))
        mids = [math.sqrt(sigmas[i].item() * ancestral_step(sigmas[i], sigmas[i + 1])[0].item()) for i in range(n - 1)]
        mid_ts = [float(sigma_to_t(np.float32(m), log_sigmas)) for m in mids]
        timesteps = [float(ts[0])] + [v for i in range(1, n) for v in (mid_ts[i - 1], float(ts[i]))]
        a = x.abs()
        out.append(dict(prediction_type=kind, steps=n, use_karras_sigmas=karras_sigmas, seed=seed,
                        timesteps=timesteps, sum=a.sum().item(), mean=a.mean().item(), slice=x.flatten()[::97].tolist()))
    return out


def main():
    torch.set_num_threads(1)
    check_reference()
    doc = dict(generator=f"torch {torch.__version__}, numpy {np.__version__}",
               singlestep=singlestep_entries(), ancestral=ancestral_entries())
    json.dump(doc, sys.stdout, indent=1)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
