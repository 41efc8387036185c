using Diffuse.Configuration;
using Diffuse.Models;
using Diffuse.Models.Convolutions;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Diffuse.Tests.Models;

/// <summary>
/// A network type the library does not know: registered from the test project (<see cref="Register"/>), it must load,
/// train, save and sample through the public API like the built-in ones. Images only: two 3x3 convolutions around a
/// timestep embedding, and an optional class embedding.
/// </summary>
public sealed record ProbeConfig : NetworkConfig
{
    public const string TypeName = "test_probe";

    public override string Type { get; init; } = TypeName;
    public int Channels { get; init; } = 1;
    public int Hidden { get; init; } = 8;
    public int? Classes { get; init; }

    /// <summary>Takes the test-only conditioning kind's slot (<see cref="BrightnessConditioning.Slot"/>): each image's mean brightness.</summary>
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingDefault)]
    public bool Brightness { get; init; }

    public override void Validate()
    {
        if (Type != TypeName) throw new DiffuseException($"network type '{Type}' is not {TypeName}");
        if (Channels < 1 || Hidden < 2 || Hidden % 2 != 0) throw new DiffuseException("network channels must be at least 1 and hidden even");
    }

    public override void CheckFits(ModelConfig config)
    {
        var image = config.Data.Image ?? throw new DiffuseException($"{TypeName} takes images");
        if (image.Channels != Channels) throw new DiffuseException($"network channels {Channels} differ from the data's {image.Channels}");
    }

    public override ProbeConfig ForImages(int channels, int size) => this with { Channels = channels };

    public override ProbeConfig WithClasses(int classes) => this with { Classes = classes };

    [System.Text.Json.Serialization.JsonIgnore]
    public override int? ClassCount => Classes;

    /// <summary>Registers the type (idempotent).</summary>
    public static void Register() => NetworkTypes.Register<ProbeConfig>(TypeName, config => new ProbeNetwork(config));
}

public sealed class ProbeNetwork : DenoiserNetwork
{
    private readonly SinusoidalEmbedding time_proj;
    private readonly Linear time_linear;
    private readonly Embedding? class_embedding;
    private readonly Linear? brightness_linear;
    private readonly SafeConv2d conv_in, conv_out;

    public ProbeConfig Config { get; }

    public override NetworkConfig NetworkConfig => Config;

    /// <summary>
    /// Every call's input dtype, condition and class labels (copied: the condition's tensors die with the caller's scope),
    /// in order: what a test wants to see the trainer or sampler pass.
    /// </summary>
    public List<(ScalarType Dtype, Condition Condition, long[]? Labels)> Calls { get; } = [];

    /// <summary>The brightness slot of every call that had one (copied), in order.</summary>
    public List<float[]> Brightnesses { get; } = [];

    public ProbeNetwork(ProbeConfig config) : base(nameof(ProbeNetwork))
    {
        Config = config;
        time_proj = new SinusoidalEmbedding(config.Hidden);
        time_linear = nn.Linear(config.Hidden, config.Hidden);
        if (config.Classes is int classes) class_embedding = nn.Embedding(classes + 1, config.Hidden);
        if (config.Brightness) brightness_linear = nn.Linear(1, config.Hidden);
        conv_in = new SafeConv2d(config.Channels, config.Hidden, 3, padding: 1);
        conv_out = new SafeConv2d(config.Hidden, config.Channels, 3, padding: 1);
        RegisterComponents();
    }

    public override Tensor Forward(DenoiserInput input)
    {
        Calls.Add((input.X.dtype, input.Condition, input.Condition.ClassLabels?.data<long>().ToArray()));
        if (input.Condition.Tokens is not null || input.Condition.LowResolution is not null) throw Refuses("prompts or low-resolution images");
        using var scope = NewDisposeScope();
        long b = input.X.shape[0];
        var emb = time_linear.forward(time_proj.forward(input.T).to(input.X.dtype));
        if (class_embedding is not null)
            emb = emb + class_embedding.forward(input.Condition.ClassLabels ?? full([b], (long)Config.Classes!.Value, ScalarType.Int64));
        else if (input.Condition.ClassLabels is not null) throw Refuses("class labels");
        if (input.Condition.Named?.GetValueOrDefault(BrightnessConditioning.Slot) is { } brightness)
        {
            if (brightness_linear is null) throw Refuses("brightness");
            Brightnesses.Add(brightness.to(ScalarType.Float32).data<float>().ToArray());
            emb = emb + brightness_linear.forward(brightness.to(input.X.dtype).view(b, 1));
        }
        var h = nn.functional.silu(conv_in.forward(input.X) + emb.view(b, -1, 1, 1));
        return conv_out.forward(h).MoveToOuterDisposeScope();
    }
}
