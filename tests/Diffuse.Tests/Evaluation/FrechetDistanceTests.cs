using System.Text.Json;
using Diffuse.Evaluation;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace Diffuse.Tests.Evaluation;

public class FrechetDistanceTests
{
    [Fact]
    public void IdenticalStatsAreAtDistanceZero()
    {
        using var g = new Generator(1);
        using var features = randn(new long[] { 100, 8 }, ScalarType.Float64, generator: g) * 3 + 1;
        using var a = GaussianStats.FromFeatures(features);
        using var b = GaussianStats.FromFeatures(features.clone());
        double trace = a.Covariance.trace().item<double>();
        Assert.InRange(FrechetDistance.Compute(a, b), 0, 1e-8 * trace);
        Assert.InRange(FrechetDistance.Compute(a, a), 0, 1e-8 * trace);
    }

    [Fact]
    public void DiagonalCovariancesGiveTheSumOfSquaredStdDifferencesPlusTheMeanTerm()
    {
        double[] muA = [0.5, -1, 2, 0], muB = [0, 1, 2, 3], varA = [1, 4, 0.25, 9], varB = [2, 1, 0.25, 0.01];
        using var a = Diagonal(muA, varA);
        using var b = Diagonal(muB, varB);
        double expected = Enumerable.Range(0, 4).Sum(i => Math.Pow(muA[i] - muB[i], 2) + Math.Pow(Math.Sqrt(varA[i]) - Math.Sqrt(varB[i]), 2));
        Assert.Equal(expected, FrechetDistance.Compute(a, b), 1e-10);
    }

    [Theory]
    [InlineData(0.0, 1.0, 0.0, 1.0)]
    [InlineData(1.0, 2.0, -0.5, 0.5)]
    [InlineData(3.0, 0.1, 3.0, 10.0)]
    public void InOneDimensionItIsTheSquaredMeanAndStdDifference(double m1, double s1, double m2, double s2)
    {
        using var a = Diagonal([m1], [s1 * s1]);
        using var b = Diagonal([m2], [s2 * s2]);
        Assert.Equal(Math.Pow(m1 - m2, 2) + Math.Pow(s1 - s2, 2), FrechetDistance.Compute(a, b), 1e-10);
    }

    [Fact]
    public void ItIsSymmetricInItsArguments()
    {
        using var g = new Generator(2);
        using var x = randn(new long[] { 60, 10 }, ScalarType.Float64, generator: g);
        using var mix = randn(new long[] { 10, 10 }, ScalarType.Float64, generator: g);
        using var y = randn(new long[] { 80, 10 }, ScalarType.Float64, generator: g).matmul(mix) + 0.7;
        using var a = GaussianStats.FromFeatures(x);
        using var b = GaussianStats.FromFeatures(y);
        double ab = FrechetDistance.Compute(a, b), ba = FrechetDistance.Compute(b, a);
        Assert.True(ab > 1);
        Assert.Equal(ab, ba, 1e-9 * ab);
    }

    public static IEnumerable<object[]> GoldenCases() => Enumerable.Range(0, Golden().GetArrayLength()).Select(i => new object[] { i });

    [Theory]
    [MemberData(nameof(GoldenCases))]
    public void MatchesScipysSqrtmOnGoldenFeatures(int index)
    {
        var c = Golden()[index];
        using var a = GaussianStats.FromFeatures(Matrix(c.GetProperty("features_a")));
        using var b = GaussianStats.FromFeatures(Matrix(c.GetProperty("features_b")));
        var mean = c.GetProperty("mean_a").EnumerateArray().Select(v => v.GetDouble()).ToArray();
        var variance = c.GetProperty("covariance_a_diagonal").EnumerateArray().Select(v => v.GetDouble()).ToArray();
        Assert.Equal(mean, a.Mean.data<double>().ToArray(), (x, y) => Math.Abs(x - y) < 1e-12);
        Assert.Equal(variance, a.Covariance.diagonal().data<double>().ToArray(), (x, y) => Math.Abs(x - y) < 1e-12);
        double expected = c.GetProperty("frechet").GetDouble();
        Assert.Equal(expected, FrechetDistance.Compute(a, b), 1e-8 * expected);
    }

    [Fact]
    public void StatsOfTheWrongShapeAreErrors()
    {
        using var few = zeros(1, 3);
        using var flat = zeros(10);
        Assert.Throws<DiffuseException>(() => GaussianStats.FromFeatures(few));
        Assert.Throws<DiffuseException>(() => GaussianStats.FromFeatures(flat));
        using var a = Diagonal([0, 0], [1, 1]);
        using var b = Diagonal([0, 0, 0], [1, 1, 1]);
        Assert.Contains("same dimension", Assert.Throws<DiffuseException>(() => FrechetDistance.Compute(a, b)).Message);
    }

    static GaussianStats Diagonal(double[] mean, double[] variance)
    {
        using var m = tensor(mean);
        using var v = tensor(variance);
        using var cov = diag(v);
        return new GaussianStats(m, cov, 100);
    }

    static Tensor Matrix(JsonElement rows)
    {
        var data = rows.EnumerateArray().Select(r => r.EnumerateArray().Select(v => v.GetDouble()).ToArray()).ToArray();
        return tensor(data.SelectMany(r => r).ToArray(), ScalarType.Float64).view(data.Length, data[0].Length);
    }

    // tests/golden/frechet.json, written by tests/golden/make_frechet_golden.py (PyTorch + SciPy), found from the test binary upwards.
    static JsonElement Golden()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var path = Path.Combine(dir.FullName, "tests", "golden", "frechet.json");
            if (File.Exists(path)) return JsonDocument.Parse(File.ReadAllText(path)).RootElement.GetProperty("cases").Clone();
        }
        throw new FileNotFoundException("tests/golden/frechet.json not found above " + AppContext.BaseDirectory);
    }
}
