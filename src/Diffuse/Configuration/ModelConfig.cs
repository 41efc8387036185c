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
        if (Training.TimestepSampler != TimestepSampling.Uniform)
            throw new DiffuseException($"an SDE model draws continuous times; {TimestepSamplings.Name(Training.TimestepSampler)} timestep sampler does not apply");
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

    /// <summary>
    /// The keys every config.json has held since its format began and that change what the model computes (its noise
    /// schedule, prediction, data scaling, image shape, SDE): a file missing one (or giving it as null) is refused rather
    /// than filled with a default. A key below an optional section (<c>data.image</c>, <c>sde</c>, <c>super_res</c>) is
    /// required when the section is there. Records made in C# keep their defaults; only reading a file requires them.
    /// </summary>
    static readonly string[] RequiredKeys =
    [
        "format", "version", "scheduler", "data", "training",
        "scheduler.num_train_timesteps", "scheduler.beta_start", "scheduler.beta_end", "scheduler.beta_schedule",
        "scheduler.prediction_type", "scheduler.variance_type",
        "data.name", "data.dim", "data.mean", "data.scale", "data.image.channels", "data.image.height", "data.image.width",
        "sde.type", "sde.beta_min", "sde.beta_max", "sde.sigma_min", "sde.sigma_max", "sde.eps", "sde.discrete_steps",
        "super_res.scale",
    ];

    /// <summary>The first required key <paramref name="root"/> lacks or holds as null, or null when it has them all.</summary>
    static string? MissingKey(JsonElement root)
    {
        string section = NetworkKeys.First(k => root.TryGetProperty(k, out _));
        var network = root.GetProperty(section);
        var type = section == "network"
            ? network.ValueKind == JsonValueKind.Object && network.TryGetProperty("type", out var t) && t.ValueKind == JsonValueKind.String ? t.GetString() : null
            : section == "model" ? "mlp" : "unet";
        var networkKeys = type is not null && NetworkConfigTypes.Find(type) is { } configType && Default(configType) is { } defaults
            ? defaults.RequiredKeys.Select(k => $"{section}.{k}")
            : [];
        return RequiredKeys.Concat(networkKeys).FirstOrDefault(key => IsMissing(root, key));
    }

    static NetworkConfig? Default(Type configType)
    {
        try
        {
            return Activator.CreateInstance(configType) as NetworkConfig;
        }
        catch (Exception e) when (e is MissingMethodException or System.Reflection.TargetInvocationException or MemberAccessException)
        {
            return null;
        }
    }

    /// <summary>True when <paramref name="dottedKey"/>'s parent object is there but the key is absent or null.</summary>
    static bool IsMissing(JsonElement root, string dottedKey)
    {
        var parts = dottedKey.Split('.');
        var parent = root;
        foreach (var part in parts[..^1])
        {
            if (parent.ValueKind != JsonValueKind.Object || !parent.TryGetProperty(part, out parent) || parent.ValueKind != JsonValueKind.Object)
                return false; // an optional section that is not there, or one that deserialization refuses
        }
        return !parent.TryGetProperty(parts[^1], out var value) || value.ValueKind == JsonValueKind.Null;
    }

    /// <summary>
    /// Parses and validates config.json; <paramref name="source"/> names the file in errors, which are one line each and
    /// name the key (in the file's words: "a whole number", never a .NET type). Keys that change what the model computes
    /// are required (<see cref="RequiredKeys"/>).
    /// </summary>
    public static ModelConfig FromJson(string json, string source)
    {
        ModelConfig? config;
        try
        {
            using var document = JsonDocument.Parse(json);
            var root = document.RootElement;
            if (root.ValueKind == JsonValueKind.Object)
            {
                // Exactly one network section: a missing one must not be filled by the record's default MLP.
                int sections = NetworkKeys.Count(key => root.TryGetProperty(key, out _));
                if (sections != 1)
                    throw new DiffuseException($"{source} needs exactly one network section, 'network' with a 'type' (files written before it: 'model' or 'unet'); it has {sections}");
                if (root.TryGetProperty("format", out var format) && !(format.ValueKind == JsonValueKind.String && format.GetString() == FormatName))
                    throw new DiffuseException($"{source} is not a Diffuse model config (format {(format.ValueKind == JsonValueKind.String ? $"'{format.GetString()}'" : format.GetRawText())}, expected '{FormatName}')");
                if (MissingKey(root) is { } missing)
                    throw new DiffuseException($"{source} has no '{missing}'; a model's config.json must give it (a default could change what the model computes)");
            }
            config = root.Deserialize<ModelConfig>(Json.Options);
        }
        catch (JsonException e)
        {
            throw new DiffuseException($"{source} is not a valid model config: {JsonErrors.Describe(e)}");
        }
        catch (DiffuseException e) when (!e.Message.StartsWith(source, StringComparison.Ordinal))
        {
            throw new DiffuseException($"{source} is not a valid model config: {e.Message}");
        }
        if (config is null) throw new DiffuseException($"{source} is not a valid model config: it is JSON null");
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
