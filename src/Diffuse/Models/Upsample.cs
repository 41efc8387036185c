using Diffuse.Models.Convolutions;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Diffuse.Models;

/// <summary>Doubles the resolution: nearest-neighbour ×2, then optionally a 3×3 convolution (Ho et al. 2020, appendix B).</summary>
internal sealed class Upsample : nn.Module<Tensor, Tensor>
{
    private readonly SafeConv2d? conv;

    public Upsample(int channels, bool withConv) : base(nameof(Upsample))
    {
        conv = withConv ? new SafeConv2d(channels, channels, 3, padding: 1) : null;
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var h = nn.functional.interpolate(x, scale_factor: [2.0, 2.0], mode: InterpolationMode.Nearest);
        return (conv is null ? h : conv.forward(h)).MoveToOuterDisposeScope();
    }
}
