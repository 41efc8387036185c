#!/usr/bin/env python3
"""Golden values for Diffuse's likelihood tests (Likelihood/), computed with PyTorch.

Run with Debian's python3-torch (`apt-get install -y python3-torch`):

    /usr/bin/python3 tests/golden/make_likelihood_golden.py > tests/golden/likelihood.json

It restates improved-diffusion's losses.py (normal_kl, approx_standard_normal_cdf,
discretized_gaussian_log_likelihood) and the parts of gaussian_diffusion.py that the hybrid loss of a
learned_range model uses (q_sample, q_posterior_mean_variance, p_mean_variance, _vb_terms_bpd,
training_losses with LossType.RESCALED_MSE's vb * T / 1000 on top of MSE), in float64 over a schedule
whose alphas_cumprod are computed in float32 as diffusers does; beta_t is taken as 1 - abar_t / abar_{t-1}.
"""
import json
import math

import torch

torch.manual_seed(20240611)
D = torch.float64


def normal_kl(mean1, logvar1, mean2, logvar2):
    return 0.5 * (-1.0 + logvar2 - logvar1 + torch.exp(logvar1 - logvar2) + (mean1 - mean2) ** 2 * torch.exp(-logvar2))


def approx_standard_normal_cdf(x):
    return 0.5 * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * torch.pow(x, 3))))


def discretized_gaussian_log_likelihood(x, means, log_scales):
    centered_x = x - means
    inv_stdv = torch.exp(-log_scales)
    cdf_plus = approx_standard_normal_cdf(inv_stdv * (centered_x + 1.0 / 255.0))
    cdf_min = approx_standard_normal_cdf(inv_stdv * (centered_x - 1.0 / 255.0))
    log_cdf_plus = torch.log(cdf_plus.clamp(min=1e-12))
    log_one_minus_cdf_min = torch.log((1.0 - cdf_min).clamp(min=1e-12))
    cdf_delta = cdf_plus - cdf_min
    return torch.where(x < -0.999, log_cdf_plus,
                       torch.where(x > 0.999, log_one_minus_cdf_min, torch.log(cdf_delta.clamp(min=1e-12))))


def pixels(shape):
    return torch.randint(0, 256, shape).to(D) / 127.5 - 1


def mean_flat(x):
    return x.reshape(x.shape[0], -1).mean(dim=1)


def l(t):
    return t.reshape(-1).tolist()


out = {}

m1, lv1, m2, lv2 = torch.randn(8, dtype=D), torch.randn(8, dtype=D), torch.randn(8, dtype=D), torch.randn(8, dtype=D)
out["normal_kl"] = {"mean1": l(m1), "logvar1": l(lv1), "mean2": l(m2), "logvar2": l(lv2), "kl": l(normal_kl(m1, lv1, m2, lv2))}

x = pixels((10,))
x[0], x[1] = -1.0, 1.0
means = x + 0.1 * torch.randn(10, dtype=D)
log_scales = torch.linspace(-5, 0, 10, dtype=D)
out["discretized"] = {"x": l(x), "means": l(means), "log_scales": l(log_scales),
                      "log_probs": l(discretized_gaussian_log_likelihood(x, means, log_scales))}

# The hybrid loss of a learned_range epsilon model on [B, C, H, W] = [3, 2, 2, 2] 8-bit data over a 10-step linear schedule.
T, beta_start, beta_end = 10, 0.001, 0.2
betas32 = torch.linspace(beta_start, beta_end, T, dtype=torch.float32)
abar = torch.cumprod(1.0 - betas32, dim=0).to(D)
abar_prev = torch.cat([torch.ones(1, dtype=D), abar[:-1]])
betas = 1 - abar / abar_prev
alphas = 1 - betas
post_var = betas * (1 - abar_prev) / (1 - abar)
post_logvar_clipped = torch.log(torch.cat([post_var[1:2], post_var[1:]]))
coef_x0 = betas * abar_prev.sqrt() / (1 - abar)
coef_xt = (1 - abar_prev) * alphas.sqrt() / (1 - abar)

x0 = pixels((3, 2, 2, 2))
noise = torch.randn(3, 2, 2, 2, dtype=D)
t = torch.tensor([0, 4, 9])
eps_out = noise + 0.3 * torch.randn(3, 2, 2, 2, dtype=D)
v_out = torch.rand(3, 2, 2, 2, dtype=D) * 2 - 1
b = lambda table: table[t].view(-1, 1, 1, 1)
xt = b(abar).sqrt() * x0 + (1 - b(abar)).sqrt() * noise
true_mean = b(coef_x0) * x0 + b(coef_xt) * xt
frac = (v_out + 1) / 2
model_logvar = frac * b(torch.log(betas)) + (1 - frac) * b(post_logvar_clipped)
pred_x0 = (xt - (1 - b(abar)).sqrt() * eps_out) / b(abar).sqrt()
model_mean = b(coef_x0) * pred_x0 + b(coef_xt) * xt
kl = mean_flat(normal_kl(true_mean, b(post_logvar_clipped), model_mean, model_logvar)) / math.log(2.0)
decoder_nll = -mean_flat(discretized_gaussian_log_likelihood(x0, model_mean, 0.5 * model_logvar)) / math.log(2.0)
vb = torch.where(t == 0, decoder_nll, kl)
mse = mean_flat((noise - eps_out) ** 2)
out["hybrid"] = {
    "num_timesteps": T, "beta_start": beta_start, "beta_end": beta_end,
    "x0": l(x0), "noise": l(noise), "t": l(t), "eps": l(eps_out), "v": l(v_out),
    "vb_bits": l(vb), "mse": l(mse), "loss": l(mse + vb * T / 1000.0),
}

print(json.dumps(out, indent=1))
