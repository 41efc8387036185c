using Diffuse.Guidance;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace Diffuse.Tests.Guidance;

public class LabelDropoutTests
{
    static long[] Drop(long[] labels, double p, ulong seed)
    {
        using var g = new Generator(seed);
        using var input = tensor(labels, ScalarType.Int64);
        using var output = LabelDropout.Apply(input, 10, p, g);
        return output.data<long>().ToArray();
    }

    [Fact]
    public void DropsAtTheRequestedRateAndKeepsTheOtherLabels()
    {
        var labels = Enumerable.Range(0, 20_000).Select(i => (long)(i % 10)).ToArray();
        var dropped = Drop(labels, 0.1, 3);
        int nulls = dropped.Count(l => l == 10);
        // Binomial(20000, 0.1): mean 2000, sd 42; 5 sd either side.
        Assert.InRange(nulls, 2000 - 210, 2000 + 210);
        for (int i = 0; i < labels.Length; i++)
            Assert.True(dropped[i] == labels[i] || dropped[i] == 10, $"label {i} became {dropped[i]}");
    }

    [Fact]
    public void TheSeedFixesTheDraws()
    {
        var labels = Enumerable.Range(0, 500).Select(i => (long)(i % 7)).ToArray();
        Assert.Equal(Drop(labels, 0.3, 11), Drop(labels, 0.3, 11));
        Assert.NotEqual(Drop(labels, 0.3, 11), Drop(labels, 0.3, 12));
    }

    [Fact]
    public void ZeroKeepsEveryLabelWithoutDrawingAndOneDropsAll()
    {
        var labels = new long[] { 0, 1, 2, 3 };
        using var g = new Generator(5);
        using var before = g.get_state();
        using (var input = tensor(labels, ScalarType.Int64))
        using (var kept = LabelDropout.Apply(input, 10, 0, g))
            Assert.Equal(labels, kept.data<long>().ToArray());
        using var after = g.get_state();
        Assert.True(before.eq(after).all().item<bool>(), "p = 0 must not draw from the generator");
        Assert.Equal(new long[] { 10, 10, 10, 10 }, Drop(labels, 1, 5));
    }

    [Fact]
    public void ARateOutsideTheUnitIntervalIsRefused()
    {
        using var g = new Generator(1);
        using var input = tensor(new long[] { 1 }, ScalarType.Int64);
        Assert.Throws<DiffuseException>(() => LabelDropout.Apply(input, 10, 1.5, g));
        Assert.Throws<DiffuseException>(() => LabelDropout.Apply(input, 10, -0.1, g));
    }
}
