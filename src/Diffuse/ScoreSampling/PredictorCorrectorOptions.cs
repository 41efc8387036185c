namespace Diffuse.ScoreSampling;

/// <summary>
/// Settings of <see cref="PredictorCorrectorSampler"/> (Song et al. 2021, arXiv:2011.13456, Algorithm 1; the
/// defaults are score_sde's). The SDE's own N = <see cref="Process.Sde.DiscreteSteps"/> predictor steps run on a uniform
/// grid from T down to <see cref="Eps"/> (the reverse-diffusion predictor reverses that N-step chain), each after <see cref="CorrectorSteps"/> Langevin steps at signal-to-noise ratio
/// <see cref="Snr"/>; with <see cref="Denoise"/> the last step's noise-free mean is returned.
/// </summary>
public sealed record PredictorCorrectorOptions
{
    public Predictor Predictor { get; init; } = Predictor.ReverseDiffusion;
    public int CorrectorSteps { get; init; } = 1;
    public double Snr { get; init; } = 0.16;
    public double Eps { get; init; } = 1e-3;
    public bool Denoise { get; init; } = true;

    public void Validate()
    {
        if (CorrectorSteps < 0) throw new DiffuseException($"corrector steps must be 0 or more, got {CorrectorSteps}");
        if (Predictor == Predictor.None && CorrectorSteps == 0) throw new DiffuseException("a sampler needs a predictor or corrector steps");
        if (!(Eps > 0 && Eps < 1)) throw new DiffuseException($"the sampler's end time eps must lie in (0, 1), got {Eps}");
        if (CorrectorSteps > 0 && !(Snr > 0)) throw new DiffuseException($"the Langevin corrector's signal-to-noise ratio must be positive, got {Snr}");
    }
}
