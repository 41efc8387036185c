using Diffuse.Guidance;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace Diffuse.Tests.Guidance;

public class ClassifierFreeGuidanceTests
{
    const long NullLabel = 5;

    /// <summary>A fake network whose output for label l is x (l + 1) + t: the null label gives x 6 + t. It records each call's batch size.</summary>
    sealed class FakeNetwork(int outChannels = 2)
    {
        public List<long> Calls { get; } = [];

        public Tensor Forward(Tensor x, Tensor t, Tensor labels)
        {
            Calls.Add(x.shape[0]);
            var scale = (labels.to(ScalarType.Float32) + 1).view(-1, 1, 1, 1);
            var output = x * scale + t.to(ScalarType.Float32).view(-1, 1, 1, 1);
            // Extra channels (a learned variance): 100 + label, so that the test can see whose they are.
            if (outChannels > x.shape[1])
                output = cat([output, (labels.to(ScalarType.Float32) + 100).view(-1, 1, 1, 1).expand(-1, outChannels - x.shape[1], x.shape[2], x.shape[3])], 1);
            return output;
        }
    }

    static (Tensor X, Tensor T, Tensor Labels) Inputs()
    {
        using var g = new Generator(7);
        return (randn([3, 2, 4, 4], generator: g), tensor(new long[] { 10, 10, 10 }), tensor(new long[] { 0, 2, 4 }));
    }

    [Fact]
    public void ScaleZeroIsTheUnconditionalAndScaleOneTheConditionalPredictionInOnePass()
    {
        var (x, t, labels) = Inputs();
        var network = new FakeNetwork();
        using var unconditional = ClassifierFreeGuidance.Wrap(network.Forward, labels, NullLabel, 0, 0, 2)(x, t);
        using var expectedU = x * (NullLabel + 1) + 10;
        Assert.True(unconditional.allclose(expectedU));
        using var conditional = ClassifierFreeGuidance.Wrap(network.Forward, labels, NullLabel, 1, 0, 2)(x, t);
        using var expectedC = x * (labels.to(ScalarType.Float32) + 1).view(-1, 1, 1, 1) + 10;
        Assert.True(conditional.allclose(expectedC));
        Assert.Equal(new long[] { 3, 3 }, network.Calls);
    }

    [Fact]
    public void AScaleAboveOneIsTheClosedFormFromOneDoubledPass()
    {
        var (x, t, labels) = Inputs();
        var network = new FakeNetwork();
        using var guided = ClassifierFreeGuidance.Wrap(network.Forward, labels, NullLabel, 3, 0, 2)(x, t);
        Assert.Equal(new long[] { 6 }, network.Calls);
        // eps_u + 3 (eps_c - eps_u) with eps_c = x (l + 1) + 10 and eps_u = 6 x + 10, computed per value.
        var l = new[] { 0.0f, 2, 4 };
        var xs = x.data<float>().ToArray();
        var actual = guided.data<float>().ToArray();
        int per = 2 * 4 * 4;
        for (int i = 0; i < xs.Length; i++)
        {
            float c = xs[i] * (l[i / per] + 1) + 10, u = xs[i] * 6 + 10;
            Assert.Equal(u + 3 * (c - u), actual[i], 4);
        }
    }

    [Fact]
    public void TheVarianceChannelsAreTheConditionalOnes()
    {
        var (x, t, labels) = Inputs();
        var network = new FakeNetwork(outChannels: 4);
        using var guided = ClassifierFreeGuidance.Wrap(network.Forward, labels, NullLabel, 2.5, 0, 2)(x, t);
        Assert.Equal(new long[] { 3, 4, 4, 4 }, guided.shape);
        using var variance = guided.narrow(1, 2, 2);
        using var expected = (labels.to(ScalarType.Float32) + 100).view(-1, 1, 1, 1).expand(-1, 2, 4, 4);
        Assert.True(variance.eq(expected).all().item<bool>());
        using var conditional = x * (labels.to(ScalarType.Float32) + 1).view(-1, 1, 1, 1) + 10;
        using var unconditional = x * 6 + 10;
        using var mean = unconditional + 2.5 * (conditional - unconditional);
        Assert.True(guided.narrow(1, 0, 2).allclose(mean, rtol: 1e-5, atol: 1e-5));
    }

    [Fact]
    public void RescaleMatchesEquations15And16OfLinEtAl()
    {
        using var g = new Generator(3);
        using var guided = randn([2, 3, 5, 5], generator: g) * 4 + 1;
        using var conditional = randn([2, 3, 5, 5], generator: g);
        double phi = 0.7;
        using var result = ClassifierFreeGuidance.Rescale(guided, conditional, phi);
        var gv = guided.data<float>().ToArray();
        var cv = conditional.data<float>().ToArray();
        var rv = result.data<float>().ToArray();
        int per = 75;
        for (int b = 0; b < 2; b++)
        {
            double sg = Std(gv.Skip(b * per).Take(per)), sc = Std(cv.Skip(b * per).Take(per));
            for (int i = b * per; i < (b + 1) * per; i++)
                Assert.Equal(phi * gv[i] * sc / sg + (1 - phi) * gv[i], rv[i], 4);
        }
        // phi = 1: each sample gets the conditional prediction's std exactly.
        using var full = ClassifierFreeGuidance.Rescale(guided, conditional, 1);
        using var fullStd = full.std([1, 2, 3]);
        using var condStd = conditional.std([1, 2, 3]);
        Assert.True(fullStd.allclose(condStd, rtol: 1e-5));
    }

    static double Std(IEnumerable<float> values)
    {
        var v = values.Select(x => (double)x).ToArray();
        double mean = v.Average();
        return Math.Sqrt(v.Sum(x => (x - mean) * (x - mean)) / (v.Length - 1));
    }

    [Fact]
    public void RescaleChangesTheGuidedPrediction()
    {
        var (x, t, labels) = Inputs();
        var network = new FakeNetwork();
        using var plain = ClassifierFreeGuidance.Wrap(network.Forward, labels, NullLabel, 4, 0, 2)(x, t);
        using var rescaled = ClassifierFreeGuidance.Wrap(network.Forward, labels, NullLabel, 4, 0.5, 2)(x, t);
        Assert.False(plain.allclose(rescaled));
    }
}
