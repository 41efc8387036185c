using Diffuse.Models.Convolutions;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Diffuse.Models;

/// <summary>
/// Multi-head self-attention over the H×W positions of a feature map, with a residual connection
/// (Ho et al. 2020, appendix B, single head; Nichol &amp; Dhariwal 2021, several heads):
/// <c>x + proj_out(Attention(q, k, v))</c> with <c>[q, k, v] = to_qkv(norm(x))</c> and
/// <c>Attention = softmax(q kᵀ / √d) v</c> per head of <c>d = C / heads</c> channels.
/// <c>proj_out</c> starts at zero, so the block starts as the identity.
/// </summary>
internal sealed class AttentionBlock : nn.Module<Tensor, Tensor>
{
    private readonly GroupNorm norm;
    private readonly SafeConv2d to_qkv;
    private readonly SafeConv2d proj_out;
    private readonly int heads;

    public AttentionBlock(int channels, int heads, int groups) : base(nameof(AttentionBlock))
    {
        if (channels % heads != 0) throw new DiffuseException($"attention heads {heads} must divide the channels {channels}");
        this.heads = heads;
        norm = Initialization.GroupNorm(groups, channels);
        to_qkv = new SafeConv2d(channels, 3 * channels, 1);
        proj_out = new SafeConv2d(channels, channels, 1);
        RegisterComponents();
        ZeroOutput();
    }

    /// <summary>Zeroes the output projection, as at construction.</summary>
    public void ZeroOutput() => Initialization.Zero(proj_out);

    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        long b = x.shape[0], c = x.shape[1], hgt = x.shape[2], wid = x.shape[3];
        // [B, 3C, H, W] -> [3, B, heads, HW, d]: the first C channels are q, then k, then v.
        var qkv = to_qkv.forward(norm.forward(x)).reshape(b, 3, heads, c / heads, hgt * wid).permute(1, 0, 2, 4, 3);
        var a = nn.functional.scaled_dot_product_attention(qkv[0], qkv[1], qkv[2]);
        // [B, heads, HW, d] -> [B, C, H, W]
        var h = a.transpose(2, 3).reshape(b, c, hgt, wid);
        return (x + proj_out.forward(h)).MoveToOuterDisposeScope();
    }
}
