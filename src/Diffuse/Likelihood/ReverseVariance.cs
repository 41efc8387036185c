namespace Diffuse.Likelihood;

/// <summary>
/// The variance Sigma_t of the reverse step p(x_{t-1} | x_t) in the variational bound. (The DDPM sampler's
/// <c>VarianceType</c> names the same choices for sampling.)
/// </summary>
public enum ReverseVariance
{
    /// <summary><c>fixed_small</c>: beta-tilde_t, the posterior variance (Ho et al. 2020, Sec. 3.2), its log clipped at t = 0.</summary>
    FixedSmall,
    /// <summary><c>fixed_large</c>: beta_t, with beta-tilde_1 at t = 0 (improved-diffusion's choice, for a good decoder).</summary>
    FixedLarge,
    /// <summary>
    /// <c>learned_range</c>: the model outputs 2C channels, the second C being v, and log Sigma_t = frac log beta_t +
    /// (1 - frac) log beta-tilde_t with frac = (v + 1) / 2 (Nichol &amp; Dhariwal 2021, arXiv:2102.09672, Eq. 15).
    /// </summary>
    LearnedRange,
}
