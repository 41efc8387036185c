using Diffuse.Configuration;
using Diffuse.Process;
using Diffuse.Schedules;
using static TorchSharp.torch;

namespace Diffuse.Likelihood;

/// <summary>
/// A discrete-time model (a network predicting eps, x_0 or v at the integer timesteps of a <see cref="NoiseSchedule"/>)
/// seen as a score-based model in continuous time, as score_sde evaluates DDPM checkpoints (Song et al. 2021,
/// arXiv:2011.13456, Sec. 3.3 and App. D.3): the forward process becomes the VP SDE <see cref="Sde"/> and the network
/// the score s(x, t) = -eps(x, t (N - 1)) / sigma(t) (their Eq. 11 with the DDPM parametrisation
/// s = -eps / sqrt(1 - abar)), which the probability-flow ODE then integrates.
/// </summary>
/// <remarks>
/// <list type="table">
/// <item><term>linear betas</term><description>the VP SDE with beta_min = N beta_start, beta_max = N beta_end (score_sde's
/// mapping of DDPM: 0.1 and 20 for 1e-4 .. 0.02 over 1000 steps), whose own DDPM chain is exactly that schedule</description></item>
/// <item><term>other schedules</term><description><see cref="InterpolatedVpSde"/>: abar(t) log-linear through abar_i at t = (i + 1) / N</description></item>
/// <item><term>network time</term><description>t in (0, 1] is fed as the fractional timestep t (N - 1) (score_sde's <c>labels</c>); the
/// sinusoidal embedding takes it as it is</description></item>
/// <item><term>sigma(t)</term><description>the SDE's own marginal std, continuous in t. score_sde divides by the table's
/// sqrt(1 - abar) at floor(t (N - 1)), which jumps at every integer and costs an adaptive solver steps; the two differ by
/// less than one training step's noise</description></item>
/// </list>
/// A model's x_0 or v output is read as eps at abar(t) = m(t)^2 through <see cref="GaussianDiffusion.PredictedEpsilon(PredictionType, Tensor, Tensor, double)"/>;
/// a learned variance's extra channels are dropped, the mean's half alone defines the score.
/// </remarks>
public sealed class ContinuousTimeModel
{
    private readonly Func<Tensor, Tensor, Tensor> _network;
    private readonly bool _learnedVariance;

    /// <param name="network">(x_t [B, ...], timesteps [B] float32) → the network's output, as trained on <paramref name="config"/>'s schedule.</param>
    /// <param name="discreteSteps">N of the SDE's discretisation, the predictor steps of a PC sampler (default: the training timesteps).</param>
    public ContinuousTimeModel(Func<Tensor, Tensor, Tensor> network, SchedulerConfig config, int? discreteSteps = null)
    {
        ArgumentNullException.ThrowIfNull(network);
        ArgumentNullException.ThrowIfNull(config);
        _network = network;
        Sde = SdeOf(config);
        if (discreteSteps is { } steps && steps != Sde.DiscreteSteps) Sde = Sde.WithDiscreteSteps(steps);
        NumTrainTimesteps = config.NumTrainTimesteps;
        PredictionType = config.PredictionType;
        _learnedVariance = config.VarianceType is VarianceType.Learned or VarianceType.LearnedRange;
    }

    /// <summary>The forward SDE the model's schedule becomes.</summary>
    public Sde Sde { get; }
    public int NumTrainTimesteps { get; }
    public PredictionType PredictionType { get; }

    /// <summary>The score of the model's marginals; differentiable in x.</summary>
    public ScoreFunction Score => ScoreAt;

    /// <summary>The network's (fractional) timestep at time t: t (N - 1).</summary>
    public double Timestep(double t) => t * (NumTrainTimesteps - 1);

    /// <summary>The SDE of a schedule: <see cref="VpSde"/> for linear betas, <see cref="InterpolatedVpSde"/> through the table otherwise.</summary>
    public static Sde SdeOf(SchedulerConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        int n = config.NumTrainTimesteps;
        if (n < 2) throw new DiffuseException($"a continuous-time view needs at least 2 training timesteps, got {n}");
        if (config.BetaSchedule == BetaSchedule.Linear && !config.RescaleBetasZeroSnr)
            return new VpSde(config.BetaStart * n, config.BetaEnd * n, n);
        return new InterpolatedVpSde(NoiseSchedule.FromConfig(config).AlphasCumprod);
    }

    private Tensor ScoreAt(Tensor x, double t)
    {
        using var scope = NewDisposeScope();
        var timesteps = full(x.shape[0], Timestep(t), ScalarType.Float32, x.device);
        var output = _network(x, timesteps);
        if (_learnedVariance) output = LearnedVariance.Prediction(output, x.shape[1]);
        double meanScale = Sde.MeanScale(t);
        var eps = GaussianDiffusion.PredictedEpsilon(PredictionType, output, x, meanScale * meanScale);
        return (eps * (-1.0 / Sde.MarginalStd(t))).MoveToOuterDisposeScope();
    }
}
