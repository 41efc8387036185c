using Diffuse.Sampling;
using TorchSharp;
using Xunit;

namespace Diffuse.Tests.Sampling;

/// <summary>The law of the virtual Brownian tree (Li et al. 2020) and its consistency across queries.</summary>
public class BrownianTreeTests
{
    private const int N = 20_000;
    private static BrownianTree Tree(ulong seed = 7) => new([N], 0.03, 14.6, seed);

    private static (double Mean, double Variance) Moments(torch.Tensor x)
    {
        using var d = x.to_type(torch.float64);
        return (d.mean().item<double>(), d.var().item<double>());
    }

    private static double Correlation(torch.Tensor a, torch.Tensor b)
    {
        using var scope = torch.NewDisposeScope();
        var x = a.to_type(torch.float64) - a.to_type(torch.float64).mean();
        var y = b.to_type(torch.float64) - b.to_type(torch.float64).mean();
        return ((x * y).mean() / (x.std(unbiased: false) * y.std(unbiased: false))).item<double>();
    }

    [Theory]
    [InlineData(0.03, 14.6)]
    [InlineData(2.0, 7.5)]
    [InlineData(0.03, 0.05)]
    [InlineData(9.99, 10.0)]
    public void AnIncrementIsNormalWithVarianceTheIntervalLength(double a, double b)
    {
        using var scope = torch.NewDisposeScope();
        var (mean, variance) = Moments(Tree().Increment(a, b));
        double length = b - a;
        Assert.True(Math.Abs(mean) < 4 * Math.Sqrt(length / N), $"mean {mean}");
        Assert.InRange(variance / length, 0.95, 1.05);
    }

    [Fact]
    public void IncrementsOverDisjointIntervalsAreUncorrelatedAndOverlappingOnesShareTheirOverlap()
    {
        using var scope = torch.NewDisposeScope();
        var tree = Tree();
        Assert.InRange(Correlation(tree.Increment(1, 3), tree.Increment(3, 6)), -0.03, 0.03);
        Assert.InRange(Correlation(tree.Increment(0.1, 0.2), tree.Increment(8, 14)), -0.03, 0.03);
        // Cov(W(1,5), W(3,8)) = |[3, 5]| = 2, so the correlation is 2 / sqrt(4 * 5).
        Assert.InRange(Correlation(tree.Increment(1, 5), tree.Increment(3, 8)), 2 / Math.Sqrt(20) - 0.03, 2 / Math.Sqrt(20) + 0.03);
    }

    [Fact]
    public void IncrementsAddUpAndReverse()
    {
        using var scope = torch.NewDisposeScope();
        var tree = Tree();
        var whole = tree.Increment(0.5, 9.25);
        var parts = tree.Increment(0.5, 1.7) + tree.Increment(1.7, 6.01) + tree.Increment(6.01, 9.25);
        Assert.True(torch.allclose(whole, parts, rtol: 0, atol: 1e-5));
        Assert.True(torch.allclose(tree.Increment(9.25, 0.5), -whole, rtol: 0, atol: 0));
        Assert.Equal(0, tree.At(tree.T0).abs().max().item<float>());
        Assert.True(torch.allclose(tree.At(100), tree.At(tree.T1), rtol: 0, atol: 0), "queries beyond the interval are clamped into it");
    }

    [Fact]
    public void AQueryGivesTheSameTensorWhateverWasAskedBeforeAndOneSeedFixesAll()
    {
        using var scope = torch.NewDisposeScope();
        var first = Tree(7).At(3.3);
        var other = Tree(7);
        foreach (var t in new[] { 14.0, 0.04, 3.29, 7.0 }) other.At(t);
        Assert.True(torch.allclose(first, other.At(3.3), rtol: 0, atol: 0));
        Assert.True(torch.allclose(first, Tree(7).At(3.3), rtol: 0, atol: 0));
        Assert.True(Correlation(first, Tree(8).At(3.3)) is > -0.03 and < 0.03, "another seed, another path");
    }

    [Fact]
    public void PointsWithinTheToleranceShareAValueAndFartherOnesDoNot()
    {
        using var scope = torch.NewDisposeScope();
        var tree = new BrownianTree([64], 0, 1, 1, tolerance: 1e-3);
        Assert.True(torch.allclose(tree.At(0.5), tree.At(0.5 + 1e-4), rtol: 0, atol: 0));
        Assert.False(torch.allclose(tree.At(0.5), tree.At(0.51), rtol: 0, atol: 0));
    }

    [Theory]
    [InlineData(1.0, 1.0, 1e-6)]
    [InlineData(2.0, 1.0, 1e-6)]
    [InlineData(0.0, 1.0, 0.0)]
    public void ABadIntervalOrToleranceIsOneLine(double t0, double t1, double tolerance)
    {
        var e = Assert.Throws<DiffuseException>(() => new BrownianTree([2], t0, t1, 0, tolerance));
        Assert.DoesNotContain('\n', e.Message);
    }
}
