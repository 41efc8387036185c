using Diffuse.Configuration;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Diffuse.Models;

/// <summary>
/// One level of the U-Net's expanding path: <c>NumResBlocks + 1</c> residual blocks, each taking the
/// concatenation of the running features and one popped skip connection and followed by attention at
/// the attention resolutions, then (except at the first level) an <see cref="Upsample"/>.
/// </summary>
internal sealed class UNetUpBlock : nn.Module
{
    private readonly ModuleList<ResBlock> resnets = new();
    private readonly ModuleList<AttentionBlock> attentions = new();
    private readonly ModuleList<Upsample> upsamplers = new();
    private readonly ModuleList<CrossAttentionBlock> cross_attentions = new();

    /// <summary>Builds the level; pops the channels of the skips it consumes from <paramref name="skipChannels"/>.</summary>
    public UNetUpBlock(UNetConfig config, int level, int inChannels, Stack<int> skipChannels) : base(nameof(UNetUpBlock))
    {
        int channels = config.LevelChannels(level);
        bool attend = config.AttentionResolutions.Contains(config.LevelResolution(level));
        for (int i = 0; i <= config.NumResBlocks; i++)
        {
            int input = (i == 0 ? inChannels : channels) + skipChannels.Pop();
            resnets.Add(new ResBlock(input, channels, config.TimeEmbedDim, config.GroupNormGroups, config.Dropout, config.ScaleShift));
            if (attend) attentions.Add(new AttentionBlock(channels, config.NumHeads, config.GroupNormGroups));
            if (attend && config.TextEncoder is { } text) cross_attentions.Add(new CrossAttentionBlock(channels, text.Width, config.NumHeads, config.GroupNormGroups));
        }
        if (level > 0) upsamplers.Add(new Upsample(channels, config.ResamplingWithConv));
        RegisterComponents();
    }

    /// <summary>
    /// Runs the level on <paramref name="h"/>, popping one skip from <paramref name="skips"/> per residual block; a
    /// text-conditional level attends to <paramref name="context"/> after each self-attention.
    /// </summary>
    public Tensor Forward(Tensor h, Tensor temb, Stack<Tensor> skips, TextContext? context = null)
    {
        for (int i = 0; i < resnets.Count; i++)
        {
            h = resnets[i].forward(cat([h, skips.Pop()], 1), temb);
            if (attentions.Count > 0) h = attentions[i].forward(h);
            if (cross_attentions.Count > 0) h = cross_attentions[i].forward(h, context!);
        }
        foreach (var up in upsamplers) h = up.forward(h);
        return h;
    }
}
