using Diffuse.Process;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace Diffuse.Tests.ScoreSampling;

public class SdeTests
{
    public static IEnumerable<object[]> Sdes() =>
    [
        [new VpSde()],
        [new SubVpSde()],
        [new VeSde(0.01, 50)],
    ];

    [Theory]
    [MemberData(nameof(Sdes))]
    public void MarginalsSolveTheMomentOdesOfTheSde(Sde sde)
    {
        // For dx = a(t) x dt + g(t) dw the kernel's mean scale obeys m' = a m and its variance v' = 2 a v + g^2
        // (Song et al. 2021, Eq. 32-33); check by central differences.
        const double h = 1e-6;
        foreach (var t in new[] { 0.05, 0.3, 0.7, 0.95 })
        {
            double dm = (sde.MeanScale(t + h) - sde.MeanScale(t - h)) / (2 * h);
            Assert.Equal(sde.DriftScale(t) * sde.MeanScale(t), dm, 1e-4 * Math.Max(1, Math.Abs(dm)));
            double V(double s) => Math.Pow(sde.MarginalStd(s), 2);
            double dv = (V(t + h) - V(t - h)) / (2 * h);
            double g = sde.Diffusion(t);
            Assert.True(Math.Abs(2 * sde.DriftScale(t) * V(t) + g * g - dv) < 1e-4 * Math.Max(1, Math.Abs(dv)), $"{sde.GetType().Name} at t = {t}: v' {dv}");
        }
    }

    [Theory]
    [MemberData(nameof(Sdes))]
    public void PriorMatchesTheMarginalAtTheEndAndHasItsLogDensity(Sde sde)
    {
        using var scope = NewDisposeScope();
        // At T the data's trace is gone: m(T) small against sigma(T), and sigma(T) the prior's std.
        Assert.True(sde.MeanScale(sde.T) < 0.01 * sde.MarginalStd(sde.T) || sde.MeanScale(sde.T) == 1);
        Assert.Equal(sde.PriorStd, sde.MarginalStd(sde.T), 0.01 * sde.PriorStd);
        using var g = new Generator(5);
        var z = sde.SamplePrior([20000, 3], g, ScalarType.Float64);
        Assert.Equal(sde.PriorStd, z.std().item<double>(), 0.02 * sde.PriorStd);
        var point = tensor(new[,] { { 0.5, -1.0, 2.0 } });
        double s2 = sde.PriorStd * sde.PriorStd;
        double expected = -1.5 * Math.Log(2 * Math.PI * s2) - (0.25 + 1 + 4) / (2 * s2);
        Assert.Equal(expected, sde.PriorLogDensity(point).item<double>(), 1e-12);
    }

    [Fact]
    public void DiscretisationsAreTheDdpmAndSmldChains()
    {
        var vp = new VpSde(0.1, 20, 1000);
        // The DDPM chain of N = 1000: beta_i from 1e-4 to 0.02, as Ho et al. 2020.
        Assert.Equal(1e-4, vp.DiscreteBeta(0), 1e-12);
        Assert.Equal(0.02, vp.DiscreteBeta(999), 1e-12);
        var step = vp.Discretize(1.0);
        Assert.Equal(Math.Sqrt(1 - 0.02) - 1, step.DriftScale, 1e-12);
        Assert.Equal(Math.Sqrt(0.02), step.NoiseScale, 1e-12);
        var ve = new VeSde(0.01, 50, 1000);
        Assert.Equal(0.01, ve.Discretize(0).NoiseScale, 1e-12);
        double top = ve.DiscreteSigma(999), below = ve.DiscreteSigma(998);
        Assert.Equal(50, top, 1e-9);
        Assert.Equal(Math.Sqrt(top * top - below * below), ve.Discretize(1.0).NoiseScale, 1e-9);
        Assert.Equal(0.3, ve.TimeOfSigma(ve.Sigma(0.3)), 1e-12);
    }

    [Fact]
    public void BadParametersAreOneLineErrors()
    {
        Assert.Throws<DiffuseException>(() => new VpSde(0, 20));
        Assert.Throws<DiffuseException>(() => new VeSde(1, 0.5));
        Assert.Throws<DiffuseException>(() => new SubVpSde(discreteSteps: 1));
    }
}
