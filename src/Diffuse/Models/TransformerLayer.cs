using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Diffuse.Models;

/// <summary>
/// One pre-norm transformer encoder layer (Vaswani et al. 2017, with the LayerNorm before each sub-layer as Xiong et al.
/// 2020, arXiv:2002.04745): <c>x + out_proj(SelfAttention(norm1(x)))</c>, then <c>x + fc2(GELU(fc1(norm2(x))))</c> with
/// a 4× wider hidden layer. Padding keys are masked (<see cref="MaskedAttention"/>).
/// </summary>
internal sealed class TransformerLayer : nn.Module<Tensor, Tensor, Tensor>
{
    private readonly LayerNorm norm1;
    private readonly Linear to_qkv;
    private readonly Linear out_proj;
    private readonly LayerNorm norm2;
    private readonly Linear fc1;
    private readonly Linear fc2;
    private readonly int heads;

    public TransformerLayer(int width, int heads) : base(nameof(TransformerLayer))
    {
        this.heads = heads;
        norm1 = nn.LayerNorm(width);
        to_qkv = nn.Linear(width, 3 * width);
        out_proj = nn.Linear(width, width);
        norm2 = nn.LayerNorm(width);
        fc1 = nn.Linear(width, 4 * width);
        fc2 = nn.Linear(4 * width, width);
        RegisterComponents();
    }

    /// <summary>x [B, L, D] and the key mask [B, L] (bool, true = a real token) to [B, L, D].</summary>
    public override Tensor forward(Tensor x, Tensor mask)
    {
        using var scope = NewDisposeScope();
        var qkv = to_qkv.forward(norm1.forward(x)).chunk(3, -1);
        var a = MaskedAttention.Compute(MaskedAttention.SplitHeads(qkv[0], heads), MaskedAttention.SplitHeads(qkv[1], heads),
            MaskedAttention.SplitHeads(qkv[2], heads), mask);
        x = x + out_proj.forward(MaskedAttention.MergeHeads(a));
        x = x + fc2.forward(nn.functional.gelu(fc1.forward(norm2.forward(x))));
        return x.MoveToOuterDisposeScope();
    }
}
