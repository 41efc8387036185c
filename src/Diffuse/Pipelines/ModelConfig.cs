using System.Text.Json;
using System.Text.Json.Serialization;
using Diffuse.IO;
using Diffuse.Models;
using Diffuse.Sampling;

namespace Diffuse.Pipelines;

/// <summary>
/// The contents of a model directory's config.json: the network, the noise process and its
/// default sampler settings (diffusers' scheduler keys), the data and the training run.
/// </summary>
[JsonUnmappedMemberHandling(JsonUnmappedMemberHandling.Disallow)]
public sealed record ModelConfig
{
    public const string FormatName = "diffuse-model";
    public const int CurrentVersion = 1;

    public string Format { get; init; } = FormatName;
    public int Version { get; init; } = CurrentVersion;
    public MlpConfig Model { get; init; } = new();
    public SchedulerConfig Scheduler { get; init; } = new();
    public DataSpec Data { get; init; } = new();
    public TrainingSpec Training { get; init; } = new();

    public string ToJson() => JsonSerializer.Serialize(this, Json.Options);

    /// <summary>Parses and validates config.json; <paramref name="source"/> names the file in errors.</summary>
    public static ModelConfig FromJson(string json, string source)
    {
        ModelConfig? config;
        try
        {
            config = JsonSerializer.Deserialize<ModelConfig>(json, Json.Options);
        }
        catch (JsonException e)
        {
            throw new DiffuseException($"{source} is not a valid model config: {e.Message.Split('\n')[0]}");
        }
        if (config is null) throw new DiffuseException($"{source} is not a valid model config: it is JSON null");
        if (config.Format != FormatName) throw new DiffuseException($"{source} is not a Diffuse model config (format '{config.Format}', expected '{FormatName}')");
        if (config.Version != CurrentVersion) throw new DiffuseException($"{source} has config version {config.Version}; this Diffuse reads version {CurrentVersion}");
        if (config.Scheduler.UnknownKeys is { Count: > 0 }) throw new DiffuseException($"{source} has an unknown scheduler key '{config.Scheduler.UnknownKeys.Keys.First()}'");
        try
        {
            config.Model.Validate();
            config.Data.Validate();
            config.Training.Validate();
        }
        catch (DiffuseException e)
        {
            throw new DiffuseException($"{source}: {e.Message}");
        }
        if (config.Model.InputDim != config.Data.Dim)
            throw new DiffuseException($"{source}: model input_dim {config.Model.InputDim} does not match data dim {config.Data.Dim}");
        return config;
    }
}
