
namespace Diffuse.Configuration;

/// <summary>How a model was (or is to be) trained ("training" in config.json).</summary>
[System.Text.Json.Serialization.JsonUnmappedMemberHandling(System.Text.Json.Serialization.JsonUnmappedMemberHandling.Disallow)]
public sealed record TrainingSpec
{
    /// <summary>Optimizer steps of the whole run (the learning-rate schedule spans them).</summary>
    public int Steps { get; init; } = 4000;
    public long Seed { get; init; }
    /// <summary>Examples per optimizer step (split into <see cref="GradientAccumulation"/> micro-batches).</summary>
    public int BatchSize { get; init; } = 512;
    /// <summary>Micro-batches whose gradients are summed before each optimizer step.</summary>
    public int GradientAccumulation { get; init; } = 1;
    public double LearningRate { get; init; } = 2e-3;
    public LrSchedule LrSchedule { get; init; } = LrSchedule.Cosine;
    public int WarmupSteps { get; init; } = 100;
    /// <summary>AdamW's decoupled weight decay (Loshchilov and Hutter 2019).</summary>
    public double WeightDecay { get; init; }
    public LossWeighting Loss { get; init; } = LossWeighting.Simple;
    public double MinSnrGamma { get; init; } = 5.0;
    /// <summary>
    /// lambda of the hybrid loss L_simple + lambda L_vlb (Nichol &amp; Dhariwal 2021, Eq. 16); set only with
    /// <see cref="LossWeighting.Hybrid"/> (null: not written, so older configs keep their fingerprint).
    /// </summary>
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    public double? VlbWeight { get; init; }
    /// <summary>How training draws its timesteps (uniform is not written, so older configs keep their fingerprint).</summary>
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingDefault)]
    public TimestepSampling TimestepSampler { get; init; }
    /// <summary>P_mean of the log-normal timestep sampler (the mean of ln sigma); set only with <see cref="TimestepSampling.LogNormal"/> (null: EDM's -1.2).</summary>
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    public double? LogSigmaMean { get; init; }
    /// <summary>P_std of the log-normal timestep sampler (the standard deviation of ln sigma); set only with <see cref="TimestepSampling.LogNormal"/> (null: EDM's 1.2).</summary>
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    public double? LogSigmaStd { get; init; }

    /// <summary>EDM's P_mean (Karras et al. 2022, Table 1): the default mean of ln sigma of the log-normal timestep sampler.</summary>
    public const double DefaultLogSigmaMean = -1.2;
    /// <summary>EDM's P_std (Karras et al. 2022, Table 1): the default standard deviation of ln sigma of the log-normal timestep sampler.</summary>
    public const double DefaultLogSigmaStd = 1.2;
    /// <summary>
    /// The probability p_uncond with which a class-conditional run replaces each label by the null label (Ho &amp; Salimans
    /// 2021, Algorithm 1), so that the network also learns the unconditional model that classifier-free guidance needs;
    /// null for an unconditional run (not written, so older configs keep their fingerprint).
    /// </summary>
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    public double? CondDrop { get; init; }
    /// <summary>
    /// The number format of the forward and backward passes (<see cref="TrainingPrecision"/>); fp32 is not written, so older
    /// configs keep their fingerprint.
    /// </summary>
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingDefault)]
    public TrainingPrecision Precision { get; init; }
    public double EmaDecay { get; init; } = 0.995;
    public double GradClip { get; init; } = 1.0;
    /// <summary>Random horizontal flips of training images.</summary>
    public bool HorizontalFlip { get; init; }
    /// <summary>Random crops after padding each side by this many pixels (0 = none).</summary>
    public int CropPadding { get; init; }
    /// <summary>Fraction of the data held out for the validation loss (images only).</summary>
    public double ValidationFraction { get; init; } = 0.05;
    /// <summary>Steps between checkpoints (0 = only at the end and on Ctrl-C).</summary>
    public int CheckpointEvery { get; init; } = 500;
    /// <summary>Steps between validation losses (0 = never).</summary>
    public int ValidateEvery { get; init; } = 500;
    /// <summary>Steps between PNG grids of samples (0 = never).</summary>
    public int SampleEvery { get; init; } = 1000;

    /// <summary>
    /// The largest learning rate the command line takes (AdamW's steps are about lr per weight: above 1 training only
    /// diverges). The library takes any rate libtorch can hold (a float32); one that diverges stops at its NaN loss.
    /// </summary>
    public const double MaxLearningRate = 1;

    /// <summary>The largest weight decay: AdamW shrinks each weight by lr x weight_decay per step, which must stay below 1.</summary>
    public const double MaxWeightDecay = 1;

    /// <summary>The largest lambda of the hybrid loss (Nichol &amp; Dhariwal use 0.001; L_vlb is in nats per dimension).</summary>
    public const double MaxVlbWeight = 1_000;

    public void Validate()
    {
        if (Steps < 1) throw DiffuseException.For("steps", $"steps must be at least 1, got {Steps}");
        Limits.AtMost(BatchSize, 1_000_000, "training batch_size");
        Limits.AtMost(CropPadding, Limits.ImageSide, "training crop_padding");
        if (BatchSize < 1) throw DiffuseException.For("batch_size", $"batch_size must be at least 1, got {BatchSize}");
        if (GradientAccumulation < 1) throw DiffuseException.For("gradient_accumulation", $"gradient_accumulation must be at least 1, got {GradientAccumulation}");
        if (BatchSize % GradientAccumulation != 0)
            throw DiffuseException.For("batch_size", $"batch_size {BatchSize} must be a multiple of gradient_accumulation {GradientAccumulation}");
        if (!(LearningRate > 0 && LearningRate <= float.MaxValue))
            throw DiffuseException.For("learning_rate", $"learning_rate must be a positive number of float32's range, got {LearningRate}");
        if (WarmupSteps < 0) throw new DiffuseException($"warmup steps must be at least 0, got {WarmupSteps}");
        if (!(WeightDecay >= 0 && WeightDecay <= MaxWeightDecay))
            throw DiffuseException.For("weight_decay", $"weight_decay must lie in [0, {MaxWeightDecay}], got {WeightDecay}");
        if (!(MinSnrGamma > 0)) throw new DiffuseException($"min-SNR gamma must be positive, got {MinSnrGamma}");
        if (VlbWeight is not null && Loss != LossWeighting.Hybrid)
            throw new DiffuseException($"vlb_weight applies to the hybrid loss only, not {IO.Json.Name(Loss)}");
        if (VlbWeight is { } weight && !(weight >= 0 && weight <= MaxVlbWeight))
            throw DiffuseException.For("vlb_weight", $"vlb_weight must lie in [0, {MaxVlbWeight}], got {weight}");
        if ((LogSigmaMean is not null || LogSigmaStd is not null) && TimestepSampler != TimestepSampling.LogNormal)
            throw DiffuseException.For("log_sigma_mean", "log_sigma_mean and log_sigma_std apply to the lognormal timestep sampler only");
        if (LogSigmaMean is { } pMean && !(Math.Abs(pMean) <= 20))
            throw DiffuseException.For("log_sigma_mean", $"log_sigma_mean must lie in [-20, 20], got {pMean}");
        if (LogSigmaStd is { } pStd && !(pStd > 0 && pStd <= 20))
            throw DiffuseException.For("log_sigma_std", $"log_sigma_std must lie in (0, 20], got {pStd}");
        if (CondDrop is { } drop && !(drop >= 0 && drop <= 1)) throw DiffuseException.For("cond_drop", $"cond_drop must be in [0, 1], got {drop}");
        if (!(EmaDecay >= 0 && EmaDecay < 1)) throw DiffuseException.For("ema_decay", $"ema_decay must be in [0, 1), got {EmaDecay}");
        if (!(GradClip > 0)) throw new DiffuseException($"gradient clip must be positive, got {GradClip}");
        if (CropPadding < 0) throw DiffuseException.For("crop_padding", $"crop_padding must be at least 0, got {CropPadding}");
        if (!(ValidationFraction >= 0 && ValidationFraction < 1)) throw DiffuseException.For("validation_fraction", $"validation_fraction must be in [0, 1), got {ValidationFraction}");
        if (CheckpointEvery < 0 || ValidateEvery < 0 || SampleEvery < 0)
            throw DiffuseException.For("checkpoint_every", "checkpoint_every, validate_every and sample_every must be at least 0");
    }

    /// <summary>The default lambda of the hybrid loss, 0.001 as Nichol &amp; Dhariwal 2021 (Sec. 3.1).</summary>
    public const double DefaultVlbWeight = 0.001;

    /// <summary>Examples in one micro-batch.</summary>
    public int MicroBatchSize => BatchSize / GradientAccumulation;
}
