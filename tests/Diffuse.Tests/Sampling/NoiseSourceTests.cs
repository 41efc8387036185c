using Diffuse.Configuration;
using Diffuse.Process;
using Diffuse.Sampling;
using TorchSharp;
using Xunit;

namespace Diffuse.Tests.Sampling;

/// <summary>The step-noise hook: diffusers' fresh draws by default, a Brownian tree's normalised increments on request.</summary>
public class NoiseSourceTests
{
    private static readonly double[] Sigmas = [14.6, 6.2, 2.5, 0.9, 0.2, 0.03, 0];

    [Fact]
    public void GaussianIsOneFreshDrawFromTheGenerator()
    {
        using var scope = torch.NewDisposeScope();
        var like = torch.zeros(3, 5);
        using var g1 = new torch.Generator(4);
        using var g2 = new torch.Generator(4);
        var source = new NoiseSource(NoiseSampler.Gaussian, Sigmas, "test");
        Assert.True(torch.allclose(Noise.RandnLike(like, g1), source.Draw(like, 14.6, 6.2, g2), rtol: 0, atol: 0));
        Assert.True(torch.allclose(Noise.RandnLike(like, g1), source.Draw(like, 6.2, 2.5, g2), rtol: 0, atol: 0));
    }

    [Fact]
    public void BrownianNoiseOfACoarseStepIsMadeOfTheFineStepsNoise()
    {
        using var scope = torch.NewDisposeScope();
        var like = torch.zeros(2, 4, 4);
        torch.Tensor Draw(double from, double to)
        {
            using var g = new torch.Generator(11);
            return new NoiseSource(NoiseSampler.BrownianTree, Sigmas, "test").Draw(like, from, to, g);
        }
        var fine = new NoiseSource(NoiseSampler.BrownianTree, Sigmas, "test");
        using var generator = new torch.Generator(11);
        var z1 = fine.Draw(like, 6.2, 2.5, generator);
        var z2 = fine.Draw(like, 2.5, 0.9, generator);
        // z = (W(b) - W(a)) / sqrt(|b - a|): the coarse step's increment is the sum of the fine ones'.
        var coarse = Draw(6.2, 0.9) * Math.Sqrt(6.2 - 0.9);
        Assert.True(torch.allclose(coarse, z1 * Math.Sqrt(6.2 - 2.5) + z2 * Math.Sqrt(2.5 - 0.9), rtol: 0, atol: 1e-5));
        Assert.True(torch.allclose(z1, Draw(6.2, 2.5), rtol: 0, atol: 0), "the same seed gives the same noise");
    }

    [Fact]
    public void TheTreeTakesOneSeedFromTheGeneratorAtTheFirstDraw()
    {
        using var scope = torch.NewDisposeScope();
        var like = torch.zeros(8);
        using var g = new torch.Generator(5);
        using var reference = new torch.Generator(5);
        var source = new NoiseSource(NoiseSampler.BrownianTree, Sigmas, "test");
        source.Draw(like, 14.6, 6.2, g);
        source.Draw(like, 6.2, 2.5, g);
        torch.randint(0, long.MaxValue, [1], dtype: torch.int64, generator: reference).Dispose();
        Assert.True(torch.allclose(torch.randn(4, generator: reference), torch.randn(4, generator: g), rtol: 0, atol: 0));
    }

    [Fact]
    public void AStepToZeroAddsNoNoiseAndNoGeneratorIsAnError()
    {
        using var scope = torch.NewDisposeScope();
        var like = torch.zeros(8);
        using var g = new torch.Generator(5);
        var source = new NoiseSource(NoiseSampler.BrownianTree, Sigmas, "euler_ancestral");
        Assert.Equal(0, source.Draw(like, 0.03, 0, g).abs().max().item<float>());
        var e = Assert.Throws<DiffuseException>(() => new NoiseSource(NoiseSampler.BrownianTree, Sigmas, "euler_ancestral").Draw(like, 14.6, 6.2, null));
        Assert.Contains("euler_ancestral", e.Message);
    }

    [Fact]
    public void BrownianNoiseIsStandardNormal()
    {
        using var scope = torch.NewDisposeScope();
        var like = torch.zeros(20_000);
        using var g = new torch.Generator(2);
        var source = new NoiseSource(NoiseSampler.BrownianTree, Sigmas, "test");
        for (var i = 0; i + 1 < Sigmas.Length - 1; i++)
        {
            var z = source.Draw(like, Sigmas[i], Sigmas[i + 1], g);
            Assert.InRange(z.mean().item<float>(), -0.03, 0.03);
            Assert.InRange(z.std().item<float>(), 0.97, 1.03);
        }
    }
}
