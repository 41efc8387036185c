using static TorchSharp.torch;

namespace Diffuse.Models;

/// <summary>
/// Scaled dot-product attention softmax(q kᵀ / √d) v (Vaswani et al. 2017, Eq. 1) whose keys can be masked out: a masked
/// key's score is -inf, so its weight is exactly 0 and whatever it holds cannot reach the output.
/// </summary>
internal static class MaskedAttention
{
    /// <summary>
    /// q [B, heads, Lq, d], k and v [B, heads, Lk, d], <paramref name="keyMask"/> [B, Lk] (bool, true = attend) to
    /// [B, heads, Lq, d]. Every row must keep at least one key (the text encoder's [CLS] is never masked).
    /// </summary>
    public static Tensor Compute(Tensor q, Tensor k, Tensor v, Tensor keyMask)
    {
        using var scope = NewDisposeScope();
        var scores = matmul(q, k.transpose(-2, -1)) * (1.0 / Math.Sqrt(q.shape[^1]));
        var blocked = keyMask.logical_not().unsqueeze(1).unsqueeze(1);
        var weights = scores.masked_fill(blocked, double.NegativeInfinity).softmax(-1);
        return matmul(weights, v).MoveToOuterDisposeScope();
    }

    /// <summary>[B, L, heads d] to [B, heads, L, d].</summary>
    public static Tensor SplitHeads(Tensor x, int heads) =>
        x.reshape(x.shape[0], x.shape[1], heads, x.shape[2] / heads).transpose(1, 2);

    /// <summary>[B, heads, L, d] to [B, L, heads d].</summary>
    public static Tensor MergeHeads(Tensor x) =>
        x.transpose(1, 2).reshape(x.shape[0], x.shape[2], x.shape[1] * x.shape[3]);
}
