namespace Diffuse.Sampling;

/// <summary>The variance of the DDPM reverse step (diffusers' <c>variance_type</c>).</summary>
public enum VarianceType
{
    /// <summary><c>fixed_small</c>: the posterior variance beta-tilde_t (Ho et al. 2020, sigma_t^2 = beta-tilde_t).</summary>
    FixedSmall,
    /// <summary><c>fixed_large</c>: beta_t (Ho et al. 2020, sigma_t^2 = beta_t).</summary>
    FixedLarge,
}
