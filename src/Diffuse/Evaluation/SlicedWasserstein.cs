using TorchSharp;
using static TorchSharp.torch;

namespace Diffuse.Evaluation;

/// <summary>
/// The sliced Wasserstein-1 distance (Rabin et al. 2011; Bonneel et al. 2015): the mean over random
/// unit directions u of the 1-D Wasserstein-1 distance between the projections u.x and u.y, which
/// for two equal-size samples is the mean absolute difference of their sorted projections.
/// </summary>
public static class SlicedWasserstein
{
    /// <summary>
    /// SWD between point sets <paramref name="x"/> and <paramref name="y"/> ([N, D] each, same N),
    /// over <paramref name="projections"/> directions drawn uniformly on the sphere from <paramref name="generator"/>.
    /// </summary>
    public static double Distance(Tensor x, Tensor y, int projections, Generator generator)
    {
        if (x.dim() != 2 || y.dim() != 2 || x.shape[1] != y.shape[1])
            throw new DiffuseException($"sliced Wasserstein needs two [N, D] point sets of the same D, got [{string.Join(", ", x.shape)}] and [{string.Join(", ", y.shape)}]");
        if (x.shape[0] != y.shape[0])
            throw new DiffuseException($"sliced Wasserstein needs point sets of the same size, got {x.shape[0]} and {y.shape[0]}");
        if (projections < 1) throw new DiffuseException($"sliced Wasserstein needs at least one projection, got {projections}");
        using var scope = NewDisposeScope();
        var directions = randn(new[] { x.shape[1], (long)projections }, ScalarType.Float64, generator: generator);
        directions = directions / directions.norm(0, keepdim: true);
        var px = x.to(ScalarType.Float64).cpu().matmul(directions).sort(0).Values;
        var py = y.to(ScalarType.Float64).cpu().matmul(directions).sort(0).Values;
        return (px - py).abs().mean().item<double>();
    }

    /// <summary>
    /// Draws <paramref name="n"/> points from the Gaussian with the mean and covariance of <paramref name="data"/>
    /// (the baseline a generative model has to beat).
    /// </summary>
    public static Tensor FittedGaussianSample(Tensor data, long n, Generator generator)
    {
        using var scope = NewDisposeScope();
        var d = data.to(ScalarType.Float64);
        var mean = d.mean([0]);
        var centred = d - mean;
        var cov = centred.T.matmul(centred) / (d.shape[0] - 1);
        var chol = linalg.cholesky(cov + eye(cov.shape[0], dtype: ScalarType.Float64) * 1e-9);
        var z = randn(new[] { n, d.shape[1] }, ScalarType.Float64, generator: generator);
        return (mean + z.matmul(chol.T)).to(ScalarType.Float32).MoveToOuterDisposeScope();
    }
}
