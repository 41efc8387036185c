using Diffuse.Process;
using TorchSharp;
using static TorchSharp.torch;

namespace Diffuse.Evaluation;

/// <summary>
/// An isotropic Gaussian mixture, p(x_0) = sum_k w_k N(mu_k, s_k^2 I), whose denoiser is exact:
/// under x_t = sqrt(abar) x_0 + sqrt(1 - abar) eps, component k gives x_t ~ N(sqrt(abar) mu_k, v_k I)
/// with v_k = abar s_k^2 + 1 - abar, so E[x_0 | x_t] = sum_k r_k (mu_k + sqrt(abar) s_k^2 / v_k (x_t - sqrt(abar) mu_k)),
/// r_k the posterior responsibilities. It measures a sampler's own error, free of training error; its
/// exact scores and log-densities under any SDE's marginals test score-based samplers and likelihoods.
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
        double a = Math.Sqrt(alphaCumprod);
        var (diff, variances, r) = Posterior(xt.to(ScalarType.Float64), a, Math.Sqrt(1 - alphaCumprod));
        var perComponent = means.unsqueeze(0) + diff * (a * stds.square() / variances).view(1, -1, 1);
        return (r.unsqueeze(2) * perComponent).sum(1).to(xt.dtype).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// The exact score grad log p(x) [B, D] of the mixture seen through the kernel x = m x_0 + s z: component k
    /// becomes N(m mu_k, v_k I) with v_k = m^2 s_k^2 + s^2, so the score is -sum_k r_k (x - m mu_k) / v_k.
    /// Differentiable in x (the probability-flow likelihood takes its divergence by autograd).
    /// </summary>
    public Tensor Score(Tensor x, double meanScale, double std)
    {
        using var scope = NewDisposeScope();
        var (diff, variances, r) = Posterior(x.to(ScalarType.Float64), meanScale, std);
        return (r.unsqueeze(2) * diff / variances.view(1, -1, 1)).sum(1).neg().to(x.dtype).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// The score of the SDE's marginal p_t = (this mixture pushed through p_0t) at x [B, D] and time t, in closed
    /// form: the analytic stand-in for a score network (Song et al. 2021, arXiv:2011.13456, Eq. 6).
    /// </summary>
    public ScoreFunction ScoreUnder(Sde sde) => (x, t) => Score(x, sde.MeanScale(t), sde.MarginalStd(t));

    /// <summary>log p(x) [B] in nats of each row of x [B, D] under the mixture seen through x = m x_0 + s z (the data density when m = 1, s = 0).</summary>
    public Tensor LogDensity(Tensor x, double meanScale = 1.0, double std = 0.0)
    {
        using var scope = NewDisposeScope();
        var x64 = x.to(ScalarType.Float64);
        var variances = stds.square() * (meanScale * meanScale) + std * std;
        var diff = x64.unsqueeze(1) - means.unsqueeze(0) * meanScale;
        var logLik = -0.5 * (diff.square().sum(2) / variances + Dim * (variances * (2 * Math.PI)).log());
        return (logLik + logWeights).logsumexp(1).MoveToOuterDisposeScope();
    }

    /// <summary>(x - m mu_k [B, K, D], v_k [K], responsibilities r_k(x) [B, K]) for x seen through x = m x_0 + s z.</summary>
    private (Tensor Diff, Tensor Variances, Tensor Responsibilities) Posterior(Tensor x, double meanScale, double std)
    {
        if (x.dim() != 2 || x.shape[1] != Dim)
            throw new DiffuseException($"the Gaussian mixture is {Dim}-dimensional; got points of shape [{string.Join(", ", x.shape)}]");
        var variances = stds.square() * (meanScale * meanScale) + std * std;             // [K]
        var diff = x.unsqueeze(1) - means.unsqueeze(0) * meanScale;                      // [B, K, D]
        var logLik = -0.5 * (diff.square().sum(2) / variances + Dim * variances.log()); // [B, K]
        return (diff, variances, softmax(logLik + logWeights, 1));
    }

    public void Dispose()
    {
        means.Dispose();
        stds.Dispose();
        logWeights.Dispose();
    }
}
