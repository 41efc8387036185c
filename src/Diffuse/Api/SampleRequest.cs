namespace Diffuse.Api;

/// <summary>
/// What to sample: every setting a caller leaves unset takes the library's default for the model (<see cref="Defaults"/>):
/// the sampler and its steps, the precision. Conditioning: one class (name or index) or one prompt for every sample, or
/// one per sample; guidance above 1 applies classifier-free guidance.
/// </summary>
public sealed record SampleRequest
{
    /// <summary>How many samples (images or points).</summary>
    public int Count { get; init; } = Defaults.SampleCount;

    /// <summary>A sampler from <c>diffuse samplers</c> (schedulers and score samplers); null: <see cref="Defaults.Sampler"/>.</summary>
    public string? Sampler { get; init; }

    /// <summary>Sampling steps; null: <see cref="Defaults.Steps"/>.</summary>
    public int? Steps { get; init; }

    /// <summary>The seed of every draw of the run.</summary>
    public long Seed { get; init; }

    /// <summary>Classifier-free guidance scale w (1: the conditional model alone; 0: the unconditional one).</summary>
    public double Guidance { get; init; } = 1.0;

    /// <summary>Guidance rescale phi (Lin et al. 2023), 0 to 1.</summary>
    public double GuidanceRescale { get; init; }

    /// <summary>The class of each sample (a class name or index; one entry applies to all) for a class-conditional model.</summary>
    public IReadOnlyList<string>? Classes { get; init; }

    /// <summary>The prompt of each sample (one entry applies to all) for a text-conditional model.</summary>
    public IReadOnlyList<string>? Prompts { get; init; }

    /// <summary>
    /// Any sampling plan (<see cref="Guidance.ISamplingConditioning"/>), for a conditioning kind the request has no property
    /// for (one registered from outside the library); it takes the place of <see cref="Classes"/> and <see cref="Prompts"/>.
    /// </summary>
    public Guidance.ISamplingConditioning? Conditioning { get; init; }

    /// <summary>The network's number format; null: <see cref="Defaults.SamplingPrecision"/>. Points always run in fp32.</summary>
    public Precision? Precision { get; init; }

    /// <summary>Images sampled together.</summary>
    public int BatchSize { get; init; } = Defaults.SampleBatchSize;

    /// <summary>DDIM's eta (0 deterministic, 1 DDPM-like); null: the model's scheduler config.</summary>
    public double? Eta { get; init; }

    /// <summary>
    /// Karras et al. 2022 sigmas for the steps of sigma-based and multistep samplers; null: <see cref="Defaults.KarrasSigmas"/>
    /// (on for an image model's default sampler).
    /// </summary>
    public bool? KarrasSigmas { get; init; }

    /// <summary>Throws a one-line error naming the request's property for a value no run can take.</summary>
    public void Validate()
    {
        if (Count < 1) throw new DiffuseException($"Count must be at least 1, got {Count}");
        if (Steps is < 1) throw new DiffuseException($"Steps must be at least 1, got {Steps}");
        if (!(Guidance >= 0) || double.IsInfinity(Guidance)) throw new DiffuseException($"Guidance must be a finite number of at least 0, got {Guidance}");
        if (!(GuidanceRescale >= 0 && GuidanceRescale <= 1)) throw new DiffuseException($"GuidanceRescale must lie in [0, 1], got {GuidanceRescale}");
        if (BatchSize < 1) throw new DiffuseException($"BatchSize must be at least 1, got {BatchSize}");
        if (Eta is { } eta && !(eta >= 0 && eta <= 1)) throw new DiffuseException($"Eta must lie in [0, 1], got {eta}");
        if ((Classes is null ? 0 : 1) + (Prompts is null ? 0 : 1) + (Conditioning is null ? 0 : 1) > 1)
            throw new DiffuseException("a request takes one of Classes, Prompts and Conditioning");
        if (Classes is { Count: var c } && c != 1 && c != Count) throw new DiffuseException($"Classes needs one entry or one per sample ({Count}), got {c}");
        if (Prompts is { Count: var p } && p != 1 && p != Count) throw new DiffuseException($"Prompts needs one entry or one per sample ({Count}), got {p}");
    }
}
