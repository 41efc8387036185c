using Diffuse.Configuration;
using Diffuse.Models;
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

    /// <summary>Draws <paramref name="n"/> points in data space, shape [n, dim].</summary>
    public Tensor Sample(long n, IScheduler scheduler, int steps, Generator generator, IProgress<StepInfo>? progress = null)
    {
        if (n < 1) throw new DiffuseException($"--n must be at least 1, got {n}");
        if (Config.Sde is { } sde) throw sde.DiscreteSchedulerRefusal(Directory, scheduler.Name);
        using var scope = NewDisposeScope();
        var x = SamplingLoop.Run((xt, t) => Network.forward(xt, t), scheduler, steps, [n, Config.Data.Dim], generator, progress);
        var mean = tensor(Config.Data.Mean);
        return (x * Config.Data.Scale + mean).MoveToOuterDisposeScope();
    }

    public Tensor Denoise(Tensor x, Tensor t) => Network.forward(x, t);

    /// <summary>Draws <paramref name="n"/> points in data space, shape [n, dim], with a score-based sampler.</summary>
    public ScoreSample SampleScore(long n, ScoreSamplerSettings settings, Generator generator, IProgress<StepInfo>? progress = null)
    {
        if (n < 1) throw new DiffuseException($"--n must be at least 1, got {n}");
        settings.Validate();
        var view = ((IDiffusionModel)this).ScoreView(settings.Steps);
        using var scope = NewDisposeScope();
        var result = ScoreSamplers.Run(view.Sde, view.Score, [n, Config.Data.Dim], generator, settings,
            progress is null ? null : StepInfo.FromScoreSampler(progress));
        var mean = tensor(Config.Data.Mean);
        return new ScoreSample((result.Samples * Config.Data.Scale + mean).MoveToOuterDisposeScope(), result.FunctionEvaluations);
    }

    public void Dispose() => Network.Dispose();
}
