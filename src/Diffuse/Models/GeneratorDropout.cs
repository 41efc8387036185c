using TorchSharp;
using static TorchSharp.torch;

namespace Diffuse.Models;

/// <summary>
/// Dropout (Srivastava et al. 2014) that draws its masks from an explicit <see cref="Generator"/>
/// rather than libtorch's process-wide default, so that a training run's dropout is fixed by its
/// seed, saved in its checkpoint, and untouched by anything else running in the process. Without a
/// generator it falls back to the default one, like <c>nn.Dropout</c>. Identity in eval mode.
/// </summary>
internal sealed class GeneratorDropout : nn.Module<Tensor, Tensor>
{
    public GeneratorDropout(double p) : base(nameof(GeneratorDropout))
    {
        if (!(p >= 0 && p < 1)) throw new DiffuseException($"dropout must lie in [0, 1), got {p}");
        P = p;
    }

    public double P { get; }

    /// <summary>The source of the masks while training (not owned).</summary>
    public Generator? Generator { get; set; }

    public override Tensor forward(Tensor x)
    {
        if (!training || P == 0) return x.alias();
        using var scope = NewDisposeScope();
        var keep = rand(x.shape, dtype: x.dtype, device: x.device, generator: Generator).ge_(P);
        return (x * keep / (1 - P)).MoveToOuterDisposeScope();
    }
}
