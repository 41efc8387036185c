using Diffuse.Configuration;
using Diffuse.Ode;
using Diffuse.Pipelines;
using Diffuse.Sampling;
using Diffuse.ScoreSampling;

namespace Diffuse.Cli;

/// <summary>The sampler a command runs and its settings, as <see cref="SamplerOptions"/> read them; sampling with a progress bar.</summary>
public sealed record SamplerSettings(string Sampler, int? RequestedSteps, double? Eta, long Seed, bool UseEma, bool? Karras = null,
    NoiseSampler Noise = NoiseSampler.Gaussian, ScoreSamplerSettings? Score = null)
{
    /// <summary>
    /// The scheduler does not clip x_0 (<c>clip_sample</c> off, so no thresholding either): classifier guidance clips the
    /// model's x_0 itself before it adds the gradient, as guided-diffusion does, because a clip after the guidance cuts it
    /// where it matters most (high noise) and, in DDIM, leaves a guided eps beside an unguided x_0 that pushes the sample
    /// away from the class.
    /// </summary>
    public bool UnclippedScheduler { get; init; }

    /// <summary>The default sampler of 2-D models (the library's).</summary>
    public const string DefaultSampler = Api.Defaults.PointSampler;

    /// <summary>The default sampler of image models (the library's).</summary>
    public const string DefaultImageSampler = Api.Defaults.ImageSampler;

    /// <summary>The default sampler of img2img, super-resolution and cascades (the library's).</summary>
    public const string DefaultEditingSampler = Api.Defaults.EditingSampler;

    /// <summary>Whether the steps run on Karras sigmas for <paramref name="model"/>: --karras, or the library's default for the sampler.</summary>
    public bool KarrasFor(IDiffusionModel model) => Karras ?? Api.Defaults.KarrasSigmas(model.Config, Sampler);

    /// <summary>The number of steps to run for <paramref name="model"/>: --steps, or the library's default for the sampler.</summary>
    public int StepsFor(IDiffusionModel model) => RequestedSteps ?? Api.Defaults.Steps(model.Config, Sampler);

    /// <summary>The steps of a scheduler's run for <paramref name="model"/>, refused when they exceed its training timesteps.</summary>
    public int CheckedSteps(IDiffusionModel model)
    {
        int steps = StepsFor(model);
        if (steps > model.Config.Scheduler.NumTrainTimesteps)
            throw new UsageException($"--steps {steps} exceeds the model's {model.Config.Scheduler.NumTrainTimesteps} training timesteps");
        return steps;
    }

    /// <summary>The score sampler's settings for <paramref name="model"/>; null for a scheduler.</summary>
    public ScoreSamplerSettings? ScoreSettingsFor(IDiffusionModel model) => Score is null ? null : Score with { Steps = StepsFor(model) };

    /// <summary>Network evaluations per sample of the last <see cref="Sample"/> with a score sampler.</summary>
    long? lastEvaluations;

    /// <summary>How the samples were drawn, for reports: the sampler, its steps and, for score samplers, the network evaluations.</summary>
    public string Label(IDiffusionModel model)
    {
        if (Score is null) return $"{Sampler}{(KarrasFor(model) ? " (Karras sigmas)" : "")}, {StepsFor(model)} steps";
        var s = ScoreSettingsFor(model)!;
        string nfe = lastEvaluations is { } e ? $", {e} NFE" : "";
        return Sampler switch
        {
            ScoreSamplers.ProbabilityFlowOde => $"ode, rtol {s.Tolerances.Relative:G3} atol {s.Tolerances.Absolute:G3}{nfe}",
            ScoreSamplers.PredictorCorrector or ScoreSamplers.Langevin => $"{Sampler}, {s.Steps} steps, {s.EffectiveCorrectorSteps} corrector, snr {s.Snr:G3}{nfe}",
            ScoreSamplers.AnnealedLangevin => $"{Sampler}, {s.Steps} levels x {s.EffectiveCorrectorSteps}{nfe}",
            _ => $"{Sampler}, {s.Steps} steps{nfe}",
        };
    }

    /// <summary>EDM's churn settings given on the command line (each null: the model's config).</summary>
    public (double? SChurn, double? STmin, double? STmax, double? SNoise) Churn { get; init; }

    public IScheduler CreateScheduler(IDiffusionModel model) =>
        model.CreateScheduler(Sampler, c => c with
        {
            Eta = Eta ?? c.Eta, UseKarrasSigmas = KarrasFor(model), ClipSample = UnclippedScheduler ? false : c.ClipSample,
            NoiseSampler = Noise == NoiseSampler.Gaussian ? c.NoiseSampler : Noise,
            SChurn = Churn.SChurn ?? c.SChurn, STmin = Churn.STmin ?? c.STmin, STmax = Churn.STmax ?? c.STmax, SNoise = Churn.SNoise ?? c.SNoise,
        });

    /// <summary>Samples with a progress bar.</summary>
    public TorchSharp.torch.Tensor Sample(IDiffusionModel model, long n, TorchSharp.torch.Generator generator) =>
        Sample(model, n, generator, (scheduler, steps, progress) => model.Sample(n, scheduler, steps, generator, progress));

    /// <summary>
    /// Samples with a progress bar, with what <paramref name="conditioning"/> gives the network (class labels or prompts and
    /// their guidance, classifier guidance); null: unconditionally.
    /// </summary>
    public TorchSharp.torch.Tensor Sample(IDiffusionModel model, long n, TorchSharp.torch.Generator generator, Guidance.ISamplingConditioning? conditioning)
    {
        if (conditioning is not null && Score is not null)
            throw new UsageException($"classes, prompts and guidance run with the schedulers; the score sampler '{Sampler}' draws unconditionally");
        return Sample(model, n, generator, (scheduler, steps, progress) => model.Sample(n, scheduler, steps, generator, conditioning, progress));
    }

    TorchSharp.torch.Tensor Sample(IDiffusionModel model, long n, TorchSharp.torch.Generator generator,
        Func<IScheduler, int, IProgress<StepInfo>, TorchSharp.torch.Tensor> draw)
    {
        if (ScoreSettingsFor(model) is { } settings)
        {
            long planned = model.ScoreStepsFor(n, settings);
            var result = ProgressDisplay.Run($"sample {Sampler}", (int)Math.Min(int.MaxValue, planned), report =>
                model.SampleScore(n, settings, generator, new SyncProgress<StepInfo>(s => report(s.Step, $"t={s.Timestep:0.###}"))));
            lastEvaluations = result.FunctionEvaluations;
            return result.Samples;
        }
        var scheduler = CreateScheduler(model);
        int steps = CheckedSteps(model);
        int total = (int)Math.Min(int.MaxValue, model.StepsFor(n, steps));
        return ProgressDisplay.Run($"sample {Sampler}", total, report =>
            draw(scheduler, steps, new SyncProgress<StepInfo>(s => report(s.Step, $"t={s.Timestep:0.##}"))));
    }
}
