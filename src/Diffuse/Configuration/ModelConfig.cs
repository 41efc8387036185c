using System.Text.Json;
using System.Text.Json.Serialization;

using Diffuse.IO;

namespace Diffuse.Configuration;

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
    /// <summary>
    /// The network, by its <c>"type"</c> (<see cref="NetworkConfig"/>: mlp, unet, or a registered type). Config files
    /// written before the "network" section held it under "model" (the MLP) or "unet"; both are still read.
    /// </summary>
    public NetworkConfig Network
    {
        get => network;
        init => network = value ?? throw new DiffuseException("a model config needs a network ('network' with a 'type')");
    }

    private NetworkConfig network = new MlpConfig();

    /// <summary>The network when it is an MLP of points; null otherwise. Setting it sets <see cref="Network"/> (null is ignored).</summary>
    [JsonIgnore]
    public MlpConfig? Model
    {
        get => network as MlpConfig;
        init { if (value is not null) network = value; }
    }

    /// <summary>The network when it is a U-Net; null otherwise. Setting it sets <see cref="Network"/> (null is ignored).</summary>
    [JsonIgnore]
    public UNetConfig? Unet
    {
        get => network as UNetConfig;
        init { if (value is not null) network = value; }
    }

    // The pre-"network" keys of config.json, read and never written.
    [JsonInclude, JsonPropertyName("model"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    private MlpConfig? LegacyModel { get => null; init { if (value is not null) network = value; } }

    [JsonInclude, JsonPropertyName("unet"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    private UNetConfig? LegacyUnet { get => null; init { if (value is not null) network = value; } }

    public SchedulerConfig Scheduler { get; init; } = new();
    public DataSpec Data { get; init; } = new();
    public TrainingSpec Training { get; init; } = new();
    /// <summary>
    /// The forward SDE of a continuous-time score model trained by denoising score matching; null (and not written, so
    /// older configs keep their fingerprint) for a discrete-time model of <see cref="Scheduler"/>'s timesteps.
    /// </summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public SdeSpec? Sde { get; init; }
    /// <summary>
    /// The super-resolution settings of an SR3-style model (the U-Net takes the noisy image and the upsampled
    /// low-resolution one, 2C channels); null, and not written, for every other model.
    /// </summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public SuperResSpec? SuperRes { get; init; }

    /// <summary>True for a super-resolution model (<see cref="SuperRes"/> set).</summary>
    [JsonIgnore]
    public bool IsSuperResolution => SuperRes is not null;

    public string ToJson() => JsonSerializer.Serialize(this, Json.Options);

    /// <summary>True for a model of images, false for one of points.</summary>
    [JsonIgnore]
    public bool IsImage => Data.Image is not null;

    /// <summary>Checks each section, then that the network fits the data, the noise process and the conditioning.</summary>
    public void Validate()
    {
        Scheduler.Validate();
        Data.Validate();
        Training.Validate();
        bool learned = Scheduler.VarianceType is VarianceType.Learned or VarianceType.LearnedRange;
        if (Sde is not null) ValidateSde(learned);
        else if (Training.Loss == LossWeighting.Likelihood)
            throw new DiffuseException("the likelihood loss weighting applies to continuous-time SDE models only (--sde)");
        if (Training.Loss == LossWeighting.Hybrid && Scheduler.VarianceType != VarianceType.LearnedRange)
            throw new DiffuseException($"the hybrid loss trains learned_range variances, but variance_type is {Json.Name(Scheduler.VarianceType)}");
        if (Scheduler.VarianceType == VarianceType.LearnedRange && Training.Loss != LossWeighting.Hybrid)
            throw new DiffuseException($"learned_range variances are trained by the hybrid loss, not {Json.Name(Training.Loss)}");
        Network.Validate();
        if (SuperRes is not null)
        {
            var image = Data.Image ?? throw new DiffuseException("super_res applies to image models ('image' under 'data')");
            SuperRes.Validate(Scheduler.NumTrainTimesteps, image.Height);
            if (Sde is not null) throw new DiffuseException("super-resolution is not supported for continuous-time SDE models; train a discrete-time model");
        }
        Network.CheckFits(this);
        if (Training.CondDrop is not null && Network.ClassCount is null && Network.Text is null)
            throw new DiffuseException("cond_drop applies to class-conditional models (num_classes set) only");
    }

    /// <summary>A score model predicts the noise at continuous times: no learned variances, no bound terms, no timestep table.</summary>
    void ValidateSde(bool learned)
    {
        Sde!.Validate();
        if (learned) throw new DiffuseException($"an SDE model learns no variances; variance_type {Json.Name(Scheduler.VarianceType)} does not apply");
        if (Network.ClassCount is not null)
            throw new DiffuseException("class conditioning is not supported for continuous-time SDE models yet; train a discrete-time model with --cond class");
        if (Network.Text is not null)
            throw new DiffuseException("text conditioning is not supported for continuous-time SDE models yet; train a discrete-time model with --cond text");
        if (Training.Loss == LossWeighting.Hybrid) throw new DiffuseException("an SDE model is trained by score matching; the hybrid loss does not apply");
        if (Training.TimestepSampler == TimestepSampling.LossAware)
            throw new DiffuseException("an SDE model draws continuous times; the loss-aware timestep sampler does not apply");
        if (Scheduler.PredictionType != PredictionType.Epsilon)
            throw new DiffuseException($"an SDE model's network predicts the noise (epsilon), not {Json.Name(Scheduler.PredictionType)}");
    }

    /// <summary>
    /// A digest of everything that shapes a training run except its length, so that a checkpoint is
    /// only resumed by a run with the same settings (the step count may grow).
    /// </summary>
    /// <remarks>
    /// An mlp or unet network is hashed under its pre-"network" key ("model" / "unet"), as config.json held it when the
    /// fingerprint was introduced, so that runs begun before the "network" section resume.
    /// </remarks>
    public string Fingerprint()
    {
        var json = (this with { Training = Training with { Steps = 0 } }).ToJson();
        if (Network.LegacyKey is { } legacy)
        {
            var node = System.Text.Json.Nodes.JsonNode.Parse(json)!.AsObject();
            var renamed = new System.Text.Json.Nodes.JsonObject();
            foreach (var (key, value) in node.ToArray())
            {
                node.Remove(key);
                renamed[key == "network" ? legacy : key] = value;
            }
            json = renamed.ToJsonString(Json.Options);
        }
        return Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(json)))[..16].ToLowerInvariant();
    }

    static readonly string[] NetworkKeys = ["network", "model", "unet"];

    static bool HasKey(string json, string key)
    {
        using var document = JsonDocument.Parse(json);
        return document.RootElement.ValueKind == JsonValueKind.Object && document.RootElement.TryGetProperty(key, out _);
    }

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
        // Exactly one network section: a missing one must not be filled by the record's default MLP.
        int sections = NetworkKeys.Count(key => HasKey(json, key));
        if (sections != 1)
            throw new DiffuseException($"{source} needs exactly one network section, 'network' with a 'type' (files written before it: 'model' or 'unet'); it has {sections}");
        if (config.Format != FormatName) throw new DiffuseException($"{source} is not a Diffuse model config (format '{config.Format}', expected '{FormatName}')");
        if (config.Version != CurrentVersion) throw new DiffuseException($"{source} has config version {config.Version}; this Diffuse reads version {CurrentVersion}");
        if (config.Scheduler.UnknownKeys is { Count: > 0 }) throw new DiffuseException($"{source} has an unknown scheduler key '{config.Scheduler.UnknownKeys.Keys.First()}'");
        try
        {
            config.Validate();
        }
        catch (DiffuseException e)
        {
            throw new DiffuseException($"{source}: {e.Message}");
        }
        return config;
    }
}
