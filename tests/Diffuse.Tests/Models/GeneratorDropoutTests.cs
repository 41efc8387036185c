using Diffuse.Models;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace Diffuse.Tests.Models;

public class GeneratorDropoutTests
{
    [Fact]
    public void MasksComeFromTheGivenGeneratorAndLeaveTheDefaultOneAlone()
    {
        using var dropout = new GeneratorDropout(0.25);
        dropout.train();
        using var x = ones(20_000);
        using var g1 = new Generator(3);
        using var g2 = new Generator(3);
        using var before = random.get_rng_state();

        dropout.Generator = g1;
        using var a = dropout.forward(x);
        dropout.Generator = g2;
        using var b = dropout.forward(x);

        Assert.True(a.equal(b).all().item<bool>());
        Assert.True(before.equal(random.get_rng_state()).all().item<bool>());
        double dropped = a.eq(0).to(ScalarType.Float64).mean().item<double>();
        Assert.InRange(dropped, 0.23, 0.27);
        // Kept values are scaled by 1 / (1 - p), so the mean is preserved.
        Assert.Equal(1 / 0.75, a.max().item<float>(), 5);
        Assert.InRange(a.mean().item<float>(), 0.97, 1.03);
    }

    [Fact]
    public void EvalModeAndZeroRateAreTheIdentity()
    {
        using var x = randn(100, generator: new Generator(1));
        using var dropout = new GeneratorDropout(0.5);
        dropout.eval();
        using var y = dropout.forward(x);
        Assert.True(x.equal(y).all().item<bool>());
        using var none = new GeneratorDropout(0);
        none.train();
        using var z = none.forward(x);
        Assert.True(x.equal(z).all().item<bool>());
        Assert.Throws<DiffuseException>(() => new GeneratorDropout(1.0));
    }
}
