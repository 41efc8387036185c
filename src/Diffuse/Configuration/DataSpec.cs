namespace Diffuse.Configuration;

/// <summary>
/// What data a model was trained on and how it was normalised ("data" in config.json). Points: the
/// network sees <c>(x - Mean) / Scale</c>, so that every dataset reaches it with zero mean and unit
/// spread. Images: <see cref="Image"/> is set, <see cref="Dim"/> is channels x height x width,
/// <see cref="Mean"/> is empty and the pixels are scaled to [-1, 1].
/// </summary>
[System.Text.Json.Serialization.JsonUnmappedMemberHandling(System.Text.Json.Serialization.JsonUnmappedMemberHandling.Disallow)]
public sealed record DataSpec
{
    public string Name { get; init; } = "";
    public int Dim { get; init; } = 2;
    public float[] Mean { get; init; } = [0f, 0f];
    public double Scale { get; init; } = 1.0;
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    public ImageSpec? Image { get; init; }

    public void Validate()
    {
        if (Dim < 1) throw new DiffuseException($"data dim must be at least 1, got {Dim}");
        Limits.AtMost(Dim, 3L * Limits.ImageSide * Limits.ImageSide, "data dim");
        if (Mean is null) throw new DiffuseException("data mean must be a list of numbers ([] for images)");
        if (Name is null) throw new DiffuseException("data name must be a string (the dataset's name or folder)");
        if (Image is not null)
        {
            Image.Validate();
            if (Dim != Image.Channels * Image.Height * Image.Width)
                throw new DiffuseException($"data dim {Dim} is not channels x height x width of the image ({Image.Channels}x{Image.Height}x{Image.Width})");
            if (Mean.Length != 0 || Scale != 1.0) throw new DiffuseException("image data has no mean or scale: pixels are scaled to [-1, 1]");
            return;
        }
        if (Mean.Length != Dim) throw new DiffuseException($"data mean has {Mean.Length} values but dim is {Dim}");
        if (!(Scale > 0) || double.IsInfinity(Scale)) throw new DiffuseException($"data scale must be a positive number, got {Scale}");
    }
}
