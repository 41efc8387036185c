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
    /// <summary>The MLP denoiser of point data; null for an image model.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public MlpConfig? Model { get; init; } = new();
    /// <summary>The U-Net of an image model; null for a point model.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public UNetConfig? Unet { get; init; }
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

    /// <summary>True for a U-Net on images, false for an MLP on points.</summary>
    [JsonIgnore]
    public bool IsImage => Unet is not null;

    /// <summary>Checks that exactly one network is described and that it fits the data.</summary>
    public void Validate()
    {
        if ((Model is null) == (Unet is null)) throw new DiffuseException("a model config needs exactly one of 'model' (MLP) and 'unet'");
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
        if (Model is not null)
        {
            Model.Validate();
            if (Data.Image is not null) throw new DiffuseException("an MLP model cannot be trained on image data");
            if (learned) throw new DiffuseException($"variance_type {Json.Name(Scheduler.VarianceType)} needs a U-Net with twice the image channels; the MLP of points predicts no variance");
            if (Model.InputDim != Data.Dim)
                throw new DiffuseException($"model input_dim {Model.InputDim} does not match data dim {Data.Dim}");
        }
        else
        {
            Unet!.Validate();
            var image = Data.Image ?? throw new DiffuseException("a U-Net model needs image data ('image' under 'data')");
            // A super-resolution U-Net takes the noisy image and the upsampled low-resolution one, channel by channel.
            int inChannels = SuperRes is null ? image.Channels : 2 * image.Channels;
            if (Unet.InChannels != inChannels || Unet.ImageSize != image.Height || Unet.ImageSize != image.Width)
                throw new DiffuseException($"the U-Net takes {Unet.InChannels}x{Unet.ImageSize}x{Unet.ImageSize} inputs but the data{(SuperRes is null ? "" : " and its low-resolution copy")} make {inChannels}x{image.Height}x{image.Width}");
            if (SuperRes is not null) ValidateSuperRes(image);
            else if (Unet.NoiseLevelEmbedding) throw new DiffuseException("noise_level_embedding applies to super-resolution models (super_res set) only");
            if (Training.CondDrop is not null && Unet.NumClasses is null && Unet.TextEncoder is null)
                throw new DiffuseException("cond_drop applies to class-conditional models (num_classes set) only");
            if (Unet.TextEncoder is { FromCaptionsFile: false } && image.ClassNames.Length == 0)
                throw new DiffuseException("a text-conditional U-Net needs the class names its captions were made from ('class_names' under 'data.image') or a captions file ('captions' under 'unet.text_encoder')");
            if (Unet.NumClasses is { } classes && classes != image.ClassNames.Length)
                throw new DiffuseException($"the U-Net has {classes} classes but the data names {image.ClassNames.Length}");
            // A learned variance doubles the output: the prediction's C channels, then the variance's (Nichol & Dhariwal 2021, Sec. 3.1).
            int outChannels = learned ? 2 * image.Channels : image.Channels;
            if (Unet.OutChannels != outChannels)
                throw new DiffuseException($"the U-Net outputs {Unet.OutChannels} channels but variance_type {Json.Name(Scheduler.VarianceType)} of {image.Channels}-channel images needs {outChannels}");
        }
    }

    void ValidateSuperRes(ImageSpec image)
    {
        SuperRes!.Validate(Scheduler.NumTrainTimesteps, image.Height);
        if (Sde is not null) throw new DiffuseException("super-resolution is not supported for continuous-time SDE models; train a discrete-time model");
        if (Unet!.NumClasses is not null) throw new DiffuseException("a super-resolution model is conditioned on its low-resolution input, not on class labels");
        if (Unet.TextEncoder is not null) throw new DiffuseException("a super-resolution model is conditioned on its low-resolution input, not on text");
        if (Unet.NoiseLevelEmbedding != (SuperRes.CondNoiseMax is not null))
            throw new DiffuseException(SuperRes.CondNoiseMax is null
                ? "noise_level_embedding needs super_res cond_noise_max (noise-conditioning augmentation)"
                : "super_res cond_noise_max needs a U-Net with noise_level_embedding, which is told the augmentation's level");
    }

    /// <summary>A score model predicts the noise at continuous times: no learned variances, no bound terms, no timestep table.</summary>
    void ValidateSde(bool learned)
    {
        Sde!.Validate();
        if (learned) throw new DiffuseException($"an SDE model learns no variances; variance_type {Json.Name(Scheduler.VarianceType)} does not apply");
        if (Unet?.NumClasses is not null)
            throw new DiffuseException("class conditioning is not supported for continuous-time SDE models yet; train a discrete-time model with --cond class");
        if (Unet?.TextEncoder is not null)
            throw new DiffuseException("text conditioning is not supported for continuous-time SDE models yet; train a discrete-time model with --cond text");
        if (Training.Loss == LossWeighting.Hybrid) throw new DiffuseException("an SDE model is trained by score matching; the hybrid loss does not apply");
        if (Training.TimestepSampler == TimestepSampling.LossAware)
            throw new DiffuseException("an SDE model draws continuous times; the loss-aware timestep sampler does not apply");
        if (Scheduler.PredictionType != PredictionType.Epsilon)
            throw new DiffuseException($"an SDE model's network predicts the noise (epsilon), not {Json.Name(Scheduler.PredictionType)}");
    }

    static bool HasKey(string json, string key)
    {
        using var document = JsonDocument.Parse(json);
        return document.RootElement.ValueKind == JsonValueKind.Object && document.RootElement.TryGetProperty(key, out _);
    }

    /// <summary>
    /// A digest of everything that shapes a training run except its length, so that a checkpoint is
    /// only resumed by a run with the same settings (the step count may grow).
    /// </summary>
    public string Fingerprint()
    {
        var json = (this with { Training = Training with { Steps = 0 } }).ToJson();
        return Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(json)))[..16].ToLowerInvariant();
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
        // An image config has no "model" key; the record's default MLP must not stand in for it.
        if (config.Unet is not null && !HasKey(json, "model")) config = config with { Model = null };
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
