using Diffuse.Pipelines;
using Diffuse.Sampling;

namespace Diffuse.Cli;

/// <summary>The sampling options shared by <c>sample</c> and <c>eval</c>.</summary>
public sealed record SamplerOptions(string Sampler, int? RequestedSteps, double? Eta, long Seed, bool UseEma, bool Karras = false,
    NoiseSampler Noise = NoiseSampler.Gaussian)
{
    public static readonly string[] ValueNames = ["sampler", "steps", "eta", "seed", "weights", "noise"];
    public static readonly string[] FlagNames = ["karras"];

    /// <summary>Samplers on the discrete timestep grid, to which Karras sigmas do not apply.</summary>
    static readonly string[] DiscreteSamplers = ["ddpm", "ddim", "pndm"];

    public const string DefaultSampler = "ddpm";

    /// <summary>The step count of every sampler but DDPM, which runs its whole chain (every training timestep) unless told otherwise.</summary>
    public const int DefaultFewSteps = 50;

    public const string HelpText = """
          --sampler NAME       a sampler from 'diffuse samplers' (default ddpm for points, ddim for images)
          --steps N            sampling steps (default: every training timestep for ddpm, 50 for the others)
          --karras             Karras et al. 2022 sigmas for the steps (sigma-based and multistep samplers)
          --noise KIND         gaussian | brownian: fresh step noise (default), or one Brownian tree per run so that
                               the sample changes smoothly with --steps (euler_ancestral, dpm2_ancestral, dpmpp_*_sde)
          --eta E              DDIM noise, 0 deterministic .. 1 DDPM-like (default 0; ddim only)
          --seed S             seed of the sampling noise (default 0)
          --weights W          ema | model: which weights to sample with (default ema)
        """;

    /// <summary>The default sampler of image models: the whole DDPM chain costs 20 times as much for little gain.</summary>
    public const string DefaultImageSampler = "ddim";

    public static SamplerOptions From(Args a, string defaultSampler = DefaultSampler)
    {
        string weights = a.Get("weights") ?? "ema";
        if (weights is not ("ema" or "model")) throw new UsageException($"--weights must be 'ema' or 'model', got '{weights}'");
        string sampler = a.Get("sampler") ?? defaultSampler;
        if (!Schedulers.Names.Contains(sampler))
            throw new UsageException($"unknown sampler '{sampler}'; expected one of: {string.Join(", ", Schedulers.Names)}");
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
        return new SamplerOptions(sampler, steps, eta, a.Long("seed", 0), weights == "ema", karras, noise);
    }

    /// <summary>The number of steps to run for <paramref name="model"/>.</summary>
    public int StepsFor(IDiffusionModel model) =>
        RequestedSteps ?? (Sampler == "ddpm" ? model.Config.Scheduler.NumTrainTimesteps : Math.Min(DefaultFewSteps, model.Config.Scheduler.NumTrainTimesteps));

    public IScheduler CreateScheduler(IDiffusionModel model) =>
        model.CreateScheduler(Sampler, c => c with
        {
            Eta = Eta ?? c.Eta, UseKarrasSigmas = Karras || c.UseKarrasSigmas,
            NoiseSampler = Noise == NoiseSampler.Gaussian ? c.NoiseSampler : Noise,
        });

    /// <summary>Samples with a progress bar.</summary>
    public TorchSharp.torch.Tensor Sample(IDiffusionModel model, long n, TorchSharp.torch.Generator generator) =>
        Sample(model, n, (scheduler, steps, progress) => model.Sample(n, scheduler, steps, generator, progress));

    /// <summary>Samples an image model with a progress bar, with class labels and guidance when <paramref name="conditioning"/> is set.</summary>
    public TorchSharp.torch.Tensor Sample(ImageModel model, long n, TorchSharp.torch.Generator generator, Guidance.Conditioning? conditioning) =>
        Sample(model, n, (scheduler, steps, progress) => model.Sample(n, scheduler, steps, generator, conditioning, progress));

    TorchSharp.torch.Tensor Sample(IDiffusionModel model, long n, Func<IScheduler, int, IProgress<StepInfo>, TorchSharp.torch.Tensor> draw)
    {
        var scheduler = CreateScheduler(model);
        int steps = StepsFor(model);
        if (steps > model.Config.Scheduler.NumTrainTimesteps)
            throw new UsageException($"--steps {steps} exceeds the model's {model.Config.Scheduler.NumTrainTimesteps} training timesteps");
        int total = (int)Math.Min(int.MaxValue, model.StepsFor(n, steps));
        return ProgressDisplay.Run($"sample {Sampler}", total, report =>
            draw(scheduler, steps, new StepProgress(s => report(s.Step, $"t={s.Timestep:0.##}"))));
    }

    sealed class StepProgress(Action<StepInfo> report) : IProgress<StepInfo>
    {
        public void Report(StepInfo value) => report(value);
    }
}
