namespace Diffuse.Process;

/// <summary>
/// The variance-exploding SDE dx = sqrt(d sigma(t)^2 / dt) dw with sigma(t) = sigma_min (sigma_max / sigma_min)^t,
/// the continuous limit of SMLD / NCSN (Song et al. 2021, arXiv:2011.13456, Eq. 9 and Eq. 30).
/// </summary>
/// <remarks>
/// g(t) = sigma(t) sqrt(2 log(sigma_max / sigma_min)); m(t) = 1 and the kernel's std is sigma(t) (score_sde's
/// convention, which leaves the tiny sigma_min^2 at t = 0 in place); the prior is N(0, sigma_max^2 I). The
/// discretisation is the SMLD chain over the N geometric sigmas: G_i = sqrt(sigma_i^2 - sigma_{i-1}^2) (Eq. 46).
/// </remarks>
public sealed class VeSde : Sde
{
    public VeSde(double sigmaMin = 0.01, double sigmaMax = 50, int discreteSteps = 1000) : base(discreteSteps)
    {
        if (!(sigmaMin > 0 && sigmaMax > sigmaMin))
            throw new DiffuseException($"a VE SDE needs 0 < sigma_min < sigma_max, got {sigmaMin} and {sigmaMax}");
        SigmaMin = sigmaMin;
        SigmaMax = sigmaMax;
    }

    public double SigmaMin { get; }
    public double SigmaMax { get; }

    /// <summary>sigma(t) = sigma_min (sigma_max / sigma_min)^t.</summary>
    public double Sigma(double t) => SigmaMin * Math.Pow(SigmaMax / SigmaMin, t);

    /// <summary>The time at which sigma(t) = <paramref name="sigma"/>.</summary>
    public double TimeOfSigma(double sigma) => Math.Log(sigma / SigmaMin) / Math.Log(SigmaMax / SigmaMin);

    /// <summary>sigma_i of the N geometric noise levels, sigma_min at i = 0 and sigma_max at i = N - 1.</summary>
    public double DiscreteSigma(int i) => Math.Exp(Math.Log(SigmaMin) + i * (Math.Log(SigmaMax) - Math.Log(SigmaMin)) / (DiscreteSteps - 1));

    public override double DriftScale(double t) => 0.0;
    public override double Diffusion(double t) => Sigma(t) * Math.Sqrt(2 * Math.Log(SigmaMax / SigmaMin));
    public override double MeanScale(double t) => 1.0;
    public override double MarginalStd(double t) => Sigma(t);
    public override double PriorStd => SigmaMax;

    public override SdeDiscretization Discretize(double t)
    {
        var i = StepIndex(t);
        var sigma = DiscreteSigma(i);
        var previous = i == 0 ? 0.0 : DiscreteSigma(i - 1);
        return new SdeDiscretization(0.0, Math.Sqrt(sigma * sigma - previous * previous));
    }

    public override Sde WithDiscreteSteps(int steps) => new VeSde(SigmaMin, SigmaMax, steps);
}
