namespace Diffuse.Configuration;

/// <summary>
/// The variance of the DDPM reverse step (diffusers' <c>variance_type</c>). beta_t is the step's beta
/// 1 - abar_t / abar_prev and beta-tilde_t the posterior variance (1 - abar_prev) / (1 - abar_t) beta_t
/// (Ho et al. 2020, arXiv:2006.11239, Eq. 7), clamped at 1e-20 as diffusers does before any log.
/// </summary>
public enum VarianceType
{
    /// <summary><c>fixed_small</c>: sigma_t^2 = beta-tilde_t (Ho et al. 2020, Sec. 3.2).</summary>
    FixedSmall,
    /// <summary><c>fixed_small_log</c>: beta-tilde_t through its log, std exp(0.5 log beta-tilde_t) (diffusers' rl-diffuser variant); the same noise as <c>fixed_small</c>.</summary>
    FixedSmallLog,
    /// <summary><c>fixed_large</c>: sigma_t^2 = beta_t (Ho et al. 2020, Sec. 3.2).</summary>
    FixedLarge,
    /// <summary>
    /// <c>fixed_large_log</c>: GLIDE's "max_log", log sigma_t^2 = log beta_t, so std sqrt(beta_t) (the noise of
    /// <c>fixed_large</c>). diffusers' step takes the square root of the log itself, a NaN for every beta_t &lt; 1;
    /// Diffuse follows the meaning, not that slip.
    /// </summary>
    FixedLargeLog,
    /// <summary>
    /// <c>learned</c>: the model outputs 2C channels, the second C being the variance itself; std = sqrt(v)
    /// elementwise, as diffusers (a negative v gives NaN there too).
    /// </summary>
    Learned,
    /// <summary>
    /// <c>learned_range</c>: the model outputs 2C channels, the second C being v in [-1, 1] that interpolates the
    /// log-variance between the bounds: log sigma_t^2 = frac log beta_t + (1 - frac) log beta-tilde_t with
    /// frac = (v + 1) / 2 (Nichol &amp; Dhariwal 2021, arXiv:2102.09672, Eq. 15); std = exp(0.5 log sigma_t^2).
    /// </summary>
    LearnedRange,
}
