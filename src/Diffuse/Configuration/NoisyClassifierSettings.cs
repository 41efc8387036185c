namespace Diffuse.Configuration;

/// <summary>How a classifier is trained: <see cref="Steps"/> AdamW steps of <see cref="BatchSize"/> images, t ~ U{0..T-1}.</summary>
[System.Text.Json.Serialization.JsonUnmappedMemberHandling(System.Text.Json.Serialization.JsonUnmappedMemberHandling.Disallow)]
public sealed record NoisyClassifierSettings
{
    public int Steps { get; init; } = 1500;
    public int BatchSize { get; init; } = 128;
    public double LearningRate { get; init; } = 2e-3;
    public double WeightDecay { get; init; } = 1e-4;
    public long Seed { get; init; }
    /// <summary>Random shifts of up to this many pixels (padding with the background), 0 for none.</summary>
    public int ShiftPixels { get; init; } = 2;
    /// <summary>The share of the data held out to measure the classifier.</summary>
    public double ValidationFraction { get; init; } = 0.1;

    public void Validate()
    {
        if (Steps < 1) throw DiffuseException.For("steps", $"steps must be at least 1, got {Steps}");
        if (BatchSize < 1) throw DiffuseException.For("batch_size", $"batch_size must be at least 1, got {BatchSize}");
        if (!(LearningRate > 0) || !double.IsFinite(LearningRate)) throw DiffuseException.For("learning_rate", $"learning_rate must be a positive number, got {LearningRate}");
        if (!(WeightDecay >= 0)) throw new DiffuseException($"weight decay must be at least 0, got {WeightDecay}");
        if (ShiftPixels < 0) throw new DiffuseException($"shift pixels must be at least 0, got {ShiftPixels}");
        if (!(ValidationFraction > 0 && ValidationFraction < 1)) throw DiffuseException.For("validation_fraction", $"validation_fraction must be in (0, 1), got {ValidationFraction}");
    }
}
