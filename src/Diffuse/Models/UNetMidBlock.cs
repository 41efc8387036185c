using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Diffuse.Models;

/// <summary>The bottleneck of the U-Net at the lowest resolution: residual block, attention, residual block (Ho et al. 2020, appendix B).</summary>
public sealed class UNetMidBlock : nn.Module<Tensor, Tensor, Tensor>
{
    private readonly ModuleList<ResBlock> resnets = new();
    private readonly ModuleList<AttentionBlock> attentions = new();

    public UNetMidBlock(UNetConfig config, int channels) : base(nameof(UNetMidBlock))
    {
        for (int i = 0; i < 2; i++)
            resnets.Add(new ResBlock(channels, channels, config.TimeEmbedDim, config.GroupNormGroups, config.Dropout, config.ScaleShift));
        attentions.Add(new AttentionBlock(channels, config.NumHeads, config.GroupNormGroups));
        RegisterComponents();
    }

    public override Tensor forward(Tensor h, Tensor temb) =>
        resnets[1].forward(attentions[0].forward(resnets[0].forward(h, temb)), temb);
}
