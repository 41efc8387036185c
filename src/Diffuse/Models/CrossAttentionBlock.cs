using Diffuse.Models.Convolutions;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Diffuse.Models;

/// <summary>
/// Cross-attention from a feature map to the text encoder's tokens, with a residual connection (Rombach et al. 2022,
/// arXiv:2112.10752, Sec. 3.3): <c>x + proj_out(Attention(Q, K, V))</c> with <c>Q = to_q(norm(x))</c> over the H×W
/// positions and <c>K = to_k(c)</c>, <c>V = to_v(c)</c> over the text tokens c, padding tokens masked. <c>proj_out</c>
/// starts at zero, so the block starts as the identity.
/// </summary>
internal sealed class CrossAttentionBlock : nn.Module<Tensor, TextContext, Tensor>
{
    private readonly GroupNorm norm;
    private readonly SafeConv2d to_q;
    private readonly Linear to_k;
    private readonly Linear to_v;
    private readonly SafeConv2d proj_out;
    private readonly int heads;

    public CrossAttentionBlock(int channels, int contextWidth, int heads, int groups) : base(nameof(CrossAttentionBlock))
    {
        if (channels % heads != 0) throw new DiffuseException($"attention heads {heads} must divide the channels {channels}");
        this.heads = heads;
        norm = Initialization.GroupNorm(groups, channels);
        to_q = new SafeConv2d(channels, channels, 1);
        to_k = nn.Linear(contextWidth, channels);
        to_v = nn.Linear(contextWidth, channels);
        proj_out = new SafeConv2d(channels, channels, 1);
        RegisterComponents();
        ZeroOutput();
    }

    /// <summary>Zeroes the output projection, as at construction.</summary>
    public void ZeroOutput() => Initialization.Zero(proj_out);

    /// <summary>x [B, C, H, W] attending to <paramref name="context"/> ([B, L, D] with its mask) to [B, C, H, W].</summary>
    public override Tensor forward(Tensor x, TextContext context)
    {
        using var scope = NewDisposeScope();
        long b = x.shape[0], c = x.shape[1], hgt = x.shape[2], wid = x.shape[3];
        // [B, C, H, W] -> [B, HW, C] -> [B, heads, HW, d]
        var q = MaskedAttention.SplitHeads(to_q.forward(norm.forward(x)).reshape(b, c, hgt * wid).transpose(1, 2), heads);
        var k = MaskedAttention.SplitHeads(to_k.forward(context.Hidden), heads);
        var v = MaskedAttention.SplitHeads(to_v.forward(context.Hidden), heads);
        var a = MaskedAttention.MergeHeads(MaskedAttention.Compute(q, k, v, context.Mask));
        var h = a.transpose(1, 2).reshape(b, c, hgt, wid);
        return (x + proj_out.forward(h)).MoveToOuterDisposeScope();
    }
}
