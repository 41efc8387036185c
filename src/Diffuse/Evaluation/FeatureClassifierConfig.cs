namespace Diffuse.Evaluation;

/// <summary>
/// Hyper-parameters of <see cref="FeatureClassifier"/>: three 3x3 convolutions of
/// <see cref="Channels"/> widths at full, half and quarter resolution (2x2 max-pools between them),
/// a <see cref="FeatureDim"/>-wide feature layer and <see cref="Classes"/> logits. The defaults cost
/// about 2.3 M multiply-adds per 28x28 image, small enough to train in minutes on two CPU cores.
/// </summary>
[System.Text.Json.Serialization.JsonUnmappedMemberHandling(System.Text.Json.Serialization.JsonUnmappedMemberHandling.Disallow)]
public sealed record FeatureClassifierConfig
{
    public int InChannels { get; init; } = 1;
    /// <summary>Height and width of the (square) input images; a multiple of 4.</summary>
    public int ImageSize { get; init; } = 28;
    public int Classes { get; init; } = 10;
    public int[] Channels { get; init; } = [16, 32, 64];
    public int FeatureDim { get; init; } = 128;

    /// <summary>Throws a one-line error for values no network can be built from.</summary>
    public void Validate()
    {
        if (InChannels < 1) throw new DiffuseException($"classifier in_channels must be at least 1, got {InChannels}");
        if (ImageSize < 4 || ImageSize % 4 != 0) throw new DiffuseException($"classifier image_size must be a positive multiple of 4, got {ImageSize}");
        if (Classes < 2) throw new DiffuseException($"classifier classes must be at least 2, got {Classes}");
        if (Channels is null || Channels.Length != 3 || Channels.Any(c => c < 1))
            throw new DiffuseException($"classifier channels must be three positive widths, got [{string.Join(", ", Channels ?? [])}]");
        if (FeatureDim < 1) throw new DiffuseException($"classifier feature_dim must be at least 1, got {FeatureDim}");
    }

    // Records compare arrays by reference; a config read back from JSON must equal the one written.
    public bool Equals(FeatureClassifierConfig? other) =>
        other is not null && InChannels == other.InChannels && ImageSize == other.ImageSize && Classes == other.Classes
        && Channels.SequenceEqual(other.Channels) && FeatureDim == other.FeatureDim;

    public override int GetHashCode() => HashCode.Combine(InChannels, ImageSize, Classes, string.Join(",", Channels), FeatureDim);
}
