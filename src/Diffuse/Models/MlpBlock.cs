using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Diffuse.Models;

/// <summary>
/// A pre-norm residual MLP block with the timestep embedding added between its two layers, the
/// fully-connected analogue of the DDPM ResNet block (Ho et al. 2020, appendix B).
/// </summary>
internal sealed class MlpBlock : nn.Module<Tensor, Tensor, Tensor>
{
    private readonly LayerNorm norm;
    private readonly Linear fc1;
    private readonly Linear time_emb_proj;
    private readonly Linear fc2;

    public MlpBlock(int hidden, int timeEmbedDim) : base(nameof(MlpBlock))
    {
        norm = nn.LayerNorm(hidden);
        fc1 = nn.Linear(hidden, hidden);
        time_emb_proj = nn.Linear(timeEmbedDim, hidden);
        fc2 = nn.Linear(hidden, hidden);
        RegisterComponents();
    }

    public override Tensor forward(Tensor h, Tensor temb)
    {
        using var scope = NewDisposeScope();
        var y = fc1.forward(nn.functional.silu(norm.forward(h)));
        y = y + time_emb_proj.forward(temb);
        y = fc2.forward(nn.functional.silu(y));
        return (h + y).MoveToOuterDisposeScope();
    }
}
