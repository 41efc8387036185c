using Diffuse.Configuration;
using Diffuse.Models;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace Diffuse.Tests.Models;

public class MlpDenoiserTests
{
    static readonly MlpConfig Small = new() { InputDim = 3, HiddenDim = 16, Blocks = 2, TimeEmbedDim = 8 };

    [Fact]
    public void OutputHasTheInputsShape()
    {
        using var model = new MlpDenoiser(Small);
        using var x = randn(5, 3);
        using var t = tensor(new long[] { 0, 1, 10, 100, 999 });
        using var y = model.forward(x, t);
        Assert.Equal(new long[] { 5, 3 }, y.shape);
        Assert.True(y.isfinite().all().item<bool>());
    }

    [Theory]
    [InlineData(2, 16, 1, 8)]
    [InlineData(3, 16, 2, 8)]
    [InlineData(2, 32, 0, 4)]
    [InlineData(2, 128, 3, 128)]
    public void ParameterCountFollowsFromTheLayerSizes(int inputDim, int hidden, int blocks, int timeEmbed)
    {
        using var model = new MlpDenoiser(new MlpConfig { InputDim = inputDim, HiddenDim = hidden, Blocks = blocks, TimeEmbedDim = timeEmbed });
        static long Linear(long fanIn, long fanOut) => fanIn * fanOut + fanOut;
        long norm = 2L * hidden;
        long timeMlp = 2 * Linear(timeEmbed, timeEmbed);
        long block = norm + Linear(hidden, hidden) + Linear(timeEmbed, hidden) + Linear(hidden, hidden);
        long expected = timeMlp + Linear(inputDim, hidden) + blocks * block + norm + Linear(hidden, inputDim);
        Assert.Equal(expected, model.ParameterCount());
    }

    [Fact]
    public void TheEmbeddingFrequenciesAreNotSaved()
    {
        using var model = new MlpDenoiser(Small);
        Assert.DoesNotContain(model.state_dict().Keys, k => k.Contains("frequencies"));
        Assert.Equal(model.ParameterCount(), model.state_dict().Values.Sum(v => v.numel()));
    }

    [Theory]
    [InlineData(new long[] { 4, 2 })]
    [InlineData(new long[] { 4, 4 })]
    [InlineData(new long[] { 4 })]
    [InlineData(new long[] { 2, 4, 3 })]
    public void AWrongInputShapeIsAnError(long[] shape)
    {
        using var model = new MlpDenoiser(Small);
        using var x = zeros(shape);
        using var t = zeros(new long[] { shape[0] }, ScalarType.Int64);
        var error = Assert.Throws<DiffuseException>(() => model.forward(x, t));
        Assert.Contains("[B, 3]", error.Message);
        Assert.Contains($"[{string.Join(", ", shape)}]", error.Message);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    public void AnInvalidConfigIsAnError(int hidden) =>
        Assert.Throws<DiffuseException>(() => new MlpDenoiser(Small with { HiddenDim = hidden }));

    [Fact]
    public void SinusoidalEmbeddingMatchesItsClosedForm()
    {
        const int dim = 8, half = dim / 2;
        long[] steps = [0, 1, 7, 250, 999];
        using var embedding = new SinusoidalEmbedding(dim);
        using var t = tensor(steps);
        using var e = embedding.forward(t);
        Assert.Equal(new long[] { steps.Length, dim }, e.shape);
        var values = e.data<float>().ToArray();
        for (int b = 0; b < steps.Length; b++)
        {
            for (int i = 0; i < half; i++)
            {
                double angle = steps[b] * Math.Pow(10000, -(double)i / half);
                // float32 angles up to ~1000 rad carry a relative error near 1e-7, so up to ~1e-4 absolute.
                Assert.Equal(Math.Cos(angle), values[b * dim + i], 3e-4);
                Assert.Equal(Math.Sin(angle), values[b * dim + half + i], 3e-4);
            }
        }
    }

    [Theory]
    [InlineData(0)]
    [InlineData(3)]
    public void SinusoidalEmbeddingNeedsAnEvenPositiveSize(int dim) =>
        Assert.Throws<DiffuseException>(() => new SinusoidalEmbedding(dim));

    static float[] Weights(nn.Module model) =>
        model.parameters().SelectMany(p => p.detach().flatten().data<float>().ToArray()).ToArray();

    [Fact]
    public void ResetWithTheSameSeedGivesTheSameWeightsAndAnotherSeedOthers()
    {
        using var a = new MlpDenoiser(Small);
        using var b = new MlpDenoiser(Small);
        using var c = new MlpDenoiser(Small);
        using (var g = new Generator(11)) Initialization.Reset(a, g);
        using (var g = new Generator(11)) Initialization.Reset(b, g);
        using (var g = new Generator(12)) Initialization.Reset(c, g);

        var wa = Weights(a);
        Assert.Equal(wa, Weights(b));
        var wc = Weights(c);
        // Only LayerNorm weights and biases (ones and zeros) agree between seeds.
        long norms = 2L * 16 * (Small.Blocks + 1);
        Assert.Equal(norms, wa.Zip(wc).Count(z => z.First == z.Second));
    }

    [Fact]
    public void ResetDrawsLinearWeightsWithinTheFanInBound()
    {
        using var model = new MlpDenoiser(Small);
        using (var g = new Generator(5)) Initialization.Reset(model, g);
        foreach (var (name, p) in model.named_parameters())
        {
            var values = p.detach().flatten().data<float>().ToArray();
            if (name.Contains("norm"))
            {
                Assert.All(values, v => Assert.Equal(name.EndsWith("weight") ? 1f : 0f, v));
                continue;
            }
            var fanIn = LinearFanIn(model, name);
            double bound = 1 / Math.Sqrt(fanIn);
            Assert.All(values, v => Assert.InRange(Math.Abs(v), 0, bound));
        }
    }

    static long LinearFanIn(MlpDenoiser model, string parameterName)
    {
        var weightName = parameterName.EndsWith(".bias") ? parameterName[..^".bias".Length] + ".weight" : parameterName;
        return model.named_parameters().Single(p => p.name == weightName).parameter.shape[1];
    }
}
