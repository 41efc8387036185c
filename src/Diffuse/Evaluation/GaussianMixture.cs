using TorchSharp;
using static TorchSharp.torch;

namespace Diffuse.Evaluation;

/// <summary>
/// An isotropic Gaussian mixture, p(x_0) = sum_k w_k N(mu_k, s_k^2 I), whose denoiser is exact:
/// under x_t = sqrt(abar) x_0 + sqrt(1 - abar) eps, component k gives x_t ~ N(sqrt(abar) mu_k, v_k I)
/// with v_k = abar s_k^2 + 1 - abar, so E[x_0 | x_t] = sum_k r_k (mu_k + sqrt(abar) s_k^2 / v_k (x_t - sqrt(abar) mu_k)),
/// r_k the posterior responsibilities. It measures a sampler's own error, free of training error.
/// </summary>
public sealed class GaussianMixture : IDisposable
{
    private readonly Tensor means;   // [K, D], float64
    private readonly Tensor stds;    // [K], float64
    private readonly Tensor logWeights; // [K], float64

    public GaussianMixture(double[,] means, double[] stds, double[] weights)
    {
        int k = means.GetLength(0);
        if (k < 1 || stds.Length != k || weights.Length != k)
            throw new DiffuseException($"a Gaussian mixture needs as many stds and weights as means, got {k}, {stds.Length}, {weights.Length}");
        if (stds.Any(s => !(s > 0)) || weights.Any(w => !(w > 0)))
            throw new DiffuseException("a Gaussian mixture needs positive stds and weights");
        Dim = means.GetLength(1);
        this.means = tensor(means, ScalarType.Float64).DetachFromDisposeScope();
        this.stds = tensor(stds, ScalarType.Float64).DetachFromDisposeScope();
        double total = weights.Sum();
        this.logWeights = tensor(weights.Select(w => Math.Log(w / total)).ToArray(), ScalarType.Float64).DetachFromDisposeScope();
    }

    public int Dim { get; }

    /// <summary>
    /// <paramref name="components"/> components in <paramref name="dim"/> dimensions with means drawn
    /// uniformly on the sphere of radius <paramref name="radius"/>, equal weights and std <paramref name="std"/>.
    /// </summary>
    public static GaussianMixture OnSphere(int components, int dim, double radius, double std, Generator generator)
    {
        using var scope = NewDisposeScope();
        var directions = randn(new long[] { components, dim }, ScalarType.Float64, generator: generator);
        directions = directions / directions.norm(1, keepdim: true) * radius;
        var data = directions.data<double>().ToArray();
        var m = new double[components, dim];
        for (int i = 0; i < components; i++) for (int j = 0; j < dim; j++) m[i, j] = data[i * dim + j];
        return new GaussianMixture(m, Enumerable.Repeat(std, components).ToArray(), Enumerable.Repeat(1.0, components).ToArray());
    }

    /// <summary>n points [n, D], float32.</summary>
    public Tensor Sample(long n, Generator generator)
    {
        using var scope = NewDisposeScope();
        var k = multinomial(logWeights.exp(), n, replacement: true, generator: generator);
        var z = randn(new long[] { n, Dim }, ScalarType.Float64, generator: generator);
        return (means.index_select(0, k) + stds.index_select(0, k).unsqueeze(1) * z).to(ScalarType.Float32).MoveToOuterDisposeScope();
    }

    /// <summary>The exact E[x_0 | x_t] for x_t [B, D] at noise level <paramref name="alphaCumprod"/>.</summary>
    public Tensor Denoise(Tensor xt, double alphaCumprod)
    {
        using var scope = NewDisposeScope();
        var x = xt.to(ScalarType.Float64);
        double a = Math.Sqrt(alphaCumprod);
        var variances = stds.square() * alphaCumprod + (1 - alphaCumprod);             // [K]
        var diff = x.unsqueeze(1) - means.unsqueeze(0) * a;                              // [B, K, D]
        var logLik = -0.5 * (diff.square().sum(2) / variances + Dim * variances.log()); // [B, K]
        var r = softmax(logLik + logWeights, 1);                                         // [B, K]
        var perComponent = means.unsqueeze(0) + diff * (a * stds.square() / variances).view(1, -1, 1);
        return (r.unsqueeze(2) * perComponent).sum(1).to(xt.dtype).MoveToOuterDisposeScope();
    }

    public void Dispose()
    {
        means.Dispose();
        stds.Dispose();
        logWeights.Dispose();
    }
}
