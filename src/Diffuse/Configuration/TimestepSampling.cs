namespace Diffuse.Configuration;

/// <summary>How training draws its timesteps.</summary>
public enum TimestepSampling
{
    /// <summary><c>uniform</c>: t uniform on [0, T) (Ho et al. 2020, Algorithm 1).</summary>
    Uniform,
    /// <summary>
    /// <c>loss_aware</c>: importance-sampled by each timestep's recent losses (<c>LossAwareTimestepSampler</c>;
    /// Nichol &amp; Dhariwal 2021, arXiv:2102.09672, Eq. 18), the loss weighted by 1 / (T p_t).
    /// </summary>
    LossAware,
    /// <summary>
    /// <c>log_normal</c>: t drawn so that ln sigma(t) ~ N(P_mean, P_std^2) (<c>LogNormalTimesteps</c>; the noise levels EDM
    /// trains on, Karras et al. 2022, arXiv:2206.00364), without importance weights.
    /// </summary>
    LogNormal,
}

/// <summary>The timestep samplers' names as the command line spells them, for messages.</summary>
public static class TimestepSamplings
{
    /// <summary>uniform, loss-aware or lognormal.</summary>
    public static string Name(TimestepSampling sampling) => sampling switch
    {
        TimestepSampling.LossAware => "loss-aware",
        TimestepSampling.LogNormal => "lognormal",
        _ => "uniform",
    };
}
