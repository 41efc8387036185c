using Diffuse.Configuration;
using Diffuse.Models.Convolutions;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Diffuse.Models;

/// <summary>
/// A noise-aware classifier p(y | x_t, t) for classifier guidance (Dhariwal &amp; Nichol 2021, arXiv:2105.05233, Sec. 4
/// and appendix; their classifier is the downsampling half of the U-Net with an attention-pooled head): here the
/// contracting path and middle block of a <see cref="UNet2D"/> of the same <see cref="UNetConfig"/> (timestep embedding,
/// residual blocks, attention), then GroupNorm, SiLU, a spatial mean and a linear head to the class logits.
/// </summary>
public sealed class NoisyClassifier : nn.Module<Tensor, Tensor, Tensor>
{
    private readonly SinusoidalEmbedding time_proj;
    private readonly Sequential time_embedding;
    private readonly SafeConv2d conv_in;
    private readonly ModuleList<UNetDownBlock> down_blocks = new();
    private readonly UNetMidBlock mid_block;
    private readonly GroupNorm norm_out;
    private readonly Linear head;

    /// <summary>The encoder's hyper-parameters (<see cref="UNetConfig.NumClasses"/> and the output channels unused).</summary>
    public UNetConfig Encoder { get; }

    public int NumClasses { get; }

    public NoisyClassifier(UNetConfig encoder, int numClasses) : base(nameof(NoisyClassifier))
    {
        encoder.Validate();
        if (numClasses < 2) throw new DiffuseException($"a classifier needs at least 2 classes, got {numClasses}");
        Encoder = encoder;
        NumClasses = numClasses;
        int temb = encoder.TimeEmbedDim;
        time_proj = new SinusoidalEmbedding(encoder.BaseChannels);
        time_embedding = nn.Sequential(
            ("linear_1", nn.Linear(encoder.BaseChannels, temb)), ("act", nn.SiLU()), ("linear_2", nn.Linear(temb, temb)));
        conv_in = new SafeConv2d(encoder.InChannels, encoder.BaseChannels, 3, padding: 1);
        int channels = encoder.BaseChannels;
        for (int level = 0; level < encoder.ChannelMult.Length; level++)
        {
            down_blocks.Add(new UNetDownBlock(encoder, level, channels));
            channels = encoder.LevelChannels(level);
        }
        mid_block = new UNetMidBlock(encoder, channels);
        norm_out = Initialization.GroupNorm(encoder.GroupNormGroups, channels);
        head = nn.Linear(channels, numClasses);
        RegisterComponents();
    }

    /// <summary>Class logits [B, K] of x_t [B, C, H, W] at timesteps t [B] (int64 or fractional).</summary>
    public override Tensor forward(Tensor x, Tensor t)
    {
        int s = Encoder.ImageSize;
        if (x.dim() != 4 || x.shape[1] != Encoder.InChannels || x.shape[2] != s || x.shape[3] != s)
            throw new DiffuseException($"the classifier expects input of shape [B, {Encoder.InChannels}, {s}, {s}], got [{string.Join(", ", x.shape)}]");
        if (t.dim() != 1 || t.shape[0] != x.shape[0])
            throw new DiffuseException($"the classifier expects timesteps of shape [{x.shape[0]}], got [{string.Join(", ", t.shape)}]");
        using var scope = NewDisposeScope();
        var temb = time_embedding.forward(time_proj.forward(t).to(x.dtype));
        var skips = new Stack<Tensor>();
        var h = conv_in.forward(x);
        foreach (var down in down_blocks) h = down.Forward(h, temb, skips);
        h = mid_block.forward(h, temb);
        h = nn.functional.silu(norm_out.forward(h)).mean([2, 3]);
        return head.forward(h).MoveToOuterDisposeScope();
    }

    /// <summary>Re-draws every weight from <paramref name="generator"/>; equal seeds give bitwise-equal weights.</summary>
    public void ResetParameters(Generator generator)
    {
        Initialization.Reset(this, generator);
        foreach (var m in modules())
        {
            if (m is ResBlock res) res.ZeroOutput();
            else if (m is AttentionBlock attention) attention.ZeroOutput();
        }
    }
}
