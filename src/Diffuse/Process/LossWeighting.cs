namespace Diffuse.Process;

/// <summary>How the per-timestep denoising loss is weighted.</summary>
public enum LossWeighting
{
    /// <summary><c>simple</c>: unweighted MSE on the model's target (L_simple of Ho et al. 2020).</summary>
    Simple,
    /// <summary><c>min_snr</c>: min-SNR-gamma weighting (Hang et al. 2023, arXiv:2303.09556).</summary>
    MinSnr,
}
