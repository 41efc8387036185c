using Diffuse.Configuration;
using Diffuse.IO;
using Diffuse.Process;
using Diffuse.Schedules;
using TorchSharp;

namespace Diffuse.Sampling;

/// <summary>
/// Ancestral sampling of DDPM (Ho et al. 2020, arXiv:2006.11239, Algorithm 2) with diffusers'
/// <c>DDPMScheduler</c> semantics: strided timesteps by <c>timestep_spacing</c>, each step going to the
/// next visited timestep; every <c>variance_type</c> (<see cref="VarianceType"/>: fixed small or large, their
/// log forms, and the learned ones, whose model output carries 2C channels); x_0 dynamically thresholded when
/// <c>thresholding</c>, else clipped when <c>clip_sample</c>; noise for t &gt; 0 only; every prediction type.
/// </summary>
/// <remarks>
/// <list type="table">
/// <item><term>abar, abarPrev</term><description>abar_t and abar at the next visited timestep (1 after the last)</description></item>
/// <item><term>q</term><description>the coefficients of mu-tilde, Eq. 7 of Ho et al. 2020, in diffusers' float32 arithmetic</description></item>
/// <item><term>beta, betaTilde</term><description>the step's beta 1 - abar / abarPrev and beta-tilde clamped at 1e-20 (diffusers' <c>_get_variance</c>)</description></item>
/// <item><term>v</term><description>the variance channels of a learned-variance output (its second C channels, diffusers' <c>predicted_variance</c>)</description></item>
/// <item><term>z</term><description>the step's standard normal draw, one of the sample's shape per step with t &gt; 0</description></item>
/// </list>
/// diffusers' <c>fixed_large</c> uses the step's beta 1 - abar_t / abar_prev, which is beta_t when every timestep is visited.
/// </remarks>
public sealed class DdpmScheduler : IScheduler
{
    private readonly NoiseSchedule _schedule;
    private readonly GaussianDiffusion _diffusion;

    public DdpmScheduler(SchedulerConfig config)
    {
        ConfigValidation.Check(config, "ddpm");
        ConfigValidation.CheckThresholding(config, "ddpm");
        Config = config;
        _schedule = NoiseSchedule.FromConfig(config);
        _diffusion = new GaussianDiffusion(_schedule, config.PredictionType);
    }

    public string Name => "ddpm";
    public bool TakesVarianceChannels => Config.VarianceType is VarianceType.Learned or VarianceType.LearnedRange;

    public SchedulerConfig Config { get; }

    private bool Learned => Config.VarianceType is VarianceType.Learned or VarianceType.LearnedRange;

    public SamplingRun Begin(int numInferenceSteps) =>
        new Run(this, StepMath.Timesteps(Config.TimestepSpacing ?? TimestepSpacing.Leading, Config.NumTrainTimesteps, numInferenceSteps, Config.StepsOffset));

    public torch.Tensor AddNoise(torch.Tensor x0, torch.Tensor noise, torch.Tensor t) => _diffusion.QSample(x0, t, noise);

    /// <summary>
    /// The variance of the step from <paramref name="t"/> to <paramref name="prevT"/> (-1 after the last) for the
    /// fixed types: beta-tilde clamped at 1e-20 for <c>fixed_small</c> and <c>fixed_small_log</c>, the step's beta
    /// 1 - abar_t / abar_prev for <c>fixed_large</c> and <c>fixed_large_log</c>. The learned types read it from the model.
    /// </summary>
    public double StepVariance(long t, long prevT)
    {
        var (_, _, beta, betaTilde) = Coefficients(t, prevT);
        return Config.VarianceType switch
        {
            VarianceType.FixedSmall or VarianceType.FixedSmallLog => betaTilde,
            VarianceType.FixedLarge or VarianceType.FixedLargeLog => beta,
            _ => throw new DiffuseException($"ddpm: variance_type {Json.Name(Config.VarianceType)} takes the variance from the model output"),
        };
    }

    /// <summary>
    /// The step's coefficients in float32 arithmetic, as diffusers' step computes them from its float32 tables
    /// (near t = 0, 1 - abar_t / abar_prev loses digits, and diffusers' results carry that rounding): the
    /// mu-tilde coefficients of x_0 and x_t (Ho et al. 2020, Eq. 7), beta and beta-tilde clamped at 1e-20.
    /// </summary>
    private (float OfOriginal, float OfXt, double Beta, double BetaTilde) Coefficients(long t, long prevT)
    {
        var abar = (float)_schedule.AlphaCumprod((int)t);
        var abarPrev = prevT >= 0 ? (float)_schedule.AlphaCumprod((int)prevT) : 1f;
        float alpha = abar / abarPrev, beta = 1 - alpha, oneMinusAbar = 1 - abar, oneMinusAbarPrev = 1 - abarPrev;
        var betaTilde = oneMinusAbarPrev / oneMinusAbar * beta;
        return (MathF.Sqrt(abarPrev) * beta / oneMinusAbar, MathF.Sqrt(alpha) * oneMinusAbarPrev / oneMinusAbar, beta, Math.Max(betaTilde, 1e-20));
    }

    /// <summary>
    /// The standard deviation of the step's noise: sqrt of <see cref="StepVariance"/> for the fixed types
    /// (<c>fixed_small_log</c> as exp(0.5 log beta-tilde)); sqrt(v) for <c>learned</c>; and for <c>learned_range</c>
    /// exp(0.5 (frac log beta + (1 - frac) log beta-tilde)) with frac = (v + 1) / 2 (Nichol &amp; Dhariwal 2021, Eq. 15).
    /// </summary>
    private torch.Tensor NoiseStd(long t, long prevT, torch.Tensor? v, torch.Tensor like)
    {
        var (_, _, beta, betaTilde) = Coefficients(t, prevT);
        switch (Config.VarianceType)
        {
            case VarianceType.Learned:
                return v!.sqrt();
            case VarianceType.LearnedRange:
                var frac = (v! + 1) / 2;
                return (frac * Math.Log(beta) + (1 - frac) * Math.Log(betaTilde)).mul(0.5).exp();
            default:
                var std = Config.VarianceType == VarianceType.FixedSmallLog ? Math.Exp(0.5 * Math.Log(betaTilde)) : Math.Sqrt(StepVariance(t, prevT));
                return torch.tensor(std, like.dtype, like.device);
        }
    }

    /// <summary>
    /// A learned-variance output of 2C channels as (prediction, v), split along dim 1 as diffusers does; the
    /// fixed types take the output whole. A learned type with any other channel count is an error.
    /// </summary>
    private (torch.Tensor Output, torch.Tensor? V) Split(torch.Tensor modelOutput, torch.Tensor x)
    {
        if (!Learned) return (modelOutput, null);
        var c = x.dim() >= 2 ? x.shape[1] : 0;
        if (c == 0 || modelOutput.dim() < 2 || modelOutput.shape[1] != 2 * c)
            throw new DiffuseException($"ddpm: variance_type {Json.Name(Config.VarianceType)} needs a model output of 2 x {c} channels (prediction then variance), got shape [{string.Join(", ", modelOutput.shape)}]");
        var parts = modelOutput.split(c, 1);
        return (parts[0], parts[1]);
    }

    /// <summary>Algorithm 2 of Ho et al. 2020, written through x_0: x_prev = mu-tilde(x_t, x_0) + sigma z (Eq. 6-7).</summary>
    private StepResult Reverse(torch.Tensor modelOutput, long t, long prevT, torch.Tensor x, SampleGenerators? generators)
    {
        var (output, v) = Split(modelOutput, x);
        var x0 = StepMath.ThresholdOrClip(GaussianDiffusion.PredictedOriginal(Config.PredictionType, output, x, _schedule.AlphaCumprod((int)t)), Config);
        var q = Coefficients(t, prevT);
        var mean = x0 * q.OfOriginal + x * q.OfXt;
        if (t == 0) return new StepResult(mean, x0);
        var z = StepMath.StepNoise(output, generators, Name);
        return new StepResult(mean + z * NoiseStd(t, prevT, v, z), x0);
    }

    private sealed class Run(DdpmScheduler scheduler, long[] timesteps) : SamplingRun
    {
        private readonly torch.Tensor _timesteps = StepMath.RunOwned(timesteps);

        public override torch.Tensor Timesteps => _timesteps;

        public override torch.Tensor AddNoise(torch.Tensor x0, torch.Tensor noise, torch.Tensor t) => scheduler.AddNoise(x0, noise, t);

        public override StepResult Step(torch.Tensor modelOutput, torch.Tensor t, torch.Tensor x, SampleGenerators? generators)
        {
            var step = StepMath.Timestep(t, scheduler.Config.NumTrainTimesteps);
            var index = Array.IndexOf(timesteps, step);
            if (index < 0) throw new DiffuseException($"ddpm: timestep {step} is not one of this run's timesteps");
            var prevT = index + 1 < timesteps.Length ? timesteps[index + 1] : -1;
            return scheduler.Reverse(modelOutput, step, prevT, x, generators);
        }
    }
}
