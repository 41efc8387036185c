using TorchSharp;

namespace Diffuse.Sampling;

/// <summary>
/// A virtual Brownian tree (Li et al. 2020, "Scalable Gradients for Stochastic Differential Equations",
/// arXiv:2001.01328, Sec. 4 and Algorithm 3): a Brownian motion W on [t0, t1] of a fixed shape, W(t0) = 0,
/// that can be queried at any t in any order and always gives the same tensor for the same t. The root draws
/// W(t1) ~ N(0, t1 - t0); each node of the bisection draws the midpoint of its interval from the Brownian
/// bridge between its ends, W(m) ~ N((W(s) + W(u)) / 2, (u - s) / 4), from a seed split from its parent's
/// (SplitMix64), so nothing is stored and the law is exact at the dyadic points. A query descends until a
/// midpoint lies within <see cref="Tolerance"/> of t and returns W there. Increments W(b) - W(a) are
/// differences of point values, so W(a, c) = W(a, b) + W(b, c) holds exactly, and over disjoint intervals
/// they are independent with variance |b - a| up to the tolerance. This is what torchsde's
/// <c>BrownianTree</c> provides to k-diffusion's <c>BrownianTreeNoiseSampler</c>.
/// </summary>
/// <remarks>
/// Draws come from libtorch's CPU generator (then moved to the tree's device), which keeps the low 32
/// bits of a seed: two of the thousands of nodes a run visits share a stream with probability about
/// nodes^2 / 2^33, which correlates two bridge midpoints and nothing else.
/// <list type="table">
/// <item><term>s, u, m</term><description>the ends and the midpoint of a node's interval</description></item>
/// <item><term>ws, wu, wm</term><description>W at s, u and m</description></item>
/// </list>
/// </remarks>
public sealed class BrownianTree
{
    private readonly long[] _shape;
    private readonly torch.ScalarType _dtype;
    private readonly torch.Device _device;
    private readonly ulong _seed;

    /// <param name="shape">The shape of W (the sample's).</param>
    /// <param name="t0">The start of the interval, where W is 0.</param>
    /// <param name="t1">The end of the interval, t1 &gt; t0.</param>
    /// <param name="seed">Fixes every value of W.</param>
    /// <param name="tolerance">How far from a query the returned point may lie (default 1e-6, torchsde's).</param>
    public BrownianTree(long[] shape, double t0, double t1, ulong seed, double tolerance = 1e-6,
        torch.ScalarType dtype = torch.ScalarType.Float32, torch.Device? device = null)
    {
        if (!(t1 > t0) || double.IsInfinity(t1 - t0)) throw new DiffuseException($"a Brownian tree needs a finite interval t0 < t1, got [{t0}, {t1}]");
        if (!(tolerance > 0)) throw new DiffuseException($"a Brownian tree needs a tolerance > 0, got {tolerance}");
        _shape = (long[])shape.Clone();
        (T0, T1, Tolerance, _seed, _dtype, _device) = (t0, t1, tolerance, seed, dtype, device ?? torch.CPU);
    }

    /// <summary>The shape of W.</summary>
    public IReadOnlyList<long> Shape => _shape;

    public double T0 { get; }
    public double T1 { get; }
    public double Tolerance { get; }

    /// <summary>W(b) - W(a), with a and b clamped into [t0, t1]; negative when b &lt; a.</summary>
    public torch.Tensor Increment(double a, double b)
    {
        using var scope = torch.NewDisposeScope();
        return (At(b) - At(a)).MoveToOuterDisposeScope();
    }

    /// <summary>W(t), t clamped into [t0, t1]: W at the first bisection point within the tolerance of t.</summary>
    public torch.Tensor At(double t)
    {
        t = Math.Clamp(t, T0, T1);
        if (t == T0) return Zeros();
        using var scope = torch.NewDisposeScope();
        double s = T0, u = T1;
        var ws = Zeros();
        var wu = Normal(Split(_seed, 0)) * Math.Sqrt(u - s);
        var node = Split(_seed, 1);
        while (t != u)
        {
            double m = (s + u) / 2;
            if (m <= s || m >= u) break; // the interval can no longer be halved in double precision
            var wm = (ws + wu) * 0.5 + Normal(node) * Math.Sqrt((u - s) / 4);
            if (Math.Abs(t - m) <= Tolerance) return wm.MoveToOuterDisposeScope();
            if (t < m) (u, wu, node) = (m, wm, Split(node, 1));
            else (s, ws, node) = (m, wm, Split(node, 2));
        }
        return wu.MoveToOuterDisposeScope();
    }

    private torch.Tensor Zeros() => torch.zeros(_shape, _dtype, _device);

    private torch.Tensor Normal(ulong seed)
    {
        using var generator = new torch.Generator(seed);
        var cpu = torch.randn(_shape, _dtype, torch.CPU, generator: generator);
        if (_device.type == DeviceType.CPU) return cpu;
        using (cpu) return cpu.to(_device);
    }

    /// <summary>Child <paramref name="k"/> of a seed: SplitMix64's finaliser (Steele et al. 2014) on seed + k golden-ratio increments.</summary>
    private static ulong Split(ulong seed, ulong k)
    {
        ulong z = seed + 0x9E3779B97F4A7C15UL * (k + 1);
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}
