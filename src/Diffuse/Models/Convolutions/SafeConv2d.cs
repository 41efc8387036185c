using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Diffuse.Models.Convolutions;

/// <summary>
/// A 2-D convolution layer (groups 1, zero padding) that runs on <see cref="Convolution"/>'s self-checked route. Its
/// parameters are named, shaped and initialised like <c>nn.Conv2d</c>'s (<c>weight</c> [out, in, k, k], <c>bias</c>
/// [out]; Kaiming-uniform with a = sqrt 5 from libtorch's global generator), so model files and state dictionaries are
/// the same as with <c>nn.Conv2d</c>. Building one runs the self-check the first time.
/// </summary>
public sealed class SafeConv2d : nn.Module<Tensor, Tensor>
{
#pragma warning disable IDE1006 // parameter names follow PyTorch's state-dict keys
    private Parameter weight;
    private Parameter? bias;
#pragma warning restore IDE1006

    public SafeConv2d(long inChannels, long outChannels, long kernelSize, long stride = 1, long padding = 0, bool bias = true)
        : base(nameof(SafeConv2d))
    {
        if (inChannels < 1 || outChannels < 1 || kernelSize < 1 || stride < 1 || padding < 0)
            throw new ArgumentOutOfRangeException(nameof(inChannels), $"a convolution needs positive channels, kernel and stride, got {inChannels}->{outChannels}, kernel {kernelSize}, stride {stride}, padding {padding}");
        InChannels = inChannels;
        OutChannels = outChannels;
        KernelSize = kernelSize;
        Stride = stride;
        Padding = padding;
        weight = nn.Parameter(empty(outChannels, inChannels, kernelSize, kernelSize));
        this.bias = bias ? nn.Parameter(empty(outChannels)) : null;
        // nn.Conv2d's reset_parameters, in the same order of draws from the same generator.
        nn.init.kaiming_uniform_(weight, Math.Sqrt(5));
        if (this.bias is not null)
        {
            double bound = 1.0 / Math.Sqrt(inChannels * kernelSize * kernelSize);
            nn.init.uniform_(this.bias, -bound, bound);
        }
        RegisterComponents();
        _ = Convolution.Route;
    }

    public long InChannels { get; }
    public long OutChannels { get; }
    public long KernelSize { get; }
    public long Stride { get; }
    public long Padding { get; }

    /// <summary>The weight [out, in, k, k].</summary>
    public Parameter Weight => weight;

    /// <summary>The bias [out], or null.</summary>
    public Parameter? Bias => bias;

    public override Tensor forward(Tensor input) => Convolution.Conv2d(input, weight, bias, Stride, Padding);
}
