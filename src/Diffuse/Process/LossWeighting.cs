namespace Diffuse.Process;

/// <summary>How the per-timestep denoising loss is weighted.</summary>
public enum LossWeighting
{
    /// <summary><c>simple</c>: unweighted MSE on the model's target (L_simple of Ho et al. 2020).</summary>
    Simple,
    /// <summary><c>min_snr</c>: min-SNR-gamma weighting (Hang et al. 2023, arXiv:2303.09556).</summary>
    MinSnr,
    /// <summary>
    /// <c>hybrid</c>: L_simple + lambda L_vlb for a model with <c>learned_range</c> variances (Nichol &amp; Dhariwal 2021,
    /// arXiv:2102.09672, Eq. 16); it needs the model's variance channels, so <c>Training.TrainingObjective</c> computes it.
    /// </summary>
    Hybrid,
}
