using Diffuse.Configuration;
using Diffuse.Ode;
using Diffuse.Pipelines;
using Diffuse.Sampling;
using Diffuse.ScoreSampling;

namespace Diffuse.Cli;

/// <summary>The sampling options shared by <c>sample</c> and <c>eval</c>.</summary>
public sealed record SamplerSettings(string Sampler, int? RequestedSteps, double? Eta, long Seed, bool UseEma, bool Karras = false,
    NoiseSampler Noise = NoiseSampler.Gaussian, ScoreSamplerSettings? Score = null)
{
    /// <summary>
    /// The scheduler does not clip x_0 (<c>clip_sample</c> off, so no thresholding either): classifier guidance clips the
    /// model's x_0 itself before it adds the gradient, as guided-diffusion does, because a clip after the guidance cuts it
    /// where it matters most (high noise) and, in DDIM, leaves a guided eps beside an unguided x_0 that pushes the sample
    /// away from the class.
    /// </summary>
    public bool UnclippedScheduler { get; init; }

    public static readonly string[] ValueNames = ["sampler", "steps", "eta", "seed", "weights", "noise", "snr", "corrector-steps", "step-size", "rtol", "atol"];
    public static readonly string[] FlagNames = ["karras"];

    /// <summary>Samplers on the discrete timestep grid, to which Karras sigmas do not apply.</summary>
    static readonly string[] DiscreteSamplers = ["ddpm", "ddim", "pndm"];

    public const string DefaultSampler = "ddpm";

    /// <summary>The step count of every sampler but DDPM, which runs its whole chain (every training timestep) unless told otherwise.</summary>
    public const int DefaultFewSteps = 50;

    public const string HelpText = """
          --sampler NAME       a sampler from 'diffuse samplers' (default ddpm for points, ddim for images, pc for
                               continuous-time SDE models)
          --steps N            sampling steps (default: every training timestep for ddpm and the score samplers
                               pc, reverse_diffusion, euler_maruyama, langevin; 10 noise levels for annealed_langevin;
                               50 for the others)
          --karras             Karras et al. 2022 sigmas for the steps (sigma-based and multistep samplers)
          --noise KIND         gaussian | brownian: fresh step noise (default), or one Brownian tree per run so that
                               the sample changes smoothly with --steps (euler_ancestral, dpm2_ancestral, dpmpp_*_sde)
          --eta E              DDIM noise, 0 deterministic .. 1 DDPM-like (default 0; ddim only)
          --seed S             seed of the sampling noise (default 0)
          --weights W          ema | model: which weights to sample with (default ema)
          --snr R              pc, langevin: the Langevin corrector's signal-to-noise ratio (default 0.16)
          --corrector-steps K  pc, langevin: corrector steps per step (default 1); annealed_langevin: per level (100)
          --step-size E        annealed_langevin: the base step size (default 2e-5)
          --rtol R, --atol A   ode: the adaptive solver's tolerances (default 1e-5 each)
        """;

    /// <summary>The default sampler of image models: the whole DDPM chain costs 20 times as much for little gain.</summary>
    public const string DefaultImageSampler = "ddim";

    /// <summary>The default sampler of a model: pc for a continuous-time SDE model (no scheduler applies), else <paramref name="discrete"/>.</summary>
    public static string DefaultFor(ModelConfig config, string discrete) => config.Sde is null ? discrete : ScoreSamplers.PredictorCorrector;

    public static SamplerSettings From(Args a, string defaultSampler = DefaultSampler)
    {
        string weights = a.Get("weights") ?? "ema";
        if (weights is not ("ema" or "model")) throw new UsageException($"--weights must be 'ema' or 'model', got '{weights}'");
        string sampler = a.Get("sampler") ?? defaultSampler;
        if (!Schedulers.Names.Contains(sampler) && !ScoreSamplers.IsScoreSampler(sampler))
            throw new UsageException($"unknown sampler '{sampler}'; expected one of: {string.Join(", ", Schedulers.Names.Concat(ScoreSamplers.Names))}");
        if (ScoreSamplers.IsScoreSampler(sampler)) return FromScore(a, sampler, weights);
        foreach (var name in new[] { "snr", "corrector-steps", "step-size", "rtol", "atol" })
            if (a.Get(name) is not null) throw new UsageException($"--{name} applies to the score samplers ({string.Join(", ", ScoreSamplers.Names)}), not '{sampler}'");
        if (Schedulers.Inverts(sampler)) throw new UsageException($"'{sampler}' inverts images to noise; it is not a sampler");
        double? eta = a.Get("eta") is null ? null : a.Double("eta", 0, 0);
        if (eta is not null && sampler != "ddim") throw new UsageException($"--eta applies to the ddim sampler only, not '{sampler}'");
        int? steps = a.Get("steps") is null ? null : a.Int("steps", 0, 1);
        bool karras = a.Has("karras");
        if (karras && DiscreteSamplers.Contains(sampler)) throw new UsageException($"--karras applies to sigma-based samplers, not '{sampler}'");
        var noise = a.Get("noise") switch
        {
            null or "gaussian" => NoiseSampler.Gaussian,
            "brownian" or "brownian_tree" => NoiseSampler.BrownianTree,
            var other => throw new UsageException($"--noise must be 'gaussian' or 'brownian', got '{other}'"),
        };
        return new SamplerSettings(sampler, steps, eta, a.Long("seed", 0), weights == "ema", karras, noise);
    }

    static SamplerSettings FromScore(Args a, string sampler, string weights)
    {
        foreach (var name in new[] { "eta", "noise" })
            if (a.Get(name) is not null) throw new UsageException($"--{name} does not apply to the score sampler '{sampler}'");
        if (a.Has("karras")) throw new UsageException($"--karras does not apply to the score sampler '{sampler}'");
        bool ode = sampler == ScoreSamplers.ProbabilityFlowOde;
        if (ode && a.Get("steps") is not null) throw new UsageException("the ode sampler adapts its steps to --rtol and --atol; --steps does not apply");
        if (!ode && (a.Get("rtol") is not null || a.Get("atol") is not null)) throw new UsageException($"--rtol and --atol apply to the ode sampler, not '{sampler}'");
        if (a.Get("snr") is not null && sampler is not (ScoreSamplers.PredictorCorrector or ScoreSamplers.Langevin))
            throw new UsageException($"--snr applies to the pc and langevin samplers, not '{sampler}'");
        if (a.Get("step-size") is not null && sampler != ScoreSamplers.AnnealedLangevin)
            throw new UsageException($"--step-size applies to the annealed_langevin sampler, not '{sampler}'");
        int? steps = a.Get("steps") is null ? null : a.Int("steps", 0, 2);
        var settings = new ScoreSamplerSettings
        {
            Name = sampler,
            Snr = a.Double("snr", 0.16, 0, minExclusive: true),
            CorrectorSteps = a.Get("corrector-steps") is null ? null : a.Int("corrector-steps", 0, 0, 10_000),
            StepSize = a.Double("step-size", 2e-5, 0, minExclusive: true),
            Tolerances = new OdeTolerances(a.Double("rtol", 1e-5, 0, minExclusive: true), a.Double("atol", 1e-5, 0, minExclusive: true)),
        };
        try
        {
            (settings with { Steps = steps ?? 2 }).Validate();
        }
        catch (DiffuseException e)
        {
            throw new UsageException(e.Message);
        }
        return new SamplerSettings(sampler, steps, null, a.Long("seed", 0), weights == "ema", Score: settings);
    }

    /// <summary>The default N of the chain samplers: the SDE model's own N, or a discrete model's training timesteps.</summary>
    static int DefaultScoreSteps(IDiffusionModel model, string sampler) =>
        sampler == ScoreSamplers.AnnealedLangevin ? 10 : model.Config.Sde?.DiscreteSteps ?? model.Config.Scheduler.NumTrainTimesteps;

    /// <summary>The number of steps to run for <paramref name="model"/>.</summary>
    public int StepsFor(IDiffusionModel model) =>
        Score is not null ? RequestedSteps ?? DefaultScoreSteps(model, Sampler)
        : RequestedSteps ?? (Sampler == "ddpm" ? model.Config.Scheduler.NumTrainTimesteps : Math.Min(DefaultFewSteps, model.Config.Scheduler.NumTrainTimesteps));

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
        if (Score is null) return $"{Sampler}, {StepsFor(model)} steps";
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

    public IScheduler CreateScheduler(IDiffusionModel model) =>
        model.CreateScheduler(Sampler, c => c with
        {
            Eta = Eta ?? c.Eta, UseKarrasSigmas = Karras || c.UseKarrasSigmas, ClipSample = UnclippedScheduler ? false : c.ClipSample,
            NoiseSampler = Noise == NoiseSampler.Gaussian ? c.NoiseSampler : Noise,
        });

    /// <summary>Samples with a progress bar.</summary>
    public TorchSharp.torch.Tensor Sample(IDiffusionModel model, long n, TorchSharp.torch.Generator generator) =>
        Sample(model, n, generator, (scheduler, steps, progress) => model.Sample(n, scheduler, steps, generator, progress));

    /// <summary>Samples an image model with a progress bar, with class labels and guidance when <paramref name="conditioning"/> is set.</summary>
    public TorchSharp.torch.Tensor Sample(ImageModel model, long n, TorchSharp.torch.Generator generator, Guidance.Conditioning? conditioning)
    {
        if (conditioning is not null && Score is not null)
            throw new UsageException($"class labels and guidance run with the schedulers; the score sampler '{Sampler}' draws unconditionally");
        return Sample(model, n, generator, (scheduler, steps, progress) => model.Sample(n, scheduler, steps, generator, conditioning, progress));
    }

    /// <summary>Samples a text-conditional image model with a progress bar, one prompt per sample.</summary>
    public TorchSharp.torch.Tensor SampleText(ImageModel model, long n, TorchSharp.torch.Generator generator, Guidance.TextConditioning text)
    {
        if (Score is not null)
            throw new UsageException($"prompts and guidance run with the schedulers; the score sampler '{Sampler}' draws unconditionally");
        return Sample(model, n, generator, (scheduler, steps, progress) => model.SampleText(n, scheduler, steps, generator, text, progress));
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
