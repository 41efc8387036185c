using static TorchSharp.torch;

namespace Diffuse.Models;

/// <summary>
/// A denoiser that takes class labels beside x_t and t: labels [B] (int64) in [0, <see cref="NumClasses"/>], where
/// <see cref="NumClasses"/> itself is the null label of the unconditional branch (Ho &amp; Salimans 2021).
/// </summary>
public interface IClassConditional
{
    /// <summary>The number of real classes; null for an unconditional network (which refuses labels).</summary>
    int? NumClasses { get; }

    /// <summary>The output for class labels [B]; null labels mean the null label.</summary>
    Tensor Forward(Tensor x, Tensor t, Tensor? classLabels);
}
