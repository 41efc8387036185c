namespace Diffuse.Configuration;

/// <summary>Hyper-parameters of <c>MlpDenoiser</c>, the denoiser of points (network type "mlp"; "model" in config.json before the "network" section).</summary>
[System.Text.Json.Serialization.JsonUnmappedMemberHandling(System.Text.Json.Serialization.JsonUnmappedMemberHandling.Disallow)]
public sealed record MlpConfig : NetworkConfig
{
    /// <summary>Always "mlp": the model type written to config.json.</summary>
    public override string Type { get; init; } = "mlp";
    public int InputDim { get; init; } = 2;
    public int HiddenDim { get; init; } = 128;
    public int Blocks { get; init; } = 3;
    public int TimeEmbedDim { get; init; } = 128;

    /// <summary>Throws a one-line error for values no network can be built from.</summary>
    public override void Validate()
    {
        if (Type != "mlp") throw new DiffuseException($"model type '{Type}' is not an MLP");
        if (InputDim < 1) throw new DiffuseException($"model input_dim must be at least 1, got {InputDim}");
        if (HiddenDim < 1) throw new DiffuseException($"model hidden_dim must be at least 1, got {HiddenDim}");
        if (Blocks < 0) throw new DiffuseException($"model blocks must be at least 0, got {Blocks}");
        if (TimeEmbedDim < 2 || TimeEmbedDim % 2 != 0) throw new DiffuseException($"model time_embed_dim must be even and at least 2, got {TimeEmbedDim}");
        Limits.AtMost(InputDim, Limits.Entries, "model input_dim");
        Limits.AtMost(HiddenDim, Limits.Width, "model hidden_dim");
        Limits.AtMost(Blocks, Limits.Depth, "model blocks");
        Limits.AtMost(TimeEmbedDim, Limits.Width, "model time_embed_dim");
    }

    [System.Text.Json.Serialization.JsonIgnore]
    public override string? LegacyKey => "model";

    [System.Text.Json.Serialization.JsonIgnore]
    public override IReadOnlyList<string> RequiredKeys => ["input_dim", "hidden_dim", "blocks", "time_embed_dim"];

    public override MlpConfig ForPoints(int dim) => this with { InputDim = dim };

    /// <summary>An MLP takes points of its input_dim and predicts no variance.</summary>
    public override void CheckFits(ModelConfig config)
    {
        if (config.Data.Image is not null) throw new DiffuseException("an MLP model cannot be trained on image data");
        if (config.Scheduler.VarianceType is VarianceType.Learned or VarianceType.LearnedRange)
            throw new DiffuseException($"variance_type {IO.Json.Name(config.Scheduler.VarianceType)} needs a U-Net with twice the image channels; the MLP of points predicts no variance");
        if (InputDim != config.Data.Dim)
            throw new DiffuseException($"model input_dim {InputDim} does not match data dim {config.Data.Dim}");
        if (config.SuperRes is not null) throw new DiffuseException("super_res applies to image models");
    }
}
