#!/usr/bin/env python3
"""Golden values for Diffuse's Fréchet distance tests (FrechetDistanceTests), computed with PyTorch and SciPy.

Run with Debian's python3-torch and python3-scipy:

    /usr/bin/python3 tests/golden/make_frechet_golden.py > tests/golden/frechet.json

Each case draws two feature sets from torch.manual_seed(seed) (so the values are reproducible here), stores
them, and computes their Gaussian stats (mean, covariance with N - 1) and the squared Fréchet distance
|mu1 - mu2|^2 + Tr(S1 + S2 - 2 sqrtm(S1 S2)) with scipy.linalg.sqrtm, an independent route from Diffuse's
symmetric eigendecompositions. The few-samples case has singular covariances (N < F).
"""
import json
import sys

import numpy as np
import scipy
import scipy.linalg
import torch


def stats(f):
    f = f.astype(np.float64)
    return f.mean(0), np.cov(f, rowvar=False, ddof=1)


def frechet(mu1, s1, mu2, s2):
    covmean = scipy.linalg.sqrtm(s1 @ s2)
    covmean = covmean.real  # sqrtm of a product of PSD matrices has real eigenvalues; drop rounding's imaginary dust
    return float(((mu1 - mu2) ** 2).sum() + np.trace(s1) + np.trace(s2) - 2 * np.trace(covmean))


def case(seed, n1, n2, dim, shift, scale):
    torch.manual_seed(seed)
    a = torch.randn(n1, dim, dtype=torch.float64)
    mix = torch.randn(dim, dim, dtype=torch.float64) * 0.5
    b = torch.randn(n2, dim, dtype=torch.float64) @ (torch.eye(dim, dtype=torch.float64) * scale + mix) + shift
    a, b = a.numpy(), b.numpy()
    return {
        "seed": seed, "dim": dim,
        "features_a": a.round(6).tolist(), "features_b": b.round(6).tolist(),
        # Stats and distance of the rounded features actually stored.
        **_expected(np.array(a.round(6).tolist()), np.array(b.round(6).tolist())),
    }


def _expected(a, b):
    mu1, s1 = stats(a)
    mu2, s2 = stats(b)
    return {
        "mean_a": mu1.tolist(), "covariance_a_diagonal": np.diag(s1).tolist(),
        "frechet": frechet(mu1, s1, mu2, s2),
    }


cases = [
    case(0, 40, 50, 6, 0.3, 1.0),
    case(1, 200, 150, 8, -0.5, 1.7),
    case(2, 5, 7, 12, 0.1, 0.6),  # singular covariances
]
json.dump({"generator": f"torch {torch.__version__}, numpy {np.__version__}, scipy {scipy.__version__}", "cases": cases},
          sys.stdout, indent=1)
sys.stdout.write("\n")
