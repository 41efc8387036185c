using TorchSharp;
using static TorchSharp.torch;

namespace Diffuse.Evaluation;

/// <summary>
/// The Fréchet (2-Wasserstein) distance between two Gaussians (Dowson and Landau 1982), the formula
/// of FID (Heusel et al. 2017, arXiv:1706.08500, Eq. 6):
/// d^2 = |mu1 - mu2|^2 + Tr(S1 + S2 - 2 (S1 S2)^{1/2}).
/// Over <see cref="FeatureClassifier"/> features it is the FCD (Fréchet Classifier Distance), not Inception FID.
/// </summary>
/// <remarks>
/// (S1 S2)^{1/2} is not symmetric, but it is similar to the symmetric PSD matrix
/// M = S1^{1/2} S2 S1^{1/2} (since S1 S2 = S1^{1/2} M S1^{-1/2}), so Tr (S1 S2)^{1/2} = sum_i sqrt(lambda_i(M)).
/// Both square roots come from symmetric eigendecompositions, which stay real and stable for the
/// singular covariances of few samples in many dimensions; rounding's tiny negative eigenvalues are
/// clamped to 0.
/// </remarks>
public static class FrechetDistance
{
    /// <summary>The squared Fréchet distance between <paramref name="a"/> and <paramref name="b"/>, computed in float64; never negative.</summary>
    public static double Compute(GaussianStats a, GaussianStats b)
    {
        if (a.Dim != b.Dim) throw new DiffuseException($"Fréchet distance needs stats of the same dimension, got {a.Dim} and {b.Dim}");
        using var scope = NewDisposeScope();
        double meanTerm = (a.Mean - b.Mean).square().sum().item<double>();
        var (w, v) = linalg.eigh(Symmetric(a.Covariance));
        var sqrtA = v.matmul(diag(w.clamp_min(0).sqrt())).matmul(v.T);
        var m = Symmetric(sqrtA.matmul(b.Covariance).matmul(sqrtA));
        double traceSqrt = linalg.eigvalsh(m).clamp_min(0).sqrt().sum().item<double>();
        double trace = a.Covariance.trace().item<double>() + b.Covariance.trace().item<double>();
        return Math.Max(0, meanTerm + trace - 2 * traceSqrt);
    }

    static Tensor Symmetric(Tensor s) => (s + s.T) * 0.5;
}
