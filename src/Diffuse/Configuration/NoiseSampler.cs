namespace Diffuse.Configuration;

/// <summary>
/// Where a stochastic sampler's step noise comes from (<c>noise_sampler</c>, a Diffuse key, not a diffusers one;
/// diffusers always draws fresh noise).
/// </summary>
public enum NoiseSampler
{
    /// <summary><c>gaussian</c>: a fresh standard normal draw from the run's generator at every step, as diffusers.</summary>
    Gaussian,
    /// <summary>
    /// <c>brownian_tree</c>: the normalised increment of one Brownian motion over each step's sigma interval
    /// (k-diffusion's <c>BrownianTreeNoiseSampler</c>), seeded once from the run's generator, so that a run
    /// of more steps refines the same noise path and the sample changes smoothly with the step count.
    /// </summary>
    BrownianTree,
}
