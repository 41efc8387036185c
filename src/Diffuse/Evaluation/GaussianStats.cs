using TorchSharp;
using static TorchSharp.torch;

namespace Diffuse.Evaluation;

/// <summary>
/// The mean [F] and covariance [F, F] (unbiased, divided by N - 1) of N feature vectors, in float64:
/// the Gaussian that <see cref="FrechetDistance"/> compares.
/// </summary>
public sealed class GaussianStats : IDisposable
{
    public GaussianStats(Tensor mean, Tensor covariance, long count)
    {
        if (mean.dim() != 1 || covariance.dim() != 2 || covariance.shape[0] != mean.shape[0] || covariance.shape[1] != mean.shape[0])
            throw new DiffuseException($"Gaussian stats need a mean [F] and a covariance [F, F], got [{string.Join(", ", mean.shape)}] and [{string.Join(", ", covariance.shape)}]");
        Mean = mean.to(ScalarType.Float64).cpu().DetachFromDisposeScope();
        Covariance = covariance.to(ScalarType.Float64).cpu().DetachFromDisposeScope();
        Count = count;
    }

    public Tensor Mean { get; }
    public Tensor Covariance { get; }
    /// <summary>How many feature vectors the stats were computed from.</summary>
    public long Count { get; }
    public long Dim => Mean.shape[0];

    /// <summary>The stats of <paramref name="features"/> [N, F], N at least 2.</summary>
    public static GaussianStats FromFeatures(Tensor features)
    {
        if (features.dim() != 2 || features.shape[0] < 2)
            throw new DiffuseException($"Gaussian stats need features [N, F] with N at least 2, got [{string.Join(", ", features.shape)}]");
        using var scope = NewDisposeScope();
        var f = features.to(ScalarType.Float64).cpu();
        var mean = f.mean([0]);
        var centred = f - mean;
        var covariance = centred.T.matmul(centred) / (f.shape[0] - 1);
        return new GaussianStats(mean, covariance, f.shape[0]);
    }

    public void Dispose()
    {
        Mean.Dispose();
        Covariance.Dispose();
    }
}
