using Diffuse.Configuration;
using Diffuse.Process;
using Diffuse.Schedules;
using TorchSharp;

namespace Diffuse.Sampling;

/// <summary>
/// DDIM inversion: deterministic DDIM (Song et al. 2021, arXiv:2010.02502, Eq. 12 at eta 0) run from the data
/// towards noise, to find the latent that DDIM maps back to a given image (for editing; Mokady et al. 2022,
/// arXiv:2211.09794, Sec. 3), with diffusers' <c>DDIMInverseScheduler</c> semantics. The timesteps ascend:
/// <c>leading</c> k floor(T/n) + <c>steps_offset</c>, or <c>trailing</c> round(T - k T/n) - 1, so they are those
/// of <c>ddim</c> reversed. The step at t lifts the sample from the level of t - floor(T/n) (abar there, or
/// before the first step abar = 1 when <c>set_alpha_to_one</c>, else abar_0) to the level of t, with the model
/// called at t (the target), as diffusers' inversion pipelines do. x_0 is clipped when <c>clip_sample</c> (on by
/// default); eps is the model's own.
/// </summary>
/// <remarks>
/// <list type="table">
/// <item><term>abar, abarNext</term><description>alpha_t and alpha_{t+1} of Song et al. 2021 (cumulative): the level the sample is at and the one it goes to</description></item>
/// <item><term>x0, eps</term><description>f_theta and eps_theta read from the model output at level abar, Eq. 9 and 12</description></item>
/// </list>
/// As in diffusers: no <c>linspace</c> spacing (refused); <c>thresholding</c> is accepted and ignored (diffusers takes it
/// into <c>**kwargs</c>); no eta (a nonzero <c>eta</c> or <c>use_clipped_model_output</c> is refused). <c>sample</c>
/// prediction is refused while <c>set_alpha_to_one</c> holds: its first step would divide by sqrt(1 - 1).
/// </remarks>
public sealed class DdimInverseScheduler : IScheduler
{
    private readonly NoiseSchedule _schedule;
    private readonly GaussianDiffusion _diffusion;
    private readonly double _initialAlphaCumprod;

    public DdimInverseScheduler(SchedulerConfig config)
    {
        ConfigValidation.Check(config, "ddim_inverse");
        if (config.TimestepSpacing == TimestepSpacing.Linspace)
            throw new DiffuseException("ddim_inverse: timestep_spacing linspace is not supported (as in diffusers); use leading or trailing");
        if (config.Eta != 0 || config.UseClippedModelOutput)
            throw new DiffuseException("ddim_inverse: the inversion is deterministic DDIM; eta must be 0 and use_clipped_model_output false");
        Config = config;
        ConfigValidation.CheckPredictionType(config, Name, SupportedPredictionTypes,
            (config.SetAlphaToOne ?? true) ? "with set_alpha_to_one true the first step is at abar 1, where eps = (x - x_0) / 0; set it false" : null);
        _schedule = NoiseSchedule.FromConfig(config);
        _diffusion = new GaussianDiffusion(_schedule, config.PredictionType);
        _initialAlphaCumprod = (config.SetAlphaToOne ?? true) ? 1.0 : _schedule.AlphaCumprod(0);
    }

    public string Name => "ddim_inverse";

    public SchedulerConfig Config { get; }

    /// <summary>All three, but not <c>sample</c> while <c>set_alpha_to_one</c> (see the remarks).</summary>
    public IReadOnlyList<PredictionType> SupportedPredictionTypes =>
        (Config.SetAlphaToOne ?? true) ? ConfigValidation.EpsilonOrV : ConfigValidation.AllPredictionTypes;

    public SamplingRun Begin(int numInferenceSteps)
    {
        var descending = StepMath.Timesteps(Config.TimestepSpacing ?? TimestepSpacing.Leading, Config.NumTrainTimesteps, numInferenceSteps, Config.StepsOffset);
        return new Run(this, numInferenceSteps, descending.Reverse().ToArray());
    }

    public torch.Tensor AddNoise(torch.Tensor x0, torch.Tensor noise, torch.Tensor t) => _diffusion.QSample(x0, t, noise);

    /// <summary>Eq. 12 of Song et al. 2021 at eta 0 with the levels swapped: x_next = sqrt(abarNext) x_0 + sqrt(1 - abarNext) eps.</summary>
    private StepResult Invert(torch.Tensor modelOutput, long t, int numInferenceSteps, torch.Tensor x)
    {
        var T = Config.NumTrainTimesteps;
        var from = Math.Min(t - T / numInferenceSteps, T - 1);
        var abar = from >= 0 ? _schedule.AlphaCumprod((int)from) : _initialAlphaCumprod;
        var abarNext = _schedule.AlphaCumprod((int)t);
        var type = Config.PredictionType;
        var x0 = StepMath.ClipOriginal(GaussianDiffusion.PredictedOriginal(type, modelOutput, x, abar), Config);
        var eps = GaussianDiffusion.PredictedEpsilon(type, modelOutput, x, abar);
        return new StepResult(x0 * Math.Sqrt(abarNext) + eps * Math.Sqrt(1 - abarNext), x0);
    }

    private sealed class Run(DdimInverseScheduler scheduler, int numInferenceSteps, long[] timesteps) : SamplingRun
    {
        public override torch.Tensor AddNoise(torch.Tensor x0, torch.Tensor noise, torch.Tensor t) => scheduler.AddNoise(x0, noise, t);

        private readonly torch.Tensor _timesteps = StepMath.RunOwned(timesteps);

        /// <summary>Ascending, int64, as diffusers' <c>DDIMInverseScheduler.timesteps</c>.</summary>
        public override torch.Tensor Timesteps => _timesteps;

        public override StepResult Step(torch.Tensor modelOutput, torch.Tensor t, torch.Tensor x, SampleGenerators? generators) =>
            scheduler.Invert(modelOutput, StepMath.Timestep(t, scheduler.Config.NumTrainTimesteps), numInferenceSteps, x);
    }
}
