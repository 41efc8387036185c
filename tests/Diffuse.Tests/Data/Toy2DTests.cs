using Diffuse.Data;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace Diffuse.Tests.Data;

public class Toy2DTests
{
    public static TheoryData<string> Names()
    {
        var data = new TheoryData<string>();
        foreach (var name in Toy2D.Names) data.Add(name);
        return data;
    }

    static float[,] Draw(string name, long n, ulong seed)
    {
        using var g = new Generator(seed);
        using var points = Toy2D.Sample(name, n, g);
        Assert.Equal(new[] { n, 2L }, points.shape);
        Assert.Equal(ScalarType.Float32, points.dtype);
        var flat = points.data<float>().ToArray();
        var result = new float[n, 2];
        for (long i = 0; i < n; i++) { result[i, 0] = flat[2 * i]; result[i, 1] = flat[2 * i + 1]; }
        return result;
    }

    static IEnumerable<(double X, double Y)> Points(float[,] p) =>
        Enumerable.Range(0, p.GetLength(0)).Select(i => ((double)p[i, 0], (double)p[i, 1]));

    [Fact]
    public void NamesAreTheFiveDatasets() =>
        Assert.Equal(["moons", "swiss_roll", "8gaussians", "checkerboard", "circles"], Toy2D.Names);

    [Theory]
    [MemberData(nameof(Names))]
    public void SampleHasShapeNByTwoAndIsFinite(string name)
    {
        var p = Draw(name, 1000, 1);
        Assert.All(Points(p), q => Assert.True(double.IsFinite(q.X) && double.IsFinite(q.Y)));
        Assert.Single(Draw(name, 1, 1).Cast<float>().Chunk(2));
    }

    [Theory]
    [MemberData(nameof(Names))]
    public void TheSameSeedGivesBitIdenticalPointsAndAnotherSeedOthers(string name)
    {
        var a = Draw(name, 500, 42);
        var b = Draw(name, 500, 42);
        var c = Draw(name, 500, 43);
        Assert.Equal(a.Cast<float>().Select(BitConverter.SingleToInt32Bits), b.Cast<float>().Select(BitConverter.SingleToInt32Bits));
        int same = a.Cast<float>().Zip(c.Cast<float>()).Count(z => z.First == z.Second);
        Assert.True(same < 10, $"{same} of 1000 coordinates agree between seeds 42 and 43");
    }

    [Fact]
    public void CirclesClusterAtRadiiThreeAndOneAndAHalf()
    {
        var radii = Points(Draw("circles", 4000, 3)).Select(q => Math.Sqrt(q.X * q.X + q.Y * q.Y)).ToArray();
        var outer = radii.Where(r => r > 2.25).ToArray();
        var inner = radii.Where(r => r <= 2.25).ToArray();
        // Noise 0.08 scaled by 3 is 0.24; no point lies more than about 5 sigma off its circle.
        Assert.All(radii, r => Assert.True(Math.Abs(r - 3) < 1.2 || Math.Abs(r - 1.5) < 1.2, $"radius {r}"));
        Assert.InRange(outer.Average(), 2.95, 3.1);
        Assert.InRange(inner.Average(), 1.45, 1.6);
        Assert.InRange((double)outer.Length / radii.Length, 0.45, 0.55);
        Assert.InRange(outer.Count(r => Math.Abs(r - 3) < 0.5) / (double)outer.Length, 0.95, 1.0);
        Assert.InRange(inner.Count(r => Math.Abs(r - 1.5) < 0.5) / (double)inner.Length, 0.95, 1.0);
    }

    [Fact]
    public void EightGaussiansSitNearEightCentresOnTheCircle()
    {
        double radius = 4 / Math.Sqrt(2), std = 0.5 / Math.Sqrt(2);
        var centres = Enumerable.Range(0, 8).Select(k => (X: radius * Math.Cos(k * Math.PI / 4), Y: radius * Math.Sin(k * Math.PI / 4))).ToArray();
        var counts = new int[8];
        foreach (var (x, y) in Points(Draw("8gaussians", 4000, 4)))
        {
            var distances = centres.Select(c => Math.Sqrt((x - c.X) * (x - c.X) + (y - c.Y) * (y - c.Y))).ToArray();
            int nearest = Array.IndexOf(distances, distances.Min());
            Assert.True(distances[nearest] < 6 * std, $"({x}, {y}) is {distances[nearest]} from the nearest centre");
            counts[nearest]++;
        }
        Assert.All(counts, c => Assert.InRange(c, 400, 600));
    }

    [Fact]
    public void CheckerboardPointsLieInTheBoxAndInFilledSquares()
    {
        var points = Points(Draw("checkerboard", 4000, 5)).ToArray();
        var squares = new HashSet<(int, int)>();
        foreach (var (x, y) in points)
        {
            Assert.InRange(x, -4, 4);
            Assert.InRange(y, -4, 4);
            // Squares of side 2; the filled ones are those whose column and row indices have the same parity.
            int col = (int)Math.Floor(x / 2), row = (int)Math.Floor(y / 2);
            Assert.True((col + row) % 2 == 0, $"({x}, {y}) lies in the empty square ({col}, {row})");
            squares.Add((col, row));
        }
        Assert.Equal(8, squares.Count);
        Assert.InRange(points.Average(p => p.X), -0.2, 0.2);
        Assert.InRange(points.Average(p => p.Y), -0.2, 0.2);
    }

    [Fact]
    public void MoonsAreCentredWithTheirKnownExtent()
    {
        var points = Points(Draw("moons", 4000, 6)).ToArray();
        // Half moons x in [-1, 2], y in [-0.5, 1] (means 0.5 and 0.25), scaled by 2 and shifted by (-1, -0.2).
        Assert.InRange(points.Average(p => p.X), -0.1, 0.1);
        Assert.InRange(points.Average(p => p.Y), 0.2, 0.4);
        Assert.All(points, p => Assert.InRange(p.X, -4.2, 4.2));
        Assert.All(points, p => Assert.InRange(p.Y, -2.4, 3.0));
        Assert.InRange(points.Max(p => p.X) - points.Min(p => p.X), 5.5, 7.5);
        Assert.InRange(points.Max(p => p.Y) - points.Min(p => p.Y), 2.5, 4.5);
    }

    [Fact]
    public void SwissRollSpiralsOutToItsKnownRadius()
    {
        var radii = Points(Draw("swiss_roll", 4000, 7)).Select(q => Math.Sqrt(q.X * q.X + q.Y * q.Y)).ToArray();
        // t in [1.5 pi, 4.5 pi] with radius t / 5 (mean 3 pi / 5), noise std 0.2 per axis.
        Assert.InRange(radii.Average(), 3 * Math.PI / 5 - 0.1, 3 * Math.PI / 5 + 0.15);
        Assert.All(radii, r => Assert.InRange(r, 0, 4.5 * Math.PI / 5 + 1.2));
        Assert.InRange(radii.Max(), 2.6, 4.5 * Math.PI / 5 + 1.2);
        Assert.InRange(radii.Min(), 0, 1.0);
    }

    [Fact]
    public void AnUnknownNameIsAnErrorThatNamesIt()
    {
        using var g = new Generator(0);
        var error = Assert.Throws<DiffuseException>(() => Toy2D.Sample("spirals", 10, g));
        Assert.Contains("'spirals'", error.Message);
        Assert.Contains("moons", error.Message);
        Assert.Contains("'spirals'", Assert.Throws<DiffuseException>(() => Toy2D.Validate("spirals")).Message);
        Toy2D.Validate("moons");
    }

    [Fact]
    public void ACountBelowOneIsAnError()
    {
        using var g = new Generator(0);
        Assert.Throws<DiffuseException>(() => Toy2D.Sample("moons", 0, g));
    }
}
