using Diffuse.Process;
using Diffuse.Schedules;
using TorchSharp;

namespace Diffuse.Sampling;

/// <summary>
/// Ancestral sampling of DDPM (Ho et al. 2020, arXiv:2006.11239, Algorithm 2) with diffusers'
/// <c>DDPMScheduler</c> semantics: strided timesteps by <c>timestep_spacing</c>, each step going to the
/// next visited timestep; <c>variance_type</c> <c>fixed_small</c> (beta-tilde, clamped at 1e-20) or
/// <c>fixed_large</c> (the step's beta); <c>clip_sample</c>; noise for t &gt; 0 only.
/// </summary>
/// <remarks>
/// <list type="table">
/// <item><term>abar, abarPrev</term><description>abar_t and abar at the next visited timestep (1 after the last)</description></item>
/// <item><term>q</term><description>the coefficients of mu-tilde and beta-tilde, Eq. 7 of Ho et al. 2020 (<see cref="PosteriorCoefficients"/>)</description></item>
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
        Config = config;
        _schedule = NoiseSchedule.FromConfig(config);
        _diffusion = new GaussianDiffusion(_schedule, config.PredictionType);
    }

    public string Name => "ddpm";

    public SchedulerConfig Config { get; }

    public SamplingRun Begin(int numInferenceSteps) =>
        new Run(this, StepMath.Timesteps(Config.TimestepSpacing ?? TimestepSpacing.Leading, Config.NumTrainTimesteps, numInferenceSteps, Config.StepsOffset));

    public torch.Tensor AddNoise(torch.Tensor x0, torch.Tensor noise, torch.Tensor t) => _diffusion.QSample(x0, t, noise);

    /// <summary>
    /// The variance of the step from <paramref name="t"/> to <paramref name="prevT"/> (-1 after the last):
    /// beta-tilde clamped at 1e-20 for <c>fixed_small</c>, the step's beta 1 - abar_t / abar_prev for <c>fixed_large</c>.
    /// </summary>
    public double StepVariance(long t, long prevT)
    {
        var abar = _schedule.AlphaCumprod((int)t);
        var abarPrev = prevT >= 0 ? _schedule.AlphaCumprod((int)prevT) : 1.0;
        var beta = 1 - abar / abarPrev;
        return Config.VarianceType == VarianceType.FixedLarge
            ? beta
            : Math.Max(PosteriorCoefficients.For(abar, abarPrev).Variance, 1e-20);
    }

    /// <summary>Algorithm 2 of Ho et al. 2020, written through x_0: x_prev = mu-tilde(x_t, x_0) + sigma z (Eq. 6-7).</summary>
    private StepResult Reverse(torch.Tensor modelOutput, long t, long prevT, torch.Tensor x, torch.Generator? generator)
    {
        var abar = _schedule.AlphaCumprod((int)t);
        var abarPrev = prevT >= 0 ? _schedule.AlphaCumprod((int)prevT) : 1.0;
        var x0 = StepMath.ClipOriginal(GaussianDiffusion.PredictedOriginal(Config.PredictionType, modelOutput, x, abar), Config);
        var q = PosteriorCoefficients.For(abar, abarPrev);
        var mean = x0 * q.OfOriginal + x * q.OfXt;
        if (t == 0) return new StepResult(mean, x0);
        var z = StepMath.StepNoise(modelOutput, generator, Name);
        return new StepResult(mean + z * Math.Sqrt(StepVariance(t, prevT)), x0);
    }

    private sealed class Run(DdpmScheduler scheduler, long[] timesteps) : SamplingRun
    {
        private readonly torch.Tensor _timesteps = StepMath.RunOwned(timesteps);

        public override torch.Tensor Timesteps => _timesteps;

        public override torch.Tensor AddNoise(torch.Tensor x0, torch.Tensor noise, torch.Tensor t) => scheduler.AddNoise(x0, noise, t);

        public override StepResult Step(torch.Tensor modelOutput, torch.Tensor t, torch.Tensor x, torch.Generator? generator)
        {
            var step = StepMath.Timestep(t, scheduler.Config.NumTrainTimesteps);
            var index = Array.IndexOf(timesteps, step);
            if (index < 0) throw new DiffuseException($"ddpm: timestep {step} is not one of this run's timesteps");
            var prevT = index + 1 < timesteps.Length ? timesteps[index + 1] : -1;
            return scheduler.Reverse(modelOutput, step, prevT, x, generator);
        }
    }
}
