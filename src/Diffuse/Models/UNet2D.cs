using Diffuse.Configuration;
using Diffuse.Models.Convolutions;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Diffuse.Models;

/// <summary>
/// The DDPM image denoiser (Ho et al. 2020, appendix B; arXiv:2006.11239) with the improved-DDPM
/// options (Nichol &amp; Dhariwal 2021, arXiv:2102.09672): x [B, C, H, W] and timesteps t [B] (int64
/// or float) to an output [B, OutChannels, H, W] (noise, x_0 or v, depending on the prediction type).
/// The timestep's sinusoidal embedding of <c>BaseChannels</c> passes through a two-layer MLP to
/// <c>4 BaseChannels</c>, plus a learned class embedding when <see cref="UNetConfig.NumClasses"/> is
/// set, and conditions every residual block. A text-conditional U-Net (<see cref="UNetConfig.TextEncoder"/> set) encodes
/// prompt token ids with its <see cref="TextEncoder"/>: the token states feed a <see cref="CrossAttentionBlock"/> after
/// each self-attention block, and the [CLS] state, projected, joins the timestep embedding.
/// </summary>
public sealed class UNet2D : DenoiserNetwork
{
    private readonly SinusoidalEmbedding time_proj;
    private readonly Sequential time_embedding;
    private readonly Embedding? class_embedding;
    private readonly TextEncoder? text_encoder;
    private readonly Linear? text_proj;
    private readonly Sequential? noise_level_embedding;
    private readonly SafeConv2d conv_in;
    private readonly ModuleList<UNetDownBlock> down_blocks = new();
    private readonly UNetMidBlock mid_block;
    private readonly ModuleList<UNetUpBlock> up_blocks = new();
    private readonly GroupNorm conv_norm_out;
    private readonly SafeConv2d conv_out;

    public UNetConfig Config { get; }

    public override NetworkConfig NetworkConfig => Config;

    public int? NumClasses => Config.NumClasses;

    public UNet2D(UNetConfig config) : base(nameof(UNet2D))
    {
        config.Validate();
        Config = config;
        int temb = config.TimeEmbedDim;
        time_proj = new SinusoidalEmbedding(config.BaseChannels);
        time_embedding = nn.Sequential(
            ("linear_1", nn.Linear(config.BaseChannels, temb)), ("act", nn.SiLU()), ("linear_2", nn.Linear(temb, temb)));
        if (config.NumClasses is int classes) class_embedding = nn.Embedding(classes + 1, temb);
        if (config.TextEncoder is { } text)
        {
            text_encoder = new TextEncoder(text);
            text_proj = nn.Linear(text.Width, temb);
        }
        if (config.NoiseLevelEmbedding)
            noise_level_embedding = nn.Sequential(
                ("linear_1", nn.Linear(config.BaseChannels, temb)), ("act", nn.SiLU()), ("linear_2", nn.Linear(temb, temb)));
        conv_in = new SafeConv2d(config.InChannels, config.BaseChannels, 3, padding: 1);

        var skipChannels = new Stack<int>([config.BaseChannels]);
        int channels = config.BaseChannels;
        for (int level = 0; level < config.ChannelMult.Length; level++)
        {
            var down = new UNetDownBlock(config, level, channels);
            foreach (int c in down.SkipChannels) skipChannels.Push(c);
            down_blocks.Add(down);
            channels = config.LevelChannels(level);
        }
        mid_block = new UNetMidBlock(config, channels);
        for (int level = config.ChannelMult.Length - 1; level >= 0; level--)
        {
            up_blocks.Add(new UNetUpBlock(config, level, channels, skipChannels));
            channels = config.LevelChannels(level);
        }
        conv_norm_out = Initialization.GroupNorm(config.GroupNormGroups, channels);
        conv_out = new SafeConv2d(channels, config.OutChannels, 3, padding: 1);
        RegisterComponents();
        Initialization.Zero(conv_out);
    }

    /// <summary>True when the U-Net takes prompt token ids (<see cref="UNetConfig.TextEncoder"/> set).</summary>
    public bool IsTextConditional => text_encoder is not null;

    /// <summary>
    /// The output for x_t [B, InChannels, S, S] (with a low-resolution image, x_t and it side by side make InChannels) and
    /// t [B]. Class labels (int64 in [0, NumClasses]; NumClasses is the null label) need a class-conditional U-Net, prompt
    /// tokens a text-conditional one, noise levels a super-resolution U-Net with the noise-level embedding; an empty slot
    /// means the null label, the empty prompt, level 0.
    /// </summary>
    public override Tensor Forward(DenoiserInput input)
    {
        var condition = input.Condition;
        if (condition.Tokens is not null && text_encoder is null)
            throw new DiffuseException("prompt tokens were given, but the U-Net has no text encoder (train --cond text)");
        if (condition.LowResolution is { } low)
        {
            using var scope = NewDisposeScope();
            var joined = cat([input.X, low.to(input.X.dtype)], 1);
            return Run(joined, input.T, condition.ClassLabels, condition.Tokens, condition.NoiseLevels).MoveToOuterDisposeScope();
        }
        return Run(input.X, input.T, condition.ClassLabels, condition.Tokens, condition.NoiseLevels);
    }

    Tensor Run(Tensor x, Tensor t, Tensor? classLabels, Tensor? tokens, Tensor? noiseLevels)
    {
        int s = Config.ImageSize;
        if (x.dim() != 4 || x.shape[1] != Config.InChannels || x.shape[2] != s || x.shape[3] != s)
            throw new DiffuseException($"U-Net expects input of shape [B, {Config.InChannels}, {s}, {s}], got [{string.Join(", ", x.shape)}]");
        long b = x.shape[0];
        if (t.dim() != 1 || t.shape[0] != b)
            throw new DiffuseException($"U-Net expects timesteps of shape [{b}], got [{string.Join(", ", t.shape)}]");
        using var scope = NewDisposeScope();
        var temb = time_embedding.forward(time_proj.forward(t).to(x.dtype));
        if (class_embedding is not null)
            temb = temb + class_embedding.forward(ClassIndices(classLabels, b, x.device));
        else if (classLabels is not null)
            throw new DiffuseException("class labels were given, but the U-Net is unconditional (num_classes is null)");
        if (noise_level_embedding is not null)
        {
            var levels = noiseLevels ?? zeros([b], ScalarType.Int64, x.device);
            if (levels.dim() != 1 || levels.shape[0] != b)
                throw new DiffuseException($"U-Net expects noise levels of shape [{b}], got [{string.Join(", ", levels.shape)}]");
            temb = temb + noise_level_embedding.forward(time_proj.forward(levels).to(x.dtype));
        }
        else if (noiseLevels is not null)
        {
            throw new DiffuseException("noise levels were given, but the U-Net has no noise-level embedding (noise_level_embedding is false)");
        }
        TextContext? context = null;
        if (text_encoder is not null)
        {
            context = text_encoder.forward(TextTokens(tokens, b, x.device));
            temb = temb + text_proj!.forward(context.Hidden.select(1, 0));
        }

        var skips = new Stack<Tensor>();
        var h = conv_in.forward(x);
        skips.Push(h);
        foreach (var down in down_blocks) h = down.Forward(h, temb, skips, context);
        h = mid_block.Forward(h, temb, context);
        foreach (var up in up_blocks) h = up.Forward(h, temb, skips, context);
        return conv_out.forward(nn.functional.silu(conv_norm_out.forward(h))).MoveToOuterDisposeScope();
    }

    Tensor TextTokens(Tensor? tokens, long b, Device device)
    {
        var text = Config.TextEncoder!;
        if (tokens is null)
        {
            var empty = zeros([b, text.MaxLength], ScalarType.Int64, device);
            empty[.., 0] = TextEncoderConfig.ClsId;
            return empty;
        }
        if (tokens.dim() != 2 || tokens.shape[0] != b)
            throw new DiffuseException($"U-Net expects prompt tokens of shape [{b}, L], got [{string.Join(", ", tokens.shape)}]");
        var ids = tokens.to(ScalarType.Int64, device);
        long lo = ids.min().item<long>(), hi = ids.max().item<long>();
        if (lo < 0 || hi >= text.VocabSize)
            throw new DiffuseException($"prompt token ids must lie in [0, {text.VocabSize - 1}], got values in [{lo}, {hi}]");
        return ids;
    }

    Tensor ClassIndices(Tensor? labels, long b, Device device)
    {
        int nullLabel = Config.NumClasses!.Value;
        if (labels is null) return full([b], nullLabel, ScalarType.Int64, device);
        if (labels.dim() != 1 || labels.shape[0] != b)
            throw new DiffuseException($"U-Net expects class labels of shape [{b}], got [{string.Join(", ", labels.shape)}]");
        var indices = labels.to(ScalarType.Int64, device);
        long lo = indices.min().item<long>(), hi = indices.max().item<long>();
        if (lo < 0 || hi > nullLabel)
            throw new DiffuseException($"class labels must lie in [0, {nullLabel}] ({nullLabel} is the null label), got values in [{lo}, {hi}]");
        return indices;
    }

    /// <summary>
    /// Re-draws every weight from <paramref name="generator"/> (<see cref="Initialization.Reset"/>), then
    /// zeroes the layers the architecture starts at zero: each residual block's conv2, each attention
    /// block's proj_out and conv_out. Equal seeds give bitwise-equal weights.
    /// </summary>
    public override void ResetParameters(Generator generator)
    {
        base.ResetParameters(generator);
        foreach (var m in modules())
        {
            if (m is ResBlock res) res.ZeroOutput();
            else if (m is AttentionBlock attention) attention.ZeroOutput();
            else if (m is CrossAttentionBlock cross) cross.ZeroOutput();
        }
        Initialization.Zero(conv_out);
    }
}
