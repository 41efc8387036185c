using Diffuse.Configuration;
using Diffuse.Process;
using Diffuse.Schedules;
using TorchSharp;

namespace Diffuse.Sampling;

/// <summary>
/// DDIM (Song et al. 2021, arXiv:2010.02502) with diffusers' <c>DDIMScheduler</c> semantics: each step goes
/// from t to t - T/n (integer division), <c>eta</c> scales the noise (0: deterministic), the last step lands
/// on abar = 1 when <c>set_alpha_to_one</c> (diffusers' default for DDIM; else abar_0), x_0 is dynamically thresholded when <c>thresholding</c>,
/// else clipped when <c>clip_sample</c>, and eps is the model's own unless <c>use_clipped_model_output</c>
/// re-derives it from that x_0; every prediction type.
/// </summary>
/// <remarks>
/// <list type="table">
/// <item><term>abar, abarPrev</term><description>alpha_t and alpha_{t-1} of Song et al. 2021 (their alphas are cumulative)</description></item>
/// <item><term>x0, eps</term><description>f_theta(x_t) and eps_theta(x_t), Eq. 9 and 12</description></item>
/// <item><term>sigma</term><description>sigma_t(eta) = eta sqrt((1 - abar_prev)/(1 - abar) (1 - abar/abar_prev)), Eq. 16</description></item>
/// </list>
/// </remarks>
public sealed class DdimScheduler : IScheduler
{
    private readonly NoiseSchedule _schedule;
    private readonly GaussianDiffusion _diffusion;
    private readonly double _finalAlphaCumprod;

    public DdimScheduler(SchedulerConfig config)
    {
        ConfigValidation.Check(config, "ddim");
        ConfigValidation.CheckThresholding(config, "ddim");
        Config = config;
        _schedule = NoiseSchedule.FromConfig(config);
        _diffusion = new GaussianDiffusion(_schedule, config.PredictionType);
        _finalAlphaCumprod = (config.SetAlphaToOne ?? true) ? 1.0 : _schedule.AlphaCumprod(0);
    }

    public string Name => "ddim";

    public SchedulerConfig Config { get; }

    public SamplingRun Begin(int numInferenceSteps) =>
        new Run(this, numInferenceSteps, StepMath.Timesteps(Config.TimestepSpacing ?? TimestepSpacing.Leading, Config.NumTrainTimesteps, numInferenceSteps, Config.StepsOffset));

    public torch.Tensor AddNoise(torch.Tensor x0, torch.Tensor noise, torch.Tensor t) => _diffusion.QSample(x0, t, noise);

    /// <summary>
    /// sigma_t^2 / eta^2 between <paramref name="t"/> and <paramref name="prevT"/> (negative: the final step),
    /// Eq. 16 of Song et al. 2021: (1 - abar_prev) / (1 - abar_t) * (1 - abar_t / abar_prev).
    /// </summary>
    public double StepVariance(long t, long prevT)
    {
        var abar = _schedule.AlphaCumprod((int)t);
        var abarPrev = AlphaCumprodPrev(prevT);
        return (1 - abarPrev) / (1 - abar) * (1 - abar / abarPrev);
    }

    private double AlphaCumprodPrev(long prevT) => prevT >= 0 ? _schedule.AlphaCumprod((int)prevT) : _finalAlphaCumprod;

    /// <summary>Eq. 12 of Song et al. 2021 with sigma_t = eta * sqrt(Eq. 16).</summary>
    private StepResult Reverse(torch.Tensor modelOutput, long t, long prevT, torch.Tensor x, SampleGenerators? generators)
    {
        var abar = _schedule.AlphaCumprod((int)t);
        var abarPrev = AlphaCumprodPrev(prevT);
        var type = Config.PredictionType;
        // As diffusers: x_0 is thresholded or clipped, eps comes from the model's output as it is (for every
        // prediction type), unless use_clipped_model_output re-derives it from the clipped x_0.
        var x0 = StepMath.ThresholdOrClip(GaussianDiffusion.PredictedOriginal(type, modelOutput, x, abar), Config);
        var eps = Config.UseClippedModelOutput
            ? GaussianDiffusion.PredictedEpsilon(PredictionType.Sample, x0, x, abar)
            : GaussianDiffusion.PredictedEpsilon(type, modelOutput, x, abar);
        var sigma = Config.Eta * Math.Sqrt(StepVariance(t, prevT));
        // "direction pointing to x_t"; the max only guards eta > 1, where the root would be of a negative number.
        var direction = eps * Math.Sqrt(Math.Max(1 - abarPrev - sigma * sigma, 0));
        var prevSample = x0 * Math.Sqrt(abarPrev) + direction;
        if (Config.Eta > 0) prevSample = prevSample + StepMath.StepNoise(modelOutput, generators, Name) * sigma;
        return new StepResult(prevSample, x0);
    }

    private sealed class Run(DdimScheduler scheduler, int numInferenceSteps, long[] timesteps) : SamplingRun
    {
        private readonly torch.Tensor _timesteps = StepMath.RunOwned(timesteps);

        public override torch.Tensor Timesteps => _timesteps;

        public override torch.Tensor AddNoise(torch.Tensor x0, torch.Tensor noise, torch.Tensor t) => scheduler.AddNoise(x0, noise, t);

        public override StepResult Step(torch.Tensor modelOutput, torch.Tensor t, torch.Tensor x, SampleGenerators? generators)
        {
            var step = StepMath.Timestep(t, scheduler.Config.NumTrainTimesteps);
            var prevT = step - scheduler.Config.NumTrainTimesteps / numInferenceSteps;
            return scheduler.Reverse(modelOutput, step, prevT, x, generators);
        }
    }
}
