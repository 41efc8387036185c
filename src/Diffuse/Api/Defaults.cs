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

    /// <summary>The sampler of an image model: DDIM, since the whole DDPM chain costs 20 times as much for little gain.</summary>
    public const string ImageSampler = "ddim";

    /// <summary>The step count of every sampler but DDPM and the score samplers' chains.</summary>
    public const int FewSteps = 50;

    /// <summary>Samples a request draws when it names no count.</summary>
    public const int SampleCount = 16;

    /// <summary>Images sampled together: bounds memory and keeps the per-image cost near its minimum on a CPU (the image model's own default).</summary>
    public const int SampleBatchSize = Pipelines.ImageModel.DefaultBatchSize;

    /// <summary>The sampler of <paramref name="config"/>'s model: pc for a continuous-time SDE model (no scheduler applies), else its data kind's (DDIM for images, DDPM for points).</summary>
    public static string Sampler(ModelConfig config) =>
        config.Sde is not null ? ScoreSamplers.PredictorCorrector : DataKinds.For(config).DefaultSampler;

    /// <summary>
    /// The steps of <paramref name="sampler"/> on <paramref name="config"/>'s model: every training timestep for ddpm and the
    /// score samplers' chains (an SDE model's own N), 10 noise levels for annealed Langevin, else <see cref="FewSteps"/>
    /// (at most the training timesteps).
    /// </summary>
    public static int Steps(ModelConfig config, string sampler)
    {
        if (ScoreSamplers.IsScoreSampler(sampler))
            return sampler == ScoreSamplers.AnnealedLangevin ? 10 : config.Sde?.DiscreteSteps ?? config.Scheduler.NumTrainTimesteps;
        return sampler == "ddpm" ? config.Scheduler.NumTrainTimesteps : Math.Min(FewSteps, config.Scheduler.NumTrainTimesteps);
    }

    /// <summary>The sampling precision of <paramref name="config"/>'s model, its data kind's: bfloat16 for image networks (about twice the speed on CPUs with AVX-512 BF16), float32 for points.</summary>
    public static Precision SamplingPrecision(ModelConfig config) => DataKinds.For(config).DefaultPrecision;

    /// <summary>The training settings of image runs, chosen for the tiny U-Net on MNIST-like data on a CPU.</summary>
    public static TrainingSpec ImageTraining { get; } = new()
    {
        Steps = 3000, BatchSize = 64, LearningRate = 1e-3, WarmupSteps = 200, EmaDecay = 0.999,
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
