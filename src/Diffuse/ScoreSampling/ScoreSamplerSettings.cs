using Diffuse.Ode;

namespace Diffuse.ScoreSampling;

/// <summary>
/// What <see cref="ScoreSamplers.Run"/> runs: a sampler by name (<see cref="ScoreSamplers.Names"/>) and its settings.
/// <see cref="Steps"/> is N, the predictor steps of the SDE's discretisation (the caller builds the SDE with
/// <see cref="Process.Sde.WithDiscreteSteps"/>), or the noise levels of annealed Langevin dynamics; the probability-flow
/// ODE ignores it and adapts its steps to <see cref="Tolerances"/>.
/// </summary>
public sealed record ScoreSamplerSettings
{
    public string Name { get; init; } = ScoreSamplers.PredictorCorrector;
    public int Steps { get; init; } = 1000;
    /// <summary>The Langevin corrector's signal-to-noise ratio (score_sde: 0.16 for VP and VE on images).</summary>
    public double Snr { get; init; } = 0.16;
    /// <summary>Corrector steps after each predictor step (pc, langevin); Langevin steps per level (annealed_langevin).</summary>
    public int? CorrectorSteps { get; init; }
    /// <summary>The base step size of annealed Langevin dynamics (NCSN's eps).</summary>
    public double StepSize { get; init; } = 2e-5;
    /// <summary>The probability-flow ODE's tolerances (score_sde samples with rtol = atol = 1e-5).</summary>
    public OdeTolerances Tolerances { get; init; } = new();
    /// <summary>The time where sampling stops (score_sde: 1e-3 for the PC samplers and the ODE).</summary>
    public double Eps { get; init; } = 1e-3;

    /// <summary>Corrector (or per-level Langevin) steps in effect: the setting, or the sampler's default.</summary>
    public int EffectiveCorrectorSteps => CorrectorSteps ?? Name switch
    {
        ScoreSamplers.PredictorCorrector or ScoreSamplers.Langevin => 1,
        ScoreSamplers.AnnealedLangevin => 100,
        _ => 0,
    };

    public void Validate()
    {
        if (!ScoreSamplers.Names.Contains(Name))
            throw new DiffuseException($"unknown score sampler '{Name}'; expected one of: {string.Join(", ", ScoreSamplers.Names)}");
        if (Steps < 2) throw new DiffuseException($"a score-based sampler needs at least 2 steps, got {Steps}");
        if (CorrectorSteps is { } c && (c < 0 || (c == 0 && Name is ScoreSamplers.Langevin or ScoreSamplers.AnnealedLangevin)))
            throw DiffuseException.For("corrector_steps", $"corrector_steps must be {(Name is ScoreSamplers.Langevin or ScoreSamplers.AnnealedLangevin ? "at least 1" : "0 or more")} for '{Name}', got {c}");
        if (CorrectorSteps is not null && Name is ScoreSamplers.ReverseDiffusion or ScoreSamplers.EulerMaruyama or ScoreSamplers.ProbabilityFlowOde)
            throw DiffuseException.For("corrector_steps", $"corrector_steps applies to pc, langevin and annealed_langevin, not '{Name}'");
        if (!(Snr > 0) || double.IsInfinity(Snr)) throw DiffuseException.For("snr", $"snr must be a positive number, got {Snr}");
        if (!(StepSize > 0) || double.IsInfinity(StepSize)) throw DiffuseException.For("step_size", $"step_size must be a positive number, got {StepSize}");
        Tolerances.Validate();
        if (!(Eps > 0 && Eps < 1)) throw new DiffuseException($"the sampler's end time eps must lie in (0, 1), got {Eps}");
    }
}
