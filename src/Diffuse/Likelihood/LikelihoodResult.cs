using TorchSharp;

namespace Diffuse.Likelihood;

/// <summary>
/// Negative log-likelihoods of a batch: <see cref="Nll"/> [B] in nats for the whole sample, <see cref="BitsPerDim"/> [B]
/// (for dequantized 8-bit images, of the pixel values: Nll / (D ln 2) + 7 for data scaled to [-1, 1]), the data's
/// dimension D, and the solver's <see cref="FunctionEvaluations"/> (each evaluates the score and its divergence).
/// </summary>
public sealed record LikelihoodResult(torch.Tensor Nll, torch.Tensor BitsPerDim, long Dim, int FunctionEvaluations)
{
    /// <summary>Nll / D [B], nats per dimension.</summary>
    public torch.Tensor NatsPerDim => Nll / Dim;
}
