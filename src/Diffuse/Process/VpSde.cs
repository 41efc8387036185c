namespace Diffuse.Process;

/// <summary>
/// The variance-preserving SDE dx = -beta(t) x / 2 dt + sqrt(beta(t)) dw with beta(t) = beta_min + t (beta_max - beta_min),
/// the continuous limit of DDPM (Song et al. 2021, arXiv:2011.13456, Eq. 11 and Eq. 29-33).
/// </summary>
/// <remarks>
/// log m(t) = -t^2 (beta_max - beta_min) / 4 - t beta_min / 2 and sigma(t)^2 = 1 - m(t)^2 (Eq. 29); the prior is N(0, I).
/// The discretisation is the DDPM chain with beta_i = beta_min / N + i (beta_max - beta_min) / (N (N - 1)) (App. E).
/// </remarks>
public sealed class VpSde : Sde
{
    public VpSde(double betaMin = 0.1, double betaMax = 20, int discreteSteps = 1000) : base(discreteSteps)
    {
        if (!(betaMin > 0 && betaMax >= betaMin))
            throw new DiffuseException($"a VP SDE needs 0 < beta_min <= beta_max, got {betaMin} and {betaMax}");
        BetaMin = betaMin;
        BetaMax = betaMax;
    }

    public double BetaMin { get; }
    public double BetaMax { get; }

    /// <summary>beta(t).</summary>
    public double Beta(double t) => BetaMin + t * (BetaMax - BetaMin);

    /// <summary>log m(t) = -int_0^t beta(s) ds / 2.</summary>
    public double LogMeanScale(double t) => -0.25 * t * t * (BetaMax - BetaMin) - 0.5 * t * BetaMin;

    public override double DriftScale(double t) => -0.5 * Beta(t);
    public override double Diffusion(double t) => Math.Sqrt(Beta(t));
    public override double MeanScale(double t) => Math.Exp(LogMeanScale(t));
    public override double MarginalStd(double t) => Math.Sqrt(-double.ExpM1(2 * LogMeanScale(t)));
    public override double PriorStd => 1.0;

    /// <summary>beta_i of the N-step DDPM chain.</summary>
    public double DiscreteBeta(int i) => BetaMin / DiscreteSteps + i * (BetaMax - BetaMin) / ((double)DiscreteSteps * (DiscreteSteps - 1));

    /// <summary>x_{i+1} = sqrt(1 - beta_i) x_i + sqrt(beta_i) z (Song et al. 2021, Eq. 45).</summary>
    public override SdeDiscretization Discretize(double t)
    {
        var beta = DiscreteBeta(StepIndex(t));
        return new SdeDiscretization(Math.Sqrt(1 - beta) - 1, Math.Sqrt(beta));
    }

    public override double LangevinScale(double t) => 1 - DiscreteBeta(StepIndex(t));

    public override Sde WithDiscreteSteps(int steps) => new VpSde(BetaMin, BetaMax, steps);
}
