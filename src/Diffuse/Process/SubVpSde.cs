namespace Diffuse.Process;

/// <summary>
/// The sub-VP SDE dx = -beta(t) x / 2 dt + sqrt(beta(t) (1 - exp(-2 int_0^t beta(s) ds))) dw, whose variance stays
/// below the VP SDE's (Song et al. 2021, arXiv:2011.13456, Eq. 12 and Eq. 34).
/// </summary>
/// <remarks>
/// m(t) is the VP SDE's, sigma(t) = 1 - m(t)^2 (Eq. 34); the prior is N(0, I). The discretisation is Euler-Maruyama
/// with dt = 1 / N; the Langevin step factor is the VP chain's 1 - beta_i, as score_sde.
/// </remarks>
public sealed class SubVpSde : Sde
{
    private readonly VpSde _vp;

    public SubVpSde(double betaMin = 0.1, double betaMax = 20, int discreteSteps = 1000) : base(discreteSteps) =>
        _vp = new VpSde(betaMin, betaMax, discreteSteps);

    public double BetaMin => _vp.BetaMin;
    public double BetaMax => _vp.BetaMax;

    public override double DriftScale(double t) => _vp.DriftScale(t);
    public override double Diffusion(double t) => Math.Sqrt(_vp.Beta(t) * -double.ExpM1(4 * _vp.LogMeanScale(t)));
    public override double MeanScale(double t) => _vp.MeanScale(t);
    public override double MarginalStd(double t) => -double.ExpM1(2 * _vp.LogMeanScale(t));
    public override double PriorStd => 1.0;

    /// <summary>Euler-Maruyama: f_i = f(x, t) dt, G_i = g(t) sqrt(dt) with dt = T / N.</summary>
    public override SdeDiscretization Discretize(double t)
    {
        var dt = T / DiscreteSteps;
        return new SdeDiscretization(DriftScale(t) * dt, Diffusion(t) * Math.Sqrt(dt));
    }

    public override double LangevinScale(double t) => _vp.LangevinScale(t);

    public override Sde WithDiscreteSteps(int steps) => new SubVpSde(BetaMin, BetaMax, steps);
}
