namespace Diffuse.Configuration;

/// <summary>
/// The shape and labels of the images a model was trained on ("image" under "data" in
/// config.json). Pixels reach the network scaled to [-1, 1].
/// </summary>
[System.Text.Json.Serialization.JsonUnmappedMemberHandling(System.Text.Json.Serialization.JsonUnmappedMemberHandling.Disallow)]
public sealed record ImageSpec
{
    public int Channels { get; init; } = 1;
    public int Height { get; init; } = 28;
    public int Width { get; init; } = 28;
    /// <summary>Class names in label order; empty for unlabelled data.</summary>
    public string[] ClassNames { get; init; } = [];
    /// <summary>Images in the training split (a resumed run checks that the data did not change).</summary>
    public long TrainCount { get; init; }
    /// <summary>
    /// The run's <c>--max-images</c> (at most N images of the data, <c>ImageLoadOptions.MaxImages</c>), null when it used them
    /// all: a setting that shapes the data, so a resumed run and its evaluations read the same images again.
    /// </summary>
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    public int? MaxImages { get; init; }

    public void Validate()
    {
        if (Channels is not (1 or 3)) throw new DiffuseException($"image channels must be 1 or 3, got {Channels}");
        if (Height < 1 || Width < 1) throw new DiffuseException($"image size must be positive, got {Height}x{Width}");
        if (TrainCount < 0) throw new DiffuseException($"image train_count must be at least 0, got {TrainCount}");
        if (MaxImages is < 1) throw new DiffuseException($"image max_images must be at least 1, got {MaxImages}");
        Limits.AtMost(Height, Limits.ImageSide, "image height");
        Limits.AtMost(Width, Limits.ImageSide, "image width");
        if (ClassNames is null || ClassNames.Any(n => n is null)) throw new DiffuseException("image class_names must be a list of names ([] for unlabelled data)");
        Limits.AtMost(ClassNames.Length, Limits.Entries, "the number of image class_names");
    }
}
