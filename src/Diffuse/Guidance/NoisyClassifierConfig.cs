using Diffuse.Configuration;
using System.Text.Json;
using System.Text.Json.Serialization;
using Diffuse.IO;
using Diffuse.Models;

namespace Diffuse.Guidance;

/// <summary>
/// The config.json of a noise-aware classifier's folder (written by <c>diffuse train-classifier</c>): the network, the
/// forward process it was trained on, the images it takes and their class names, how it was trained, and its measured
/// accuracy. <see cref="CheckGuides"/> refuses a model it cannot guide.
/// </summary>
[JsonUnmappedMemberHandling(JsonUnmappedMemberHandling.Disallow)]
public sealed record NoisyClassifierConfig
{
    public const string FormatName = "diffuse-classifier";
    public const int CurrentVersion = 1;
    public const string WeightsFile = "classifier.safetensors";

    public string Format { get; init; } = FormatName;
    public int Version { get; init; } = CurrentVersion;
    /// <summary>The encoder half of a U-Net of these settings (<see cref="NoisyClassifier"/>).</summary>
    public UNetConfig Encoder { get; init; } = new();
    public ClassifierSchedule Schedule { get; init; } = new();
    /// <summary>The dataset's name or folder.</summary>
    public string Data { get; init; } = "";
    /// <summary>Channels, size and class names (label order) of the images; train_count the training images.</summary>
    public ImageSpec Image { get; init; } = new();
    public NoisyClassifierSettings Training { get; init; } = new();
    /// <summary>The accuracy on the held-out images measured after training; null before.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public ClassifierAccuracy? Accuracy { get; init; }

    [JsonIgnore] public int NumClasses => Image.ClassNames.Length;

    public string ToJson() => JsonSerializer.Serialize(this, Json.Options);

    public void Validate()
    {
        Encoder.Validate();
        Schedule.Validate();
        Image.Validate();
        Training.Validate();
        if (NumClasses < 2) throw new DiffuseException($"a classifier needs at least 2 class names, got {NumClasses}");
        if (Encoder.InChannels != Image.Channels || Encoder.ImageSize != Image.Height || Image.Height != Image.Width)
            throw new DiffuseException($"the encoder takes {Encoder.InChannels}x{Encoder.ImageSize}x{Encoder.ImageSize} images but the data has {Image.Channels}x{Image.Height}x{Image.Width}");
    }

    /// <summary>Parses and validates a classifier's config.json; <paramref name="source"/> names the file in errors.</summary>
    public static NoisyClassifierConfig FromJson(string json, string source)
    {
        NoisyClassifierConfig? config;
        try
        {
            config = JsonSerializer.Deserialize<NoisyClassifierConfig>(json, Json.Options);
        }
        catch (JsonException e)
        {
            throw new DiffuseException($"{source} is not a classifier config (written by 'diffuse train-classifier'): {JsonErrors.Describe(e)}");
        }
        catch (DiffuseException e)
        {
            throw new DiffuseException($"{source} is not a classifier config (written by 'diffuse train-classifier'): {e.Message}");
        }
        if (config is null || config.Format != FormatName)
            throw new DiffuseException($"{source} is not a classifier config (format '{config?.Format}', expected '{FormatName}'; write one with 'diffuse train-classifier')");
        if (config.Version != CurrentVersion) throw new DiffuseException($"{source} has classifier config version {config.Version}; this Diffuse reads version {CurrentVersion}");
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

    /// <summary>
    /// Refuses, in one line, a model this classifier cannot guide: other image channels or size, or another noise
    /// schedule (the classifier knows p(y | x_t) only at the noise levels it was trained on).
    /// </summary>
    public void CheckGuides(ModelConfig model, string classifierDir, string modelDir)
    {
        var image = model.Data.Image ?? throw new DiffuseException($"classifier guidance needs an image model; '{modelDir}' holds a model of 2-D points");
        if (image.Channels != Image.Channels || image.Height != Image.Height || image.Width != Image.Width)
            throw new DiffuseException($"the classifier '{classifierDir}' was trained on {Image.Channels}x{Image.Height}x{Image.Width} images but '{modelDir}' makes {image.Channels}x{image.Height}x{image.Width} ones");
        var schedule = ClassifierSchedule.Of(model.Scheduler);
        if (!Schedule.SameAs(schedule))
            throw new DiffuseException($"the classifier '{classifierDir}' was trained on the noise schedule ({Schedule.Describe()}) but '{modelDir}' uses ({schedule.Describe()}); train one with 'diffuse train-classifier --schedule-from {modelDir}'");
    }
}

/// <summary>A noise-aware classifier's accuracy on held-out images: clean (t = 0), at t drawn uniformly, and at a few fixed t.</summary>
public sealed record ClassifierAccuracy(long Images, double Clean, double Noisy, TimestepAccuracy[] AtTimesteps);

/// <summary>The accuracy on held-out images noised to timestep <paramref name="Timestep"/>.</summary>
public sealed record TimestepAccuracy(int Timestep, double Accuracy);
