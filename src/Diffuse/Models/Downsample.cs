using Diffuse.Models.Convolutions;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Diffuse.Models;

/// <summary>Halves the resolution: a stride-2 3×3 convolution, or 2×2 average pooling without a conv (Ho et al. 2020, appendix B).</summary>
internal sealed class Downsample : nn.Module<Tensor, Tensor>
{
    private readonly SafeConv2d? conv;

    public Downsample(int channels, bool withConv) : base(nameof(Downsample))
    {
        conv = withConv ? new SafeConv2d(channels, channels, 3, stride: 2, padding: 1) : null;
        RegisterComponents();
    }

    public override Tensor forward(Tensor x) =>
        conv is null ? nn.functional.avg_pool2d(x, 2) : conv.forward(x);
}
