namespace Diffuse.Configuration;

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
    /// <summary>
    /// <c>likelihood</c>: a continuous-time SDE model's score-matching loss weighted by lambda(t) = g(t)^2, which makes it a bound
    /// on the negative log-likelihood (Song et al. 2021, arXiv:2101.09258, Thm. 1; score_sde's <c>likelihood_weighting</c>).
    /// SDE models only (<c>Training.ScoreMatchingObjective</c>).
    /// </summary>
    Likelihood,
}
