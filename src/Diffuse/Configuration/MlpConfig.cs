namespace Diffuse.Configuration;

/// <summary>Hyper-parameters of <c>MlpDenoiser</c> (stored under "model" in config.json).</summary>
[System.Text.Json.Serialization.JsonUnmappedMemberHandling(System.Text.Json.Serialization.JsonUnmappedMemberHandling.Disallow)]
public sealed record MlpConfig
{
    /// <summary>Always "mlp": the model type written to config.json.</summary>
    public string Type { get; init; } = "mlp";
    public int InputDim { get; init; } = 2;
    public int HiddenDim { get; init; } = 128;
    public int Blocks { get; init; } = 3;
    public int TimeEmbedDim { get; init; } = 128;

    /// <summary>Throws a one-line error for values no network can be built from.</summary>
    public void Validate()
    {
        if (Type != "mlp") throw new DiffuseException($"model type '{Type}' is not an MLP");
        if (InputDim < 1) throw new DiffuseException($"model input_dim must be at least 1, got {InputDim}");
        if (HiddenDim < 1) throw new DiffuseException($"model hidden_dim must be at least 1, got {HiddenDim}");
        if (Blocks < 0) throw new DiffuseException($"model blocks must be at least 0, got {Blocks}");
        if (TimeEmbedDim < 2 || TimeEmbedDim % 2 != 0) throw new DiffuseException($"model time_embed_dim must be even and at least 2, got {TimeEmbedDim}");
    }
}
