namespace Diffuse.Configuration;

/// <summary>How betas are laid out over the training timesteps (diffusers' <c>beta_schedule</c>).</summary>
public enum BetaSchedule
{
    /// <summary><c>linear</c>: betas evenly spaced from beta_start to beta_end (Ho et al. 2020).</summary>
    Linear,
    /// <summary><c>scaled_linear</c>: square roots of the betas evenly spaced (latent diffusion).</summary>
    ScaledLinear,
    /// <summary><c>squaredcos_cap_v2</c>: the cosine schedule of Nichol &amp; Dhariwal 2021, betas clipped at 0.999.</summary>
    SquaredcosCapV2,
    /// <summary><c>sigmoid</c>: betas following a sigmoid from beta_start to beta_end (GeoDiff).</summary>
    Sigmoid,
}
