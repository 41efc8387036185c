namespace Diffuse.ScoreSampling;

/// <summary>The predictor of a predictor-corrector sampler (Song et al. 2021, arXiv:2011.13456, Sec. 4.2).</summary>
public enum Predictor
{
    /// <summary><c>none</c>: corrector steps only.</summary>
    None,
    /// <summary><c>euler_maruyama</c>: one Euler-Maruyama step of the reverse SDE (Eq. 6).</summary>
    EulerMaruyama,
    /// <summary><c>reverse_diffusion</c>: the reverse of the SDE's own discretisation (Eq. 46-47, App. E).</summary>
    ReverseDiffusion,
}
