using TorchSharp;
using static TorchSharp.torch;

namespace Diffuse.Guidance;

/// <summary>
/// The label dropout of classifier-free guidance (Ho &amp; Salimans 2021, arXiv:2207.12598, Algorithm 1): each
/// training label is replaced by the null label with probability p_uncond, so that one network learns both the
/// conditional and the unconditional model.
/// </summary>
internal static class LabelDropout
{
    /// <summary>
    /// A new tensor of <paramref name="labels"/> [B] (int64) with each entry replaced by <paramref name="nullLabel"/> with
    /// probability <paramref name="probability"/>; the B uniform draws come from <paramref name="generator"/> (none when the
    /// probability is 0, so such a run draws exactly what an unconditional one draws).
    /// </summary>
    public static Tensor Apply(Tensor labels, long nullLabel, double probability, Generator generator)
    {
        if (!(probability >= 0 && probability <= 1)) throw DiffuseException.For("cond_drop", $"cond_drop must be in [0, 1], got {probability}");
        if (labels.dim() != 1) throw new DiffuseException($"labels must be a vector [B], got [{string.Join(", ", labels.shape)}]");
        if (probability == 0) return labels.to(ScalarType.Int64).clone();
        using var scope = NewDisposeScope();
        var drop = rand([labels.shape[0]], generator: generator) < probability;
        return where(drop.to(labels.device), full([labels.shape[0]], nullLabel, ScalarType.Int64, labels.device), labels.to(ScalarType.Int64)).MoveToOuterDisposeScope();
    }
}
