using System.Text.Json.Serialization;

namespace Diffuse.Configuration;

/// <summary>
/// Hyper-parameters of <c>UNet2D</c>, the image denoiser of Ho et al. 2020 (appendix B) with the
/// options of Nichol &amp; Dhariwal 2021 (multi-head attention, scale-shift norm, class conditioning).
/// Arrays make record equality reference-based: compare <see cref="ChannelMult"/> and
/// <see cref="AttentionResolutions"/> with <c>SequenceEqual</c>.
/// </summary>
[JsonUnmappedMemberHandling(JsonUnmappedMemberHandling.Disallow)]
public sealed record UNetConfig : NetworkConfig
{
    /// <summary>Always "unet": the model type written to config.json.</summary>
    public override string Type { get; init; } = "unet";
    public int InChannels { get; init; } = 1;
    public int OutChannels { get; init; } = 1;
    /// <summary>Height and width of the (square) input images.</summary>
    public int ImageSize { get; init; } = 28;
    /// <summary>Channels of the first level (model_channels, "ch"); the timestep embedding has 4× as many.</summary>
    public int BaseChannels { get; init; } = 32;
    /// <summary>One multiplier of <see cref="BaseChannels"/> per resolution level; each level after the first halves the resolution.</summary>
    public int[] ChannelMult { get; init; } = [1, 2, 2];
    /// <summary>Residual blocks per level on the way down (the way up has one more, for the downsampler's skip).</summary>
    public int NumResBlocks { get; init; } = 2;
    /// <summary>Pixel resolutions (e.g. 16 for 16×16) whose levels get a self-attention block after each residual block.</summary>
    public int[] AttentionResolutions { get; init; } = [7];
    /// <summary>Attention heads; must divide the channels of every level with attention and of the middle block.</summary>
    public int NumHeads { get; init; } = 1;
    public double Dropout { get; init; }
    /// <summary>use_scale_shift_norm of Nichol &amp; Dhariwal 2021: the timestep embedding scales and shifts the second norm instead of being added.</summary>
    public bool ScaleShift { get; init; }
    /// <summary>Number of classes for class conditioning; label <c>NumClasses</c> is the null label. Null: unconditional.</summary>
    public int? NumClasses { get; init; }
    public int GroupNormGroups { get; init; } = 32;
    /// <summary>
    /// The text encoder of a text-conditional U-Net (its token states feed a cross-attention block after each attention
    /// block, and its [CLS] state joins the timestep embedding); null for unconditional and class-conditional U-Nets
    /// (not written, so their config.json and fingerprints stay as they were).
    /// </summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public TextEncoderConfig? TextEncoder { get; init; }
    /// <summary>Downsample by a stride-2 3×3 conv and follow nearest upsampling with a 3×3 conv; false: average pooling and plain nearest upsampling.</summary>
    public bool ResamplingWithConv { get; init; } = true;

    /// <summary>
    /// A second timestep embedding (its own MLP over the same sinusoids) for the noise level of a super-resolution model's
    /// augmented low-resolution input, added to the time embedding (noise-conditioning augmentation, Ho et al. 2021,
    /// arXiv:2106.15282, Sec. 4.3). False, the default, is not written, so older configs keep their fingerprint.
    /// </summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)]
    public bool NoiseLevelEmbedding { get; init; }

    /// <summary>Channels of the timestep (and class) embedding.</summary>
    [JsonIgnore] public int TimeEmbedDim => 4 * BaseChannels;

    /// <summary>
    /// 1,540,681 parameters for 28×28 grayscale, sized for a 2-core CPU (about 84 GFLOP per forward
    /// pass at batch 256): few channels at full resolution, where the compute is, and most of
    /// the parameters at 7×7.
    /// </summary>
    public static UNetConfig Tiny => new()
    {
        BaseChannels = 24, ChannelMult = [1, 2, 4], NumResBlocks = 1, AttentionResolutions = [7],
        NumHeads = 4, GroupNormGroups = 8,
    };

    /// <summary>6,946,881 parameters for 28×28 grayscale, with scale-shift norm and dropout.</summary>
    public static UNetConfig Small => new()
    {
        BaseChannels = 64, ChannelMult = [1, 2, 2], NumResBlocks = 2, AttentionResolutions = [7],
        NumHeads = 4, GroupNormGroups = 32, Dropout = 0.1, ScaleShift = true,
    };

    /// <summary>The CIFAR-10 network of Ho et al. 2020 (appendix B): 35,746,307 parameters.</summary>
    public static UNetConfig DdpmCifar10 => new()
    {
        InChannels = 3, OutChannels = 3, ImageSize = 32, BaseChannels = 128, ChannelMult = [1, 2, 2, 2],
        NumResBlocks = 2, AttentionResolutions = [16], NumHeads = 1, Dropout = 0.1, GroupNormGroups = 32,
    };

    // Factories, not instances: a preset's arrays must not be shared and mutated.
    static readonly (string Name, Func<UNetConfig> Create)[] Presets = [("tiny", () => Tiny), ("small", () => Small), ("ddpm-cifar10", () => DdpmCifar10)];

    public static IReadOnlyList<string> PresetNames { get; } = Presets.Select(p => p.Name).ToArray();

    /// <summary>A fresh copy of the preset called <paramref name="name"/> (case-insensitive); see <see cref="PresetNames"/>.</summary>
    public static UNetConfig Preset(string name)
    {
        foreach (var (n, create) in Presets)
            if (string.Equals(n, name, StringComparison.OrdinalIgnoreCase)) return create();
        throw new DiffuseException($"unknown U-Net preset '{name}'; expected one of: {string.Join(", ", PresetNames)}");
    }

    /// <summary>
    /// This network for <paramref name="channels"/>-channel images of side <paramref name="size"/>:
    /// attention stays at the same levels (a preset's attention at 7x7 for 28x28 images moves to
    /// 8x8 for 32x32 ones). Fails with a one-line message when the levels do not divide the size.
    /// </summary>
    public override UNetConfig ForImages(int channels, int size)
    {
        int levels = ChannelMult.Length;
        var attentionLevels = Enumerable.Range(0, levels).Where(l => (AttentionResolutions ?? []).Contains(LevelResolution(l)));
        var adapted = this with
        {
            InChannels = channels,
            OutChannels = OutChannels == InChannels ? channels : OutChannels / Math.Max(1, InChannels) * channels,
            ImageSize = size,
            AttentionResolutions = attentionLevels.Select(l => size >> l).ToArray(),
        };
        int factor = 1 << (levels - 1);
        if (size % factor != 0)
            throw new DiffuseException($"images of {size}x{size} do not fit this U-Net's {levels} levels: the size must be divisible by {factor}; pass --image-size {Math.Max(factor, size / factor * factor)}");
        adapted.Validate();
        return adapted;
    }

    /// <summary>Channels of each level: <see cref="BaseChannels"/> × <see cref="ChannelMult"/>.</summary>
    public int LevelChannels(int level) => BaseChannels * ChannelMult[level];

    /// <summary>Pixel resolution of each level: <see cref="ImageSize"/> / 2^level.</summary>
    public int LevelResolution(int level) => ImageSize >> level;

    /// <summary>Throws a one-line error for values no network can be built from.</summary>
    public override void Validate()
    {
        if (Type != "unet") throw new DiffuseException($"model type '{Type}' is not a U-Net");
        if (InChannels < 1) throw new DiffuseException($"model in_channels must be at least 1, got {InChannels}");
        if (OutChannels < 1) throw new DiffuseException($"model out_channels must be at least 1, got {OutChannels}");
        if (BaseChannels < 2 || BaseChannels % 2 != 0) throw new DiffuseException($"model base_channels must be even and at least 2, got {BaseChannels}");
        if (ChannelMult is null || ChannelMult.Length == 0) throw new DiffuseException("model channel_mult needs at least one level, e.g. [1, 2, 2]");
        if (ChannelMult.Any(m => m < 1)) throw new DiffuseException($"model channel_mult entries must be at least 1, got [{string.Join(", ", ChannelMult)}]");
        if (NumResBlocks < 1) throw new DiffuseException($"model num_res_blocks must be at least 1, got {NumResBlocks}");
        if (Dropout < 0 || Dropout >= 1 || double.IsNaN(Dropout)) throw new DiffuseException($"model dropout must lie in [0, 1), got {Dropout}");
        if (NumClasses is < 1) throw new DiffuseException($"model num_classes must be at least 1 or null (unconditional), got {NumClasses}");
        if (GroupNormGroups < 1) throw new DiffuseException($"model group_norm_groups must be at least 1, got {GroupNormGroups}");
        if (NumHeads < 1) throw new DiffuseException($"model num_heads must be at least 1, got {NumHeads}");
        Limits.AtMost(InChannels, 64, "model in_channels");
        Limits.AtMost(OutChannels, 64, "model out_channels");
        Limits.AtMost(ImageSize, Limits.ImageSide, "model image_size");
        Limits.AtMost(ChannelMult.Length, 12, "the number of model channel_mult levels");
        Limits.AtMost(ChannelMult.Max() * (long)BaseChannels, Limits.Width, "model base_channels x channel_mult");
        Limits.AtMost(NumResBlocks, Limits.Depth, "model num_res_blocks");
        Limits.AtMost(NumClasses ?? 0, Limits.Entries, "model num_classes");
        if (TextEncoder is not null && NumClasses is not null)
            throw new DiffuseException("a U-Net is conditioned on classes (num_classes) or on text (text_encoder), not both");
        TextEncoder?.Validate();

        int levels = ChannelMult.Length, factor = 1 << (levels - 1);
        if (ImageSize < factor || ImageSize % factor != 0)
            throw new DiffuseException($"model image_size {ImageSize} must be divisible by 2^(levels - 1) = {factor} for {levels} levels; use fewer channel_mult entries or another size");
        foreach (int c in ChannelMult.Select(m => BaseChannels * m).Prepend(BaseChannels).Distinct())
            if (c % GroupNormGroups != 0)
                throw new DiffuseException($"model group_norm_groups {GroupNormGroups} must divide every level's channels, but not {c}; choose groups dividing base_channels {BaseChannels} × channel_mult");

        var resolutions = Enumerable.Range(0, levels).Select(LevelResolution).ToArray();
        foreach (int r in AttentionResolutions ?? [])
            if (!resolutions.Contains(r))
                throw new DiffuseException($"model attention resolution {r} is never reached; the levels have resolutions [{string.Join(", ", resolutions)}]");
        var attended = Enumerable.Range(0, levels).Where(l => (AttentionResolutions ?? []).Contains(LevelResolution(l))).Append(levels - 1);
        foreach (int c in attended.Select(LevelChannels).Distinct())
            if (c % NumHeads != 0)
                throw new DiffuseException($"model num_heads {NumHeads} must divide the channels of every attention block, but not {c}");
    }

    [System.Text.Json.Serialization.JsonIgnore]
    public override int? ClassCount => NumClasses;

    public override UNetConfig WithClasses(int classes) => this with { NumClasses = classes };

    public override UNetConfig WithText(TextEncoderConfig text) => this with { TextEncoder = text };

    public override UNetConfig ForSuperResolution(int channels, bool noiseLevels) =>
        this with { InChannels = 2 * channels, NoiseLevelEmbedding = noiseLevels };

    [System.Text.Json.Serialization.JsonIgnore]
    public override TextEncoderConfig? Text => TextEncoder;

    [System.Text.Json.Serialization.JsonIgnore]
    public override string? LegacyKey => "unet";

    [System.Text.Json.Serialization.JsonIgnore]
    public override IReadOnlyList<string> RequiredKeys =>
    [
        "in_channels", "out_channels", "image_size", "base_channels", "channel_mult", "num_res_blocks", "attention_resolutions",
        "num_heads", "group_norm_groups", "scale_shift", "resampling_with_conv",
        .. TextEncoder is null ? [] : new[] { "vocabulary", "max_length", "width", "layers", "heads" }.Select(k => $"text_encoder.{k}"),
    ];

    /// <summary>A U-Net takes square images of its channels (twice them beside a super-resolution model's low-resolution copy).</summary>
    public override void CheckFits(ModelConfig config)
    {
        var image = config.Data.Image ?? throw new DiffuseException("a U-Net model needs image data ('image' under 'data')");
        var superRes = config.SuperRes;
        // A super-resolution U-Net takes the noisy image and the upsampled low-resolution one, channel by channel.
        int inChannels = superRes is null ? image.Channels : 2 * image.Channels;
        if (InChannels != inChannels || ImageSize != image.Height || ImageSize != image.Width)
            throw new DiffuseException($"the U-Net takes {InChannels}x{ImageSize}x{ImageSize} inputs but the data{(superRes is null ? "" : " and its low-resolution copy")} make {inChannels}x{image.Height}x{image.Width}");
        if (superRes is not null)
        {
            if (NumClasses is not null) throw new DiffuseException("a super-resolution model is conditioned on its low-resolution input, not on class labels");
            if (TextEncoder is not null) throw new DiffuseException("a super-resolution model is conditioned on its low-resolution input, not on text");
            if (NoiseLevelEmbedding != (superRes.CondNoiseMax is not null))
                throw new DiffuseException(superRes.CondNoiseMax is null
                    ? "noise_level_embedding needs super_res cond_noise_max (noise-conditioning augmentation)"
                    : "super_res cond_noise_max needs a U-Net with noise_level_embedding, which is told the augmentation's level");
        }
        else if (NoiseLevelEmbedding) throw new DiffuseException("noise_level_embedding applies to super-resolution models (super_res set) only");
        if (TextEncoder is { FromCaptionsFile: false } && image.ClassNames.Length == 0)
            throw new DiffuseException("a text-conditional U-Net needs the class names its captions were made from ('class_names' under 'data.image') or a captions file ('captions' under 'network.text_encoder')");
        if (NumClasses is { } classes && classes != image.ClassNames.Length)
            throw new DiffuseException($"the U-Net has {classes} classes but the data names {image.ClassNames.Length}");
        // A learned variance doubles the output: the prediction's C channels, then the variance's (Nichol & Dhariwal 2021, Sec. 3.1).
        bool learned = config.Scheduler.VarianceType is VarianceType.Learned or VarianceType.LearnedRange;
        int outChannels = learned ? 2 * image.Channels : image.Channels;
        if (OutChannels != outChannels)
            throw new DiffuseException($"the U-Net outputs {OutChannels} channels but variance_type {IO.Json.Name(config.Scheduler.VarianceType)} of {image.Channels}-channel images needs {outChannels}");
    }
}
