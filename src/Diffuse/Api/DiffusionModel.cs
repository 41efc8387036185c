using Diffuse.Configuration;
using Diffuse.Data;
using Diffuse.Evaluation;
using Diffuse.Guidance;
using Diffuse.Pipelines;
using Diffuse.Sampling;
using Diffuse.ScoreSampling;
using Diffuse.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Diffuse.Api;

/// <summary>
/// The library's entry point: a trained model folder, whatever its data (points or images) and network, sampled with a
/// <see cref="SampleRequest"/> and scored with <see cref="Evaluate"/>; <see cref="Train"/> makes one.
/// <code>
/// var run = DiffusionModel.Train(new TrainRequest { Data = "mnist", OutDir = "runs/mnist", Steps = 2000 });
/// using var model = DiffusionModel.Load(run.Directory);
/// using var images = model.Sample(new SampleRequest { Count = 64, Seed = 1 });
/// ImageGrid.WritePng("samples.png", images);
/// </code>
/// </summary>
public sealed class DiffusionModel : IDisposable
{
    private IDiffusionModel inner;

    private DiffusionModel(IDiffusionModel inner, IDataKind kind, bool useEma)
    {
        this.inner = inner;
        Kind = kind;
        UseEma = useEma;
    }

    /// <summary>Loads a model folder (config.json and weights); every problem is a one-line <see cref="DiffuseException"/>.</summary>
    /// <param name="useEma">Sample with the EMA weights (the default) or the raw ones.</param>
    public static DiffusionModel Load(string directory, bool useEma = true)
    {
        var kind = DataKinds.For(ModelLoading.ReadConfig(directory));
        return new DiffusionModel(kind.Load(directory, useEma), kind, useEma);
    }

    /// <summary>Trains a model as <paramref name="request"/> says and writes its folder; load it with <see cref="Load"/>.</summary>
    public static TrainResult Train(TrainRequest request, IProgress<TrainProgress>? progress = null, Action<string>? log = null,
        CancellationToken cancel = default) => TrainRequests.Run(request, progress, log, cancel);

    public string Directory => inner.Directory;
    public ModelConfig Config => inner.Config;
    public bool UseEma { get; }

    /// <summary>The kind of data the model draws (<see cref="DataKinds"/>): what its samples look like and how they are written.</summary>
    public IDataKind Kind { get; }

    /// <summary>True for a model of images, false for one of points.</summary>
    public bool IsImage => Config.IsImage;

    /// <summary>The class names a class-conditional model takes (label order); empty for other models.</summary>
    public IReadOnlyList<string> ClassNames => Config.Network.ClassCount is null ? [] : Config.Data.Image?.ClassNames ?? [];

    /// <summary>True when the model takes prompts.</summary>
    public bool IsTextConditional => Config.Network.Text is not null;

    /// <summary>The model below the facade (an <see cref="ImageModel"/>, a <see cref="PointModel"/> or another kind's) for what requests do not cover.</summary>
    public IDiffusionModel Model => inner;

    /// <summary>
    /// Draws samples in data space: images [N, C, H, W] in [-1, 1], points [N, dim], or [N, ...] of the model's kind
    /// (<see cref="IDataKind.SampleShape"/>); write them with <see cref="IDataKind.WriteSamples"/>. Unset settings take the library's
    /// defaults for this model (<see cref="Defaults"/>). Progress counts network steps over all batches.
    /// </summary>
    public Tensor Sample(SampleRequest? request = null, IProgress<StepInfo>? progress = null)
    {
        request ??= new SampleRequest();
        request.Validate();
        string sampler = request.Sampler ?? Defaults.Sampler(Config);
        int steps = request.Steps ?? Defaults.Steps(Config, sampler);
        bool conditioned = request.Classes is not null || request.Prompts is not null || request.Conditioning is not null;
        if (!conditioned && request.Guidance != 1.0)
            throw new DiffuseException("Guidance needs Classes or Prompts (classifier-free guidance of a conditional model)");
        PrepareNetwork(request);
        using var generator = new Generator((ulong)request.Seed);
        if (ScoreSamplers.IsScoreSampler(sampler))
        {
            if (conditioned) throw new DiffuseException($"classes, prompts and other conditioning run with the schedulers; the score sampler '{sampler}' draws unconditionally");
            var settings = new ScoreSamplerSettings { Name = sampler, Steps = steps };
            return inner.SampleScore(request.Count, settings, generator, progress).Samples;
        }
        if (steps > Config.Scheduler.NumTrainTimesteps)
            throw new DiffuseException($"Steps {steps} exceeds the model's {Config.Scheduler.NumTrainTimesteps} training timesteps");
        var scheduler = inner.CreateScheduler(sampler, c => c with
        {
            Eta = request.Eta ?? c.Eta,
            UseKarrasSigmas = request.KarrasSigmas ?? Defaults.KarrasSigmas(Config, sampler),
        });
        return inner.Sample(request.Count, scheduler, steps, generator, Plan(request), progress);
    }

    /// <summary>The sampling plan a request asks for: its own plan, prompts, classes (resolved against the model's class names) or none.</summary>
    ISamplingConditioning? Plan(SampleRequest request)
    {
        if (request.Conditioning is { } plan) return plan;
        if (request.Prompts is { } prompts)
            return new TextConditioning(Expand(prompts, request.Count), request.Guidance, request.GuidanceRescale);
        if (request.Classes is not { } classes) return null;
        if (ClassNames.Count == 0)
            throw new DiffuseException($"'{Directory}' takes no classes; class labels need a model trained with class conditioning");
        var labels = Expand(classes, request.Count).Select(c => (long)ClassLabels.Resolve(c, ClassNames)).ToArray();
        return new Conditioning(labels, request.Guidance, request.GuidanceRescale);
    }

    /// <summary>
    /// Scores an image model's samples against its data (FCD, classifier confidence, class entropy, beside the
    /// real-vs-real floor), with the quality classifier trained once per dataset and cached.
    /// </summary>
    public ImageEvalReport Evaluate(EvaluateRequest? request = null, IProgress<StepInfo>? progress = null, Action<string>? log = null)
    {
        request ??= new EvaluateRequest();
        var image = Config.Data.Image ?? throw new DiffuseException("Evaluate scores image models; a model of points is scored by sliced Wasserstein distance (SwdScores)");
        if (request.Count < 2) throw new DiffuseException($"Count must be at least 2, got {request.Count}");
        var load = new ImageLoadOptions { CacheDir = request.CacheDir, DataDir = request.DataDir, ImageSize = image.Height, Channels = image.Channels };
        using var data = ImageDatasets.Load(request.Data ?? Config.Data.Name, load, log);
        var (classifier, validationImages) = ImageEvaluation.Classifier(data, Path.Combine(load.ResolveCacheDir(), "classifiers"), log);
        using var _ = classifier.Classifier;
        using var samples = Sample(request.Sampling with { Count = request.Count }, progress);
        return ImageEvaluation.Score(classifier, validationImages, samples, data, request.Sampling.Seed);
    }

    /// <summary>Sets the batch size and the precision a request asks for, where the model's kind has them (<see cref="IDataKind.Prepare"/>).</summary>
    void PrepareNetwork(SampleRequest request) =>
        inner = Kind.Prepare(inner, request.Precision ?? Kind.DefaultPrecision, request.BatchSize, UseEma);

    static string[] Expand(IReadOnlyList<string> values, int count) =>
        values.Count == 1 ? Enumerable.Repeat(values[0], count).ToArray() : values.ToArray();

    public void Dispose() => inner.Dispose();
}

/// <summary>What <see cref="DiffusionModel.Evaluate"/> scores: how many samples, drawn how, against which data.</summary>
public sealed record EvaluateRequest
{
    /// <summary>Samples scored (the published figures use 10,000).</summary>
    public int Count { get; init; } = 1000;

    /// <summary>How the samples are drawn (its Count is replaced by <see cref="Count"/>).</summary>
    public SampleRequest Sampling { get; init; } = new();

    /// <summary>The real data to score against; null: the data the model was trained on.</summary>
    public string? Data { get; init; }

    public string? CacheDir { get; init; }
    public string? DataDir { get; init; }
}
