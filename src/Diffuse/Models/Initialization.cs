using Diffuse.Models.Convolutions;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Diffuse.Models;

/// <summary>
/// Re-draws a network's weights from an explicit generator, so that a seed fixes the initial
/// weights without touching libtorch's global generator. Linear and Conv2d layers get PyTorch's default
/// (Kaiming-uniform with a = sqrt 5, i.e. U(-1/sqrt(fan_in), 1/sqrt(fan_in)) for weight and bias,
/// fan_in = in / groups × kh × kw for a convolution); embeddings get N(0, 1); normalisation layers (layer, group and batch norm)
/// get ones and zeros. Modules are visited in <c>named_modules</c> order, so a seed fixes every weight.
/// </summary>
internal static class Initialization
{
    public static void Reset(nn.Module module, Generator generator)
    {
        using var _ = no_grad();
        foreach (var (_, m) in module.named_modules())
        {
            switch (m)
            {
                case Linear linear:
                    FanInUniform(linear.weight!, linear.bias, linear.weight!.shape[1], generator);
                    break;
                case SafeConv2d conv:
                    var w = conv.Weight;
                    FanInUniform(w, conv.Bias, w.shape[1] * w.shape[2] * w.shape[3], generator);
                    break;
                case Embedding embedding:
                    embedding.weight!.normal_(0, 1, generator);
                    break;
                case LayerNorm norm:
                    norm.weight?.fill_(1);
                    norm.bias?.fill_(0);
                    break;
                case GroupNorm norm:
                    norm.weight?.fill_(1);
                    norm.bias?.fill_(0);
                    break;
                case BatchNorm2d norm:
                    norm.weight?.fill_(1);
                    norm.bias?.fill_(0);
                    break;
            }
        }
    }

    /// <summary>
    /// A GroupNorm with weight 1 and bias 0. TorchSharp 0.107's <c>nn.GroupNorm</c> leaves its affine
    /// parameters uninitialised (they hold whatever memory they got, NaN included), so always build it here.
    /// </summary>
    public static GroupNorm GroupNorm(int groups, int channels)
    {
        var norm = nn.GroupNorm(groups, channels);
        using var _ = no_grad();
        norm.weight!.fill_(1);
        norm.bias!.fill_(0);
        return norm;
    }

    /// <summary>Sets every parameter of <paramref name="module"/> to zero (improved-DDPM's zero_module).</summary>
    public static void Zero(nn.Module module)
    {
        using var _ = no_grad();
        foreach (var p in module.parameters()) p.zero_();
    }

    static void FanInUniform(Tensor weight, Tensor? bias, long fanIn, Generator generator)
    {
        double bound = 1.0 / Math.Sqrt(fanIn);
        weight.uniform_(-bound, bound, generator);
        bias?.uniform_(-bound, bound, generator);
    }
}
