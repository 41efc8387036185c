using Diffuse.Data;
using Diffuse.Evaluation;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace Diffuse.Tests.Evaluation;

public class SlicedWassersteinTests
{
    [Fact]
    public void IdenticalSetsAreAtDistanceZero()
    {
        using var g = new Generator(1);
        using var x = randn(new long[] { 300, 2 }, generator: g);
        using var permuted = x.index(randperm(300, generator: g));
        using var directions = new Generator(2);
        Assert.Equal(0.0, SlicedWasserstein.Distance(x, x.clone(), 64, directions));
        Assert.Equal(0.0, SlicedWasserstein.Distance(x, permuted, 64, directions), 12);
    }

    [Theory]
    [InlineData(1.0, 0.0)]
    [InlineData(0.3, -0.4)]
    [InlineData(-2.0, 1.5)]
    public void AShiftByCInTwoDimensionsIsAtDistanceTwoNormCOverPi(double cx, double cy)
    {
        // For a unit direction u at a uniform angle, W1 of the projections is |u.c|, whose mean is 2|c|/pi.
        using var g = new Generator(3);
        using var x = randn(new long[] { 200, 2 }, ScalarType.Float64, generator: g);
        using var c = tensor(new[] { cx, cy });
        using var y = x + c;
        using var directions = new Generator(4);
        double swd = SlicedWasserstein.Distance(x, y, 4096, directions);
        double expected = 2 * Math.Sqrt(cx * cx + cy * cy) / Math.PI;
        Assert.InRange(swd, expected * 0.97, expected * 1.03);
    }

    [Fact]
    public void AShiftInThreeDimensionsIsAtDistanceHalfNormC()
    {
        // On the 2-sphere u.c/|c| is uniform on [-1, 1] (Archimedes), so the mean of |u.c| is |c|/2.
        using var g = new Generator(5);
        using var x = randn(new long[] { 100, 3 }, ScalarType.Float64, generator: g);
        using var c = tensor(new[] { 1.0, 2.0, -2.0 });
        using var y = x + c;
        using var directions = new Generator(6);
        Assert.InRange(SlicedWasserstein.Distance(x, y, 4096, directions), 1.5 * 0.97, 1.5 * 1.03);
    }

    [Fact]
    public void TheSameDirectionGeneratorSeedGivesTheSameDistance()
    {
        using var g = new Generator(7);
        using var x = randn(new long[] { 100, 2 }, generator: g);
        using var y = randn(new long[] { 100, 2 }, generator: g) * 2;
        double Measure(ulong seed)
        {
            using var directions = new Generator(seed);
            return SlicedWasserstein.Distance(x, y, 16, directions);
        }
        Assert.Equal(Measure(8), Measure(8));
        Assert.NotEqual(Measure(8), Measure(9));
        Assert.True(Measure(8) > 0);
    }

    [Fact]
    public void MismatchedSetsAreErrors()
    {
        using var directions = new Generator(0);
        using var a = zeros(10, 2);
        using var fewer = zeros(9, 2);
        using var wider = zeros(10, 3);
        using var flat = zeros(10);
        Assert.Contains("same size", Assert.Throws<DiffuseException>(() => SlicedWasserstein.Distance(a, fewer, 8, directions)).Message);
        Assert.Contains("same D", Assert.Throws<DiffuseException>(() => SlicedWasserstein.Distance(a, wider, 8, directions)).Message);
        Assert.Throws<DiffuseException>(() => SlicedWasserstein.Distance(a, flat, 8, directions));
        Assert.Throws<DiffuseException>(() => SlicedWasserstein.Distance(a, a, 0, directions));
    }

    [Fact]
    public void FittedGaussianSampleReproducesTheDatasMeanAndCovariance()
    {
        using var g = new Generator(10);
        using var data = Toy2D.Sample("moons", 20_000, g);
        using var fitted = SlicedWasserstein.FittedGaussianSample(data, 20_000, g);
        Assert.Equal(new long[] { 20_000, 2 }, fitted.shape);
        Assert.Equal(ScalarType.Float32, fitted.dtype);

        var (dataMean, dataCov) = Moments(data);
        var (fitMean, fitCov) = Moments(fitted);
        for (int i = 0; i < 2; i++) Assert.Equal(dataMean[i], fitMean[i], 0.05);
        for (int i = 0; i < 4; i++) Assert.Equal(dataCov[i], fitCov[i], Math.Max(0.05, 0.05 * Math.Abs(dataCov[i])));
        // Moons are far from Gaussian: the fit keeps the moments but not the shape.
        using var directions = new Generator(11);
        using var second = Toy2D.Sample("moons", 20_000, g);
        Assert.True(SlicedWasserstein.Distance(fitted, data, 64, directions) > 2 * SlicedWasserstein.Distance(second, data, 64, directions));
    }

    static (double[] Mean, double[] Cov) Moments(Tensor points)
    {
        using var d = points.to(ScalarType.Float64);
        using var mean = d.mean([0]);
        using var centred = d - mean;
        using var cov = centred.T.matmul(centred) / (d.shape[0] - 1);
        return (mean.data<double>().ToArray(), cov.flatten().data<double>().ToArray());
    }
}
