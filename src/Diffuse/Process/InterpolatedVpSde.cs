namespace Diffuse.Process;

/// <summary>
/// A variance-preserving SDE dx = -beta(t) x / 2 dt + sqrt(beta(t)) dw whose marginal abar(t) = m(t)^2 passes through a
/// discrete schedule's table: log abar(t) is linear between the knots (0, 0) and ((i + 1) / N, log abar_i), i = 0 .. N - 1,
/// so step i of the chain takes time 1 / N and beta(t) = N log(abar_{i-1} / abar_i) is constant within it (the VP SDE of
/// Song et al. 2021, arXiv:2011.13456, Eq. 11 and 29, with beta(t) read off the table instead of a linear ramp). It is the
/// continuous-time view of a model trained on a non-linear schedule (cosine, scaled-linear, sigmoid).
/// </summary>
/// <remarks>
/// For a linear schedule this agrees with <see cref="VpSde"/>(N beta_start, N beta_end) to O(1/N), as DDPM's chain does with
/// its continuous limit. The drift jumps at the knots by the change of beta between two steps, which an adaptive solver
/// absorbs. A zero-terminal-SNR table (abar = 0 at the last step) has no finite log abar and is refused.
/// </remarks>
public sealed class InterpolatedVpSde : Sde
{
    private readonly double[] _logAlphasCumprod;
    private readonly double[] _betas;
    private readonly int _tableSteps;

    public InterpolatedVpSde(IReadOnlyList<double> alphasCumprod) : base(alphasCumprod.Count)
    {
        int n = alphasCumprod.Count;
        _tableSteps = n;
        _logAlphasCumprod = new double[n + 1];
        _betas = new double[n];
        for (int i = 0; i < n; i++)
        {
            double abar = alphasCumprod[i], previous = i == 0 ? 1.0 : alphasCumprod[i - 1];
            if (!(abar > 0 && abar < previous))
                throw new DiffuseException($"a VP SDE needs a strictly decreasing alphas_cumprod in (0, 1); step {i} has {abar} after {previous}" +
                                           (abar == 0 ? " (a zero-terminal-SNR schedule has no finite probability-flow ODE at t = 1)" : ""));
            _logAlphasCumprod[i + 1] = Math.Log(abar);
            _betas[i] = 1 - abar / previous;
        }
    }

    /// <summary>The same table with an N-step discretisation of its own (see <see cref="Discretize"/>).</summary>
    private InterpolatedVpSde(InterpolatedVpSde table, int steps) : base(steps)
    {
        _logAlphasCumprod = table._logAlphasCumprod;
        _tableSteps = table._tableSteps;
        _betas = new double[steps];
        // beta_i = 1 - abar((i + 1) / N) / abar(i / N): the table's own betas when N is its length.
        for (int i = 0; i < steps; i++) _betas[i] = -double.ExpM1(2 * (LogMeanScale((i + 1.0) / steps) - LogMeanScale((double)i / steps)));
    }

    /// <summary>The interval i of t: [i / N, (i + 1) / N) of the table's N knots, the last one closed.</summary>
    private int Interval(double t) => (int)Math.Clamp(Math.Floor(t * _tableSteps), 0, _tableSteps - 1);

    /// <summary>beta(t) = -d log abar / dt, constant on each step's interval.</summary>
    public double Beta(double t)
    {
        int i = Interval(t);
        return (_logAlphasCumprod[i] - _logAlphasCumprod[i + 1]) * _tableSteps;
    }

    /// <summary>log m(t) = log abar(t) / 2, abar interpolated log-linearly between the knots.</summary>
    public double LogMeanScale(double t)
    {
        int i = Interval(t);
        double fraction = Math.Clamp(t * _tableSteps - i, 0, 1);
        return 0.5 * (_logAlphasCumprod[i] + fraction * (_logAlphasCumprod[i + 1] - _logAlphasCumprod[i]));
    }

    public override double DriftScale(double t) => -0.5 * Beta(t);
    public override double Diffusion(double t) => Math.Sqrt(Beta(t));
    public override double MeanScale(double t) => Math.Exp(LogMeanScale(t));
    public override double MarginalStd(double t) => Math.Sqrt(-double.ExpM1(2 * LogMeanScale(t)));
    public override double PriorStd => 1.0;

    /// <summary>
    /// The DDPM chain x_{i+1} = sqrt(1 - beta_i) x_i + sqrt(beta_i) z (Song et al. 2021, Eq. 45): the table's own betas, or
    /// for another step count N, beta_i = 1 - abar((i + 1) / N) / abar(i / N).
    /// </summary>
    public override SdeDiscretization Discretize(double t)
    {
        var beta = _betas[StepIndex(t)];
        return new SdeDiscretization(Math.Sqrt(1 - beta) - 1, Math.Sqrt(beta));
    }

    public override double LangevinScale(double t) => 1 - _betas[StepIndex(t)];

    public override Sde WithDiscreteSteps(int steps) => new InterpolatedVpSde(this, steps);
}
