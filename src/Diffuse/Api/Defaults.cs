using Diffuse.Configuration;
using Diffuse.ScoreSampling;

namespace Diffuse.Api;

/// <summary>
/// The library's defaults, in one place: what a <see cref="SampleRequest"/> or <see cref="TrainRequest"/> leaves unset
/// becomes these, and the CLI shows the same values.
/// </summary>
public static class Defaults
{
    /// <summary>The sampler of a model of points: the whole DDPM chain (cheap for an MLP).</summary>
    public const string PointSampler = "ddpm";

    /// <summary>
    /// The sampler of an image model: DPM-Solver++(2M) SDE (Lu et al. 2022) on Karras sigmas, 20 steps, the best quality
    /// per network evaluation measured on the demo's models (docs/results.md, "Quality per compute").
    /// </summary>
    public const string ImageSampler = "dpmpp_2m_sde";

    /// <summary>The steps of <see cref="ImageSampler"/> on an image model when a request names none.</summary>
    public const int ImageSteps = 20;

    /// <summary>Whether <see cref="ImageSampler"/> runs on Karras et al. 2022 sigmas on an image model unless a request says otherwise.</summary>
    public const bool ImageKarrasSigmas = true;

    /// <summary>
    /// The sampler of img2img, super-resolution and cascades: DDIM, deterministic at eta 0, whose strength and
    /// conditioning figures in docs/results.md were measured with it.
    /// </summary>
    public const string EditingSampler = "ddim";

    /// <summary>The step count of every sampler but DDPM, the score samplers' chains and a data kind's own default sampler.</summary>
    public const int FewSteps = 50;

    /// <summary>Samples a request draws when it names no count.</summary>
    public const int SampleCount = 16;

    /// <summary>Images sampled together: bounds memory and keeps the per-image cost near its minimum on a CPU (the image model's own default).</summary>
    public const int SampleBatchSize = Pipelines.ImageModel.DefaultBatchSize;

    /// <summary>The sampler of <paramref name="config"/>'s model: pc for a continuous-time SDE model (no scheduler applies), else its data kind's (dpmpp_2m_sde for images, DDPM for points).</summary>
    public static string Sampler(ModelConfig config) =>
        config.Sde is not null ? ScoreSamplers.PredictorCorrector : DataKinds.For(config).DefaultSampler;

    /// <summary>
    /// The steps of <paramref name="sampler"/> on <paramref name="config"/>'s model: every training timestep for ddpm and the
    /// score samplers' chains (an SDE model's own N), 10 noise levels for annealed Langevin, the data kind's own count for its
    /// default sampler (20 for images), else <see cref="FewSteps"/> (at most the training timesteps).
    /// </summary>
    public static int Steps(ModelConfig config, string sampler)
    {
        if (ScoreSamplers.IsScoreSampler(sampler))
            return sampler == ScoreSamplers.AnnealedLangevin ? 10 : config.Sde?.DiscreteSteps ?? config.Scheduler.NumTrainTimesteps;
        if (sampler == "ddpm") return config.Scheduler.NumTrainTimesteps;
        var kind = DataKinds.For(config);
        int steps = sampler == kind.DefaultSampler && kind.DefaultSteps is { } own ? own : FewSteps;
        return Math.Min(steps, config.Scheduler.NumTrainTimesteps);
    }

    /// <summary>
    /// Whether <paramref name="sampler"/> runs on Karras sigmas on <paramref name="config"/>'s model when a request does not
    /// say: the data kind's choice for its default sampler (on for images), else the model's scheduler config.
    /// </summary>
    public static bool KarrasSigmas(ModelConfig config, string sampler)
    {
        var kind = DataKinds.For(config);
        return config.Scheduler.UseKarrasSigmas || (config.Sde is null && sampler == kind.DefaultSampler && kind.DefaultKarrasSigmas);
    }

    /// <summary>The sampling precision of <paramref name="config"/>'s model, its data kind's: bfloat16 for image networks (about twice the speed on CPUs with AVX-512 BF16), float32 for points.</summary>
    public static Precision SamplingPrecision(ModelConfig config) => DataKinds.For(config).DefaultPrecision;

    /// <summary>
    /// The training settings of image runs, chosen for the tiny U-Net on MNIST-like data on a CPU: mixed-precision bfloat16
    /// where the CPU has bfloat16 arithmetic (<see cref="CpuFeatures.HasBFloat16"/>: 1.65 times the steps per second of
    /// float32 for a better model at the same wall-clock, docs/results.md "Quality per compute"), float32 elsewhere.
    /// </summary>
    public static TrainingSpec ImageTraining { get; } = new()
    {
        Steps = 3000, BatchSize = 64, LearningRate = 1e-3, WarmupSteps = 200, EmaDecay = 0.999,
        Precision = CpuFeatures.HasBFloat16 ? TrainingPrecision.Bf16 : TrainingPrecision.Fp32,
    };

    /// <summary>The training settings of point runs (the MLP on 2-D toy data).</summary>
    public static TrainingSpec PointTraining { get; } = new();

    /// <summary>The network preset of image runs.</summary>
    public const string ImagePreset = "tiny";
}

/// <summary>The number format a network runs in.</summary>
public enum Precision
{
    Fp32,
    Bf16,
}
