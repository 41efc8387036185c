using Diffuse.Configuration;
using Diffuse.Schedules;
using TorchSharp;
using static TorchSharp.torch;

namespace Diffuse.Process;

/// <summary>
/// The Gaussian diffusion process of Ho et al. 2020 (arXiv:2006.11239) over a <see cref="NoiseSchedule"/>:
/// the forward marginal q(x_t | x_0), the posterior q(x_{t-1} | x_t, x_0), conversions between what a model
/// predicts (epsilon, x_0, v), training targets and the loss. The one place where prediction types are
/// told apart: schedulers call <see cref="PredictedOriginal(PredictionType, Tensor, Tensor, double)"/> and
/// <see cref="PredictedEpsilon(PredictionType, Tensor, Tensor, double)"/>.
/// </summary>
/// <remarks>
/// <list type="table">
/// <item><term>a, s</term><description>sqrt(abar_t), sqrt(1 - abar_t): x_t = a x_0 + s eps (Ho et al. 2020, Eq. 4)</description></item>
/// <item><term>v</term><description>a eps - s x_0 (Salimans &amp; Ho 2022, arXiv:2202.00512, Sec. 4)</description></item>
/// <item><term>t</term><description>an int64 tensor [B] of timesteps in [0, T)</description></item>
/// </list>
/// Every conversion is linear in (x_t, model output), so one coefficient function,
/// <see cref="ConversionCoefficients"/>, serves both the per-sample tensor methods (through cached
/// per-timestep tables) and the scalar ones that schedulers use.
/// </remarks>
public sealed class GaussianDiffusion
{
    private static readonly PredictionType[] AllTypes = Enum.GetValues<PredictionType>();
    private readonly CachedTable _sqrtAbar, _sqrtOneMinusAbar, _snr;
    private readonly CachedTable _posteriorOfOriginal, _posteriorOfXt, _posteriorVariance, _posteriorLogVariance;
    private readonly Dictionary<PredictionType, (CachedTable OfXt, CachedTable OfOutput)> _conversions = new();

    public GaussianDiffusion(NoiseSchedule schedule, PredictionType predictionType)
    {
        ArgumentNullException.ThrowIfNull(schedule);
        Schedule = schedule;
        PredictionType = predictionType;
        var abar = schedule.AlphasCumprod;
        var n = abar.Length;
        _sqrtAbar = Table(n, t => Math.Sqrt(abar[t]));
        _sqrtOneMinusAbar = Table(n, t => Math.Sqrt(1 - abar[t]));
        _snr = Table(n, t => abar[t] / (1 - abar[t]));
        var posterior = Enumerable.Range(0, n).Select(t => PosteriorCoefficients.For(abar[t], t == 0 ? 1.0 : abar[t - 1])).ToArray();
        _posteriorOfOriginal = Table(n, t => posterior[t].OfOriginal);
        _posteriorOfXt = Table(n, t => posterior[t].OfXt);
        _posteriorVariance = Table(n, t => posterior[t].Variance);
        // log beta-tilde is -inf at t = 0; take t = 1's value there (improved-diffusion's clipping).
        _posteriorLogVariance = Table(n, t => Math.Log(n > 1 && t == 0 ? posterior[1].Variance : Math.Max(posterior[t].Variance, 1e-20)));
        foreach (var to in AllTypes)
        {
            var c = Enumerable.Range(0, n).Select(t => ConversionCoefficients(predictionType, to, abar[t])).ToArray();
            _conversions[to] = (Table(n, t => c[t].OfXt), Table(n, t => c[t].OfOutput));
        }
    }

    public NoiseSchedule Schedule { get; }

    /// <summary>What the model predicts; the tensor conversions read model outputs as this.</summary>
    public PredictionType PredictionType { get; }

    /// <summary>Samples q(x_t | x_0) = N(a x_0, s^2 I): x_t = a x_0 + s noise (Ho et al. 2020, Eq. 4).</summary>
    public Tensor QSample(Tensor x0, Tensor t, Tensor noise) =>
        Coefficient(_sqrtAbar, t, x0) * x0 + Coefficient(_sqrtOneMinusAbar, t, x0) * noise;

    /// <summary><paramref name="batchSize"/> timesteps drawn uniformly from [0, T) (int64), drawn on the CPU and then moved.</summary>
    public Tensor SampleTimesteps(long batchSize, Generator generator, Device? device = null)
    {
        ArgumentNullException.ThrowIfNull(generator);
        var t = randint(0, Schedule.NumTrainTimesteps, [batchSize], int64, CPU, generator: generator);
        return device is null || device.type == DeviceType.CPU ? t : t.to(device);
    }

    /// <summary>Reads <paramref name="modelOutput"/> (a <see cref="PredictionType"/> prediction at x_t, t) as a prediction of kind <paramref name="to"/>.</summary>
    public Tensor Convert(Tensor modelOutput, Tensor xt, Tensor t, PredictionType to)
    {
        if (to == PredictionType) return modelOutput.alias();
        var (ofXt, ofOutput) = _conversions[to];
        return Coefficient(ofXt, t, xt) * xt + Coefficient(ofOutput, t, xt) * modelOutput;
    }

    /// <summary>The x_0 that <paramref name="modelOutput"/> predicts.</summary>
    public Tensor PredictedOriginal(Tensor modelOutput, Tensor xt, Tensor t) => Convert(modelOutput, xt, t, PredictionType.Sample);

    /// <summary>The eps that <paramref name="modelOutput"/> predicts.</summary>
    public Tensor PredictedEpsilon(Tensor modelOutput, Tensor xt, Tensor t) => Convert(modelOutput, xt, t, PredictionType.Epsilon);

    /// <summary>The v that <paramref name="modelOutput"/> predicts.</summary>
    public Tensor PredictedV(Tensor modelOutput, Tensor xt, Tensor t) => Convert(modelOutput, xt, t, PredictionType.VPrediction);

    /// <summary>x_0 predicted by a <paramref name="type"/> output at one timestep with cumulative alpha <paramref name="alphaCumprod"/>.</summary>
    public static Tensor PredictedOriginal(PredictionType type, Tensor modelOutput, Tensor xt, double alphaCumprod) =>
        Convert(type, PredictionType.Sample, modelOutput, xt, alphaCumprod);

    /// <summary>eps predicted by a <paramref name="type"/> output at one timestep with cumulative alpha <paramref name="alphaCumprod"/>.</summary>
    public static Tensor PredictedEpsilon(PredictionType type, Tensor modelOutput, Tensor xt, double alphaCumprod) =>
        Convert(type, PredictionType.Epsilon, modelOutput, xt, alphaCumprod);

    /// <summary>
    /// x_0 predicted by a <paramref name="type"/> output for a sample in the sigma parametrisation,
    /// x = x_0 + sigma eps (Karras et al. 2022, arXiv:2206.00364, Eq. 1 with s(t) = 1), as the sigma-based
    /// schedulers hold it. The model saw x / sqrt(sigma^2 + 1), the x_t of abar = 1 / (sigma^2 + 1).
    /// </summary>
    public static Tensor PredictedOriginalAtSigma(PredictionType type, Tensor modelOutput, Tensor x, double sigma)
    {
        var alphaCumprod = 1 / (sigma * sigma + 1);
        var (ofXt, ofOutput) = ConversionCoefficients(type, PredictionType.Sample, alphaCumprod);
        var ofX = ofXt * Math.Sqrt(alphaCumprod);
        return ofX == 0 ? modelOutput * ofOutput : x * ofX + modelOutput * ofOutput;
    }

    /// <summary>Reads a <paramref name="from"/> prediction at one timestep as a <paramref name="to"/> prediction.</summary>
    public static Tensor Convert(PredictionType from, PredictionType to, Tensor modelOutput, Tensor xt, double alphaCumprod)
    {
        if (from == to) return modelOutput.alias();
        var (ofXt, ofOutput) = ConversionCoefficients(from, to, alphaCumprod);
        return ofXt == 0 ? modelOutput * ofOutput : xt * ofXt + modelOutput * ofOutput;
    }

    /// <summary>
    /// The coefficients (c_x, c_o) with to = c_x x_t + c_o output for a <paramref name="from"/> output at
    /// cumulative alpha abar. From x_t = a x_0 + s eps (Ho et al. 2020, Eq. 4) and v = a eps - s x_0
    /// (Salimans &amp; Ho 2022, Sec. 4), so that x_0 = a x_t - s v and eps = s x_t + a v (their App. D).
    /// </summary>
    public static (double OfXt, double OfOutput) ConversionCoefficients(PredictionType from, PredictionType to, double alphaCumprod)
    {
        if (from == to) return (0, 1);
        var a = Math.Sqrt(alphaCumprod);
        var s = Math.Sqrt(1 - alphaCumprod);
        var (x0OfXt, x0OfOutput) = from switch
        {
            PredictionType.Epsilon => (1 / a, -s / a), // Eq. 15 of Ho et al. 2020, solved for x_0
            PredictionType.Sample => (0.0, 1.0),
            _ => (a, -s),
        };
        var (epsOfXt, epsOfOutput) = from switch
        {
            PredictionType.Epsilon => (0.0, 1.0),
            PredictionType.Sample => (1 / s, -a / s),
            _ => (s, a),
        };
        return to switch
        {
            PredictionType.Sample => (x0OfXt, x0OfOutput),
            PredictionType.Epsilon => (epsOfXt, epsOfOutput),
            _ => (a * epsOfXt - s * x0OfXt, a * epsOfOutput - s * x0OfOutput),
        };
    }

    /// <summary>What the model should output for x_t = QSample(x0, t, noise): noise, x_0 or v.</summary>
    public Tensor Target(Tensor x0, Tensor noise, Tensor t) => PredictionType switch
    {
        PredictionType.Epsilon => noise.alias(),
        PredictionType.Sample => x0.alias(),
        _ => Coefficient(_sqrtAbar, t, x0) * noise - Coefficient(_sqrtOneMinusAbar, t, x0) * x0,
    };

    /// <summary>The mean and variance of q(x_{t-1} | x_t, x_0) (Ho et al. 2020, Eq. 6-7), broadcast like <paramref name="xt"/>.</summary>
    public Posterior PosteriorMeanVariance(Tensor x0, Tensor xt, Tensor t) => new(
        Mean: Coefficient(_posteriorOfOriginal, t, xt) * x0 + Coefficient(_posteriorOfXt, t, xt) * xt,
        Variance: Coefficient(_posteriorVariance, t, xt).expand_as(xt),
        LogVarianceClipped: Coefficient(_posteriorLogVariance, t, xt).expand_as(xt));

    /// <summary>
    /// The mean training loss over the batch. <see cref="LossWeighting.Simple"/> is the MSE to
    /// <see cref="Target"/> (L_simple, Ho et al. 2020, Eq. 14); <see cref="LossWeighting.MinSnr"/> weights each
    /// sample's MSE by min-SNR-gamma (Hang et al. 2023, arXiv:2303.09556, Eq. 9 and Sec. 3.4): min(SNR, gamma)/SNR
    /// for epsilon, min(SNR, gamma) for x_0 and min(SNR, gamma)/(SNR + 1) for v.
    /// </summary>
    public Tensor Loss(Tensor modelOutput, Tensor x0, Tensor noise, Tensor t, LossWeighting weighting, double minSnrGamma = 5.0)
    {
        using var perSample = PerSampleLoss(modelOutput, x0, noise, t, weighting, minSnrGamma);
        return perSample.mean();
    }

    /// <summary>The loss of each sample [B], weighted as <see cref="Loss"/> (which is its mean).</summary>
    public Tensor PerSampleLoss(Tensor modelOutput, Tensor x0, Tensor noise, Tensor t, LossWeighting weighting, double minSnrGamma = 5.0)
    {
        if (weighting == LossWeighting.Hybrid)
            throw new DiffuseException("the hybrid loss needs the model's variance channels and the variational bound; Training.TrainingObjective computes it");
        if (weighting == LossWeighting.Likelihood)
            throw new DiffuseException("the likelihood weighting applies to continuous-time SDE models only (--sde)");
        using var scope = NewDisposeScope();
        var target = Target(x0, noise, t);
        var perSample = (modelOutput - target).square().reshape(modelOutput.shape[0], -1).mean([1]);
        if (weighting == LossWeighting.Simple) return perSample.MoveToOuterDisposeScope();
        if (!(minSnrGamma > 0)) throw new DiffuseException($"min_snr gamma must be positive, got {minSnrGamma}");
        var weights = MinSnrWeights(t, minSnrGamma).to(perSample.dtype).to(perSample.device);
        return (weights * perSample).MoveToOuterDisposeScope();
    }

    /// <summary>Per-sample min-SNR-gamma weights [B]; at SNR = 0 (a zero-terminal-SNR last step) they take their limits 1, 0, 0.</summary>
    public Tensor MinSnrWeights(Tensor t, double gamma)
    {
        using var snr = Coefficient(_snr, t, t);
        using var clipped = snr.clamp_max(gamma);
        return PredictionType switch
        {
            // min(snr, g)/snr = min(1, g/snr): finite (1) at snr = 0 where the ratio form is 0/0.
            PredictionType.Epsilon => (gamma / snr).clamp_max(1.0),
            PredictionType.Sample => clipped.alias(),
            _ => clipped / (snr + 1),
        };
    }

    private static CachedTable Table(int n, Func<int, double> value) =>
        new(Enumerable.Range(0, n).Select(value).ToArray(), float64);

    /// <summary>The table's entries at t, shaped [B, 1, ...] to broadcast over <paramref name="like"/> in its dtype (float for int tensors).</summary>
    private static Tensor Coefficient(CachedTable table, Tensor t, Tensor like)
    {
        var dtype = like.is_floating_point() ? like.dtype : float64;
        return table.Gather(t, like.dim(), dtype, like.device);
    }
}
