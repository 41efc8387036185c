namespace Diffuse.Pipelines;

/// <summary>
/// What data a model was trained on and how it was normalised ("data" in config.json): the network
/// sees <c>(x - Mean) / Scale</c>, so that every dataset reaches it with zero mean and unit spread.
/// </summary>
[System.Text.Json.Serialization.JsonUnmappedMemberHandling(System.Text.Json.Serialization.JsonUnmappedMemberHandling.Disallow)]
public sealed record DataSpec
{
    public string Name { get; init; } = "";
    public int Dim { get; init; } = 2;
    public float[] Mean { get; init; } = [0f, 0f];
    public double Scale { get; init; } = 1.0;

    public void Validate()
    {
        if (Dim < 1) throw new DiffuseException($"data dim must be at least 1, got {Dim}");
        if (Mean.Length != Dim) throw new DiffuseException($"data mean has {Mean.Length} values but dim is {Dim}");
        if (!(Scale > 0) || double.IsInfinity(Scale)) throw new DiffuseException($"data scale must be a positive number, got {Scale}");
    }
}
