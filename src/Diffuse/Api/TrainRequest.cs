using Diffuse.Configuration;
using Diffuse.Data;
using Diffuse.Training;

namespace Diffuse.Api;

/// <summary>The conditioning a run trains: none, class labels (with classifier-free dropout) or prompts.</summary>
public enum ConditioningKind
{
    None,
    Class,
    Text,
}

/// <summary>
/// What to train: the data (a 2-D toy distribution such as "moons", a dataset such as "mnist", or an image folder) and the
/// output folder; everything else takes the defaults of the data's kind (<see cref="Defaults.ImageTraining"/> with the
/// "tiny" U-Net for images, <see cref="Defaults.PointTraining"/> with the MLP for points).
/// </summary>
public sealed record TrainRequest
{
    public required string Data { get; init; }
    public required string OutDir { get; init; }

    /// <summary>Optimizer steps; null: the kind's default.</summary>
    public int? Steps { get; init; }
    public int? BatchSize { get; init; }
    public double? LearningRate { get; init; }
    public long Seed { get; init; }

    /// <summary>The network; null: the "tiny" U-Net for images, the default MLP for points. Any registered type works.</summary>
    public NetworkConfig? Network { get; init; }

    /// <summary>The noise process and the model's sampler settings; null: 1,000 linear-beta steps predicting the noise (images clip x_0 to [-1, 1]).</summary>
    public SchedulerConfig? Scheduler { get; init; }

    public ConditioningKind Conditioning { get; init; } = ConditioningKind.None;

    /// <summary>Conditional runs: the share of batches trained unconditionally, for classifier-free guidance.</summary>
    public double ConditionDropout { get; init; } = 0.1;

    /// <summary>Training arithmetic: fp32, or bf16 passes over fp32 master weights.</summary>
    public TrainingPrecision Precision { get; init; } = TrainingPrecision.Fp32;

    /// <summary>Images: the side they are resized to, and how many are read (null: native size, all).</summary>
    public int? ImageSize { get; init; }
    public int? MaxImages { get; init; }

    /// <summary>Replace a folder that already holds a model.</summary>
    public bool Force { get; init; }

    /// <summary>Continue the image run in <see cref="OutDir"/> from its checkpoint (its settings are the folder's; <see cref="Steps"/> may grow).</summary>
    public bool Resume { get; init; }

    public string? CacheDir { get; init; }
    public string? DataDir { get; init; }
}

/// <summary>What a training run reports.</summary>
public sealed record TrainResult(string Directory, int Steps, double FinalLoss, double? ValidationLoss, long Parameters, TimeSpan Elapsed,
    bool Interrupted);

/// <summary>A <see cref="TrainRequest"/> turned into the training jobs' configs and run.</summary>
static class TrainRequests
{
    public static TrainResult Run(TrainRequest request, IProgress<TrainProgress>? progress, Action<string>? log, CancellationToken cancel)
    {
        if (string.IsNullOrWhiteSpace(request.OutDir)) throw new DiffuseException("OutDir must name a folder");
        if (request.Steps is < 1) throw new DiffuseException($"Steps must be at least 1, got {request.Steps}");
        if (!(request.ConditionDropout >= 0 && request.ConditionDropout <= 1))
            throw new DiffuseException($"ConditionDropout must lie in [0, 1], got {request.ConditionDropout}");
        return DataKinds.ForData(request.Data).Train(request, progress, log, cancel);
    }

    /// <summary>
    /// The model config <paramref name="request"/> describes, with its kind's <paramref name="defaults"/> and
    /// <paramref name="network"/> where it names none; <paramref name="clipSample"/>: the default scheduler clips x_0 to [-1, 1].
    /// </summary>
    public static ModelConfig Template(TrainRequest request, TrainingSpec defaults, NetworkConfig network, bool clipSample)
    {
        var training = defaults with
        {
            Steps = request.Steps ?? defaults.Steps,
            BatchSize = request.BatchSize ?? defaults.BatchSize,
            LearningRate = request.LearningRate ?? defaults.LearningRate,
            Seed = request.Seed,
            Precision = request.Precision,
            CondDrop = request.Conditioning == ConditioningKind.None ? null : request.ConditionDropout,
        };
        var scheduler = request.Scheduler ?? new SchedulerConfig { ClipSample = clipSample };
        var chosen = request.Network ?? network;
        if (request.Conditioning == ConditioningKind.Text) chosen = chosen.WithText(new TextEncoderConfig());
        return new ModelConfig { Network = chosen, Scheduler = scheduler, Training = training };
    }
}
