using Diffuse.Models.Convolutions;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Diffuse.Models;

/// <summary>
/// The residual block of Ho et al. 2020 (appendix B; Wide ResNet with GroupNorm) with the
/// scale-shift norm option of Nichol &amp; Dhariwal 2021 (section 3 of arXiv:2102.09672):
/// <c>h = conv1(SiLU(norm1(x)))</c>; then either <c>h += proj(temb)</c>, <c>h = SiLU(norm2(h))</c>
/// or <c>h = SiLU(norm2(h)(1 + scale) + shift)</c>; then <c>x' + conv2(dropout(h))</c> with
/// <c>x'</c> = x or its 1×1 projection. <c>conv2</c> starts at zero, so the block starts as the identity.
/// </summary>
internal sealed class ResBlock : nn.Module<Tensor, Tensor, Tensor>
{
    private readonly GroupNorm norm1;
    private readonly SafeConv2d conv1;
    private readonly Linear time_emb_proj;
    private readonly GroupNorm norm2;
    private readonly GeneratorDropout dropout;
    private readonly SafeConv2d conv2;
    private readonly SafeConv2d? conv_shortcut;
    private readonly bool scaleShift;

    public ResBlock(int inChannels, int outChannels, int timeEmbedDim, int groups, double dropout, bool scaleShift)
        : base(nameof(ResBlock))
    {
        this.scaleShift = scaleShift;
        norm1 = Initialization.GroupNorm(groups, inChannels);
        conv1 = new SafeConv2d(inChannels, outChannels, 3, padding: 1);
        time_emb_proj = nn.Linear(timeEmbedDim, scaleShift ? 2 * outChannels : outChannels);
        norm2 = Initialization.GroupNorm(groups, outChannels);
        this.dropout = new GeneratorDropout(dropout);
        conv2 = new SafeConv2d(outChannels, outChannels, 3, padding: 1);
        conv_shortcut = inChannels == outChannels ? null : new SafeConv2d(inChannels, outChannels, 1);
        RegisterComponents();
        ZeroOutput();
    }

    /// <summary>Zeroes the output convolution, as at construction (Nichol &amp; Dhariwal 2021's zero_module).</summary>
    public void ZeroOutput() => Initialization.Zero(conv2);

    public override Tensor forward(Tensor x, Tensor temb)
    {
        using var scope = NewDisposeScope();
        var h = conv1.forward(nn.functional.silu(norm1.forward(x)));
        var e = time_emb_proj.forward(nn.functional.silu(temb)).unsqueeze(-1).unsqueeze(-1);
        if (scaleShift)
        {
            var scaleAndShift = e.chunk(2, 1);
            h = nn.functional.silu(norm2.forward(h) * (scaleAndShift[0] + 1) + scaleAndShift[1]);
        }
        else
        {
            h = nn.functional.silu(norm2.forward(h + e));
        }
        h = conv2.forward(dropout.forward(h));
        var skip = conv_shortcut is null ? x : conv_shortcut.forward(x);
        return (skip + h).MoveToOuterDisposeScope();
    }
}
