using TorchSharp;
using static TorchSharp.torch;

namespace Diffuse.Models;

/// <summary>
/// The sinusoidal timestep embedding of the Transformer (Vaswani et al. 2017, section 3.5) as used
/// for diffusion timesteps by Ho et al. 2020: for t of shape [B], returns [B, dim] with
/// <c>[cos(t w_0) .. cos(t w_{h-1}), sin(t w_0) .. sin(t w_{h-1})]</c>,
/// <c>w_i = maxPeriod^(-i / h)</c>, <c>h = dim / 2</c>.
/// </summary>
internal sealed class SinusoidalEmbedding : nn.Module<Tensor, Tensor>
{
    private readonly Tensor frequencies;
    private readonly int dim;

    public SinusoidalEmbedding(int dim, double maxPeriod = 10000) : base(nameof(SinusoidalEmbedding))
    {
        if (dim < 2 || dim % 2 != 0) throw new DiffuseException($"timestep embedding size must be even and at least 2, got {dim}");
        this.dim = dim;
        int half = dim / 2;
        frequencies = exp(arange(half, dtype: ScalarType.Float32) * (-Math.Log(maxPeriod) / half));
        register_buffer("frequencies", frequencies, persistent: false);
    }

    public int Dim => dim;

    public override Tensor forward(Tensor t)
    {
        var args = t.to(ScalarType.Float32).unsqueeze(1) * frequencies.unsqueeze(0);
        return cat([cos(args), sin(args)], 1);
    }
}
