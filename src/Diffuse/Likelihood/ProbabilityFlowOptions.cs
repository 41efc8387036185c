using Diffuse.Ode;

namespace Diffuse.Likelihood;

/// <summary>
/// Settings of <see cref="ProbabilityFlow"/>: the solver's tolerances (score_sde: rtol = atol = 1e-5), the time
/// <see cref="Eps"/> where the ODE meets the data (1e-5 for likelihoods as score_sde; p_eps differs from p_0 by a
/// perturbation of std sigma(eps), about 1e-3 for the VP SDE), and how the divergence is taken.
/// </summary>
public sealed record ProbabilityFlowOptions
{
    public OdeTolerances Tolerances { get; init; } = new();
    public double Eps { get; init; } = 1e-5;
    public TraceEstimator Trace { get; init; } = TraceEstimator.Rademacher;

    /// <summary>Hutchinson probes per sample, fixed for the whole solve and averaged (score_sde uses 1).</summary>
    public int Probes { get; init; } = 1;

    public void Validate()
    {
        Tolerances.Validate();
        if (!(Eps > 0 && Eps < 1)) throw new DiffuseException($"the probability-flow ODE's start time eps must lie in (0, 1), got {Eps}");
        if (Trace != TraceEstimator.Exact && Probes < 1) throw new DiffuseException($"Hutchinson's trace estimator needs at least one probe, got {Probes}");
    }
}
