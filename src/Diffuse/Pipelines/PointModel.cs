using Diffuse.Configuration;
using Diffuse.Guidance;
using Diffuse.Models;
using Diffuse.Process;
using Diffuse.Sampling;
using Diffuse.ScoreSampling;
using TorchSharp;
using static TorchSharp.torch;

namespace Diffuse.Pipelines;

/// <summary>
/// A trained diffusion model of low-dimensional points, loaded from a model directory: the MLP
/// denoiser (EMA weights by default), its config, and sampling in data space.
/// </summary>
public sealed class PointModel : IDiffusionModel
{
    private PointModel(string directory, ModelConfig config, DenoiserNetwork network)
    {
        Directory = directory;
        Config = config;
        Network = network;
    }

    public string Directory { get; }
    public ModelConfig Config { get; }

    /// <inheritdoc cref="IDiffusionModel.CreateScheduler"/>
    public IScheduler CreateScheduler(string sampler, Func<SchedulerConfig, SchedulerConfig>? configure = null) =>
        IDiffusionModel.SchedulerFor(this, sampler, configure);

    /// <summary>The network (an MLP, or any registered type of <see cref="NetworkTypes"/> that takes points).</summary>
    public DenoiserNetwork Network { get; }

    /// <summary>Loads and validates a model directory; every problem is a one-line <see cref="DiffuseException"/>.</summary>
    public static PointModel Load(string directory, bool useEma = true)
    {
        var config = ModelLoading.ReadConfig(directory);
        if (config.Data.Image is not null)
            throw new DiffuseException($"'{directory}' holds an image model; this command needs a model of 2-D points");
        var network = ModelLoading.LoadNetwork(directory, useEma, config.Network);
        return new PointModel(directory, config, network);
    }

    /// <summary>
    /// Points sampled together: bounds the memory of their generators (one per point, a Mersenne Twister's 2.5 KB each) and
    /// of the network's activations.
    /// </summary>
    public const int BatchSize = 16_384;

    /// <summary>
    /// Draws <paramref name="n"/> points in data space, shape [n, dim], <see cref="BatchSize"/> at a time. Point k draws its
    /// noise from a generator of its own, seeded from one draw of <paramref name="generator"/> and k (<see cref="SampleSeeds"/>),
    /// so the first m points of a run of n are those of a run of m.
    /// </summary>
    public Tensor Sample(long n, IScheduler scheduler, int steps, Generator generator, IProgress<StepInfo>? progress = null) =>
        Sample(n, scheduler, steps, generator, null, progress);

    /// <summary>As <see cref="Sample(long, IScheduler, int, Generator, IProgress{StepInfo}?)"/>, with what <paramref name="conditioning"/> gives the network (null: nothing).</summary>
    public Tensor Sample(long n, IScheduler scheduler, int steps, Generator generator, ISamplingConditioning? conditioning, IProgress<StepInfo>? progress = null)
    {
        if (n < 1) throw DiffuseException.For("n", $"n must be at least 1, got {n}");
        if (Config.Sde is { } sde) throw sde.DiscreteSchedulerRefusal(Directory, scheduler.Name);
        var plan = conditioning ?? Unconditional.Instance;
        plan.Validate(Config, Directory, n);
        using var scope = NewDisposeScope();
        var x = SampleBatches.Run(n, BatchSize, steps, generator, progress, Config.Data.Dim, (start, size, generators, batchProgress) =>
        {
            long[] shape = [size, Config.Data.Dim];
            var denoise = plan.Denoiser(Network.Forward, Config, new SamplingBatch(start, shape, generators));
            return SamplingLoop.Run(denoise, scheduler, steps, shape, generators, batchProgress);
        });
        var mean = tensor(Config.Data.Mean);
        return (x * Config.Data.Scale + mean).MoveToOuterDisposeScope();
    }

    public long StepsFor(long n, int steps) => SampleBatches.Count(n, BatchSize) * steps;

    public Tensor Denoise(Tensor x, Tensor t) => Network.forward(x, t);

    /// <summary>Draws <paramref name="n"/> points in data space, shape [n, dim], with a score-based sampler, batched and each point's noise from its own generator as <see cref="Sample(long, IScheduler, int, Generator, IProgress{StepInfo}?)"/>.</summary>
    public ScoreSample SampleScore(long n, ScoreSamplerSettings settings, Generator generator, IProgress<StepInfo>? progress = null)
    {
        if (n < 1) throw DiffuseException.For("n", $"n must be at least 1, got {n}");
        settings.Validate();
        var view = ((IDiffusionModel)this).ScoreView(settings.Steps);
        using var scope = NewDisposeScope();
        long perBatch = ScoreSamplers.PlannedEvaluations(settings) ?? 1000, evaluations = 0;
        var x = SampleBatches.Run(n, BatchSize, (int)Math.Min(int.MaxValue, perBatch), generator, progress, Config.Data.Dim, (_, size, generators, batchProgress) =>
        {
            var result = ScoreSamplers.Run(view.Sde, view.Score, [size, Config.Data.Dim], generators, settings,
                batchProgress is null ? null : StepInfo.FromScoreSampler(batchProgress));
            evaluations = Math.Max(evaluations, result.FunctionEvaluations);
            return result.Samples;
        });
        var mean = tensor(Config.Data.Mean);
        return new ScoreSample((x * Config.Data.Scale + mean).MoveToOuterDisposeScope(), evaluations);
    }

    public long ScoreStepsFor(long n, ScoreSamplerSettings settings) => SampleBatches.Count(n, BatchSize) * (ScoreSamplers.PlannedEvaluations(settings) ?? 1000);

    public void Dispose() => Network.Dispose();
}
