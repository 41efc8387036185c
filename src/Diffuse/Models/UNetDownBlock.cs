using Diffuse.Configuration;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Diffuse.Models;

/// <summary>
/// One level of the U-Net's contracting path: residual blocks, each followed by attention at the
/// attention resolutions, then (except at the last level) a <see cref="Downsample"/>. Every block's
/// output is pushed as a skip connection for the expanding path.
/// </summary>
internal sealed class UNetDownBlock : nn.Module
{
    private readonly ModuleList<ResBlock> resnets = new();
    private readonly ModuleList<AttentionBlock> attentions = new();
    private readonly ModuleList<Downsample> downsamplers = new();
    private readonly ModuleList<CrossAttentionBlock> cross_attentions = new();

    /// <summary>Channels of each skip tensor this level pushes, in push order.</summary>
    public IReadOnlyList<int> SkipChannels { get; }

    public UNetDownBlock(UNetConfig config, int level, int inChannels) : base(nameof(UNetDownBlock))
    {
        int channels = config.LevelChannels(level);
        bool attend = config.AttentionResolutions.Contains(config.LevelResolution(level));
        var skips = new List<int>();
        for (int i = 0; i < config.NumResBlocks; i++)
        {
            resnets.Add(new ResBlock(i == 0 ? inChannels : channels, channels, config.TimeEmbedDim, config.GroupNormGroups, config.Dropout, config.ScaleShift));
            if (attend) attentions.Add(new AttentionBlock(channels, config.NumHeads, config.GroupNormGroups));
            if (attend && config.TextEncoder is { } text) cross_attentions.Add(new CrossAttentionBlock(channels, text.Width, config.NumHeads, config.GroupNormGroups));
            skips.Add(channels);
        }
        if (level < config.ChannelMult.Length - 1)
        {
            downsamplers.Add(new Downsample(channels, config.ResamplingWithConv));
            skips.Add(channels);
        }
        SkipChannels = skips;
        RegisterComponents();
    }

    /// <summary>
    /// Runs the level on <paramref name="h"/>, pushing each block's output onto <paramref name="skips"/>; a text-conditional
    /// level attends to <paramref name="context"/> after each self-attention.
    /// </summary>
    public Tensor Forward(Tensor h, Tensor temb, Stack<Tensor> skips, TextContext? context = null)
    {
        for (int i = 0; i < resnets.Count; i++)
        {
            h = resnets[i].forward(h, temb);
            if (attentions.Count > 0) h = attentions[i].forward(h);
            if (cross_attentions.Count > 0) h = cross_attentions[i].forward(h, context!);
            skips.Push(h);
        }
        foreach (var down in downsamplers)
        {
            h = down.forward(h);
            skips.Push(h);
        }
        return h;
    }
}
