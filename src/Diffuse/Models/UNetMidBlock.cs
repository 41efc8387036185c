using Diffuse.Configuration;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Diffuse.Models;

/// <summary>The bottleneck of the U-Net at the lowest resolution: residual block, attention, residual block (Ho et al. 2020, appendix B).</summary>
internal sealed class UNetMidBlock : nn.Module<Tensor, Tensor, Tensor>
{
    private readonly ModuleList<ResBlock> resnets = new();
    private readonly ModuleList<AttentionBlock> attentions = new();
    private readonly ModuleList<CrossAttentionBlock> cross_attentions = new();

    public UNetMidBlock(UNetConfig config, int channels) : base(nameof(UNetMidBlock))
    {
        for (int i = 0; i < 2; i++)
            resnets.Add(new ResBlock(channels, channels, config.TimeEmbedDim, config.GroupNormGroups, config.Dropout, config.ScaleShift));
        attentions.Add(new AttentionBlock(channels, config.NumHeads, config.GroupNormGroups));
        if (config.TextEncoder is { } text) cross_attentions.Add(new CrossAttentionBlock(channels, text.Width, config.NumHeads, config.GroupNormGroups));
        RegisterComponents();
    }

    public override Tensor forward(Tensor h, Tensor temb) => Forward(h, temb, null);

    /// <summary>The block; a text-conditional one attends to <paramref name="context"/> after its self-attention.</summary>
    public Tensor Forward(Tensor h, Tensor temb, TextContext? context)
    {
        h = attentions[0].forward(resnets[0].forward(h, temb));
        if (cross_attentions.Count > 0) h = cross_attentions[0].forward(h, context!);
        return resnets[1].forward(h, temb);
    }
}
