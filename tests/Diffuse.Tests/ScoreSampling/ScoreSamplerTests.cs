using Diffuse.Evaluation;
using Diffuse.Process;
using Diffuse.ScoreSampling;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace Diffuse.Tests.ScoreSampling;

/// <summary>
/// Score-based samplers driven by closed-form scores of known data (no network): their samples must have the
/// data's mean and covariance, and a mixture's weights. Tolerances are several standard errors wide; seeds are fixed.
/// </summary>
public class ScoreSamplerTests
{
    private const int Samples = 2000, Steps = 250;
    private static readonly double[] Mean = [0.5, -0.3];
    private const double Std = 0.4;

    private static GaussianMixture Gaussian() => new(new double[,] { { Mean[0], Mean[1] } }, [Std], [1.0]);

    private static GaussianMixture TwoModes() => new(new double[,] { { -1.0, 0.0 }, { 1.0, 0.5 } }, [0.2, 0.2], [0.3, 0.7]);

    private static void AssertGaussian(Tensor x, string what)
    {
        var mean = x.mean([0]).data<double>().ToArray();
        var centered = x - x.mean([0], keepdim: true);
        var cov = (centered.T.matmul(centered) / (x.shape[0] - 1)).data<double>().ToArray();
        for (int i = 0; i < 2; i++)
            Assert.True(Math.Abs(mean[i] - Mean[i]) < 0.03, $"{what}: mean[{i}] {mean[i]:F4}, expected {Mean[i]}");
        Assert.True(Math.Abs(cov[0] - Std * Std) < 0.1 * Std * Std && Math.Abs(cov[3] - Std * Std) < 0.1 * Std * Std,
            $"{what}: variances {cov[0]:F4}, {cov[3]:F4}, expected {Std * Std}");
        Assert.True(Math.Abs(cov[1]) < 0.02, $"{what}: covariance {cov[1]:F4}, expected 0");
    }

    /// <summary>The fraction of points nearer the first mode (x &lt; 0) than the second.</summary>
    private static double FirstModeFraction(Tensor x) => x[.., 0].lt(0).to_type(ScalarType.Float64).mean().item<double>();

    public static IEnumerable<object[]> Configurations() =>
    [
        ["vp, reverse diffusion + Langevin", new VpSde(discreteSteps: Steps), new PredictorCorrectorOptions()],
        ["vp, Euler-Maruyama", new VpSde(discreteSteps: Steps), new PredictorCorrectorOptions { Predictor = Predictor.EulerMaruyama, CorrectorSteps = 0 }],
        ["sub-vp, Euler-Maruyama + Langevin", new SubVpSde(discreteSteps: Steps), new PredictorCorrectorOptions { Predictor = Predictor.EulerMaruyama }],
        ["ve, reverse diffusion + Langevin", new VeSde(0.01, 20, Steps), new PredictorCorrectorOptions { Eps = 1e-5 }],
    ];

    [Theory]
    [MemberData(nameof(Configurations))]
    public void PredictorCorrectorSamplesTheGaussian(string name, Sde sde, PredictorCorrectorOptions options)
    {
        using var scope = NewDisposeScope();
        using var data = Gaussian();
        using var g = new Generator(11);
        var x = PredictorCorrectorSampler.Run(sde, data.ScoreUnder(sde), [Samples, 2], g, options, ScalarType.Float64);
        AssertGaussian(x, name);
    }

    [Fact]
    public void PredictorCorrectorKeepsTheMixtureWeights()
    {
        using var scope = NewDisposeScope();
        using var data = TwoModes();
        using var g = new Generator(12);
        var sde = new VpSde(discreteSteps: Steps);
        var x = PredictorCorrectorSampler.Run(sde, data.ScoreUnder(sde), [Samples, 2], g, new PredictorCorrectorOptions(), ScalarType.Float64);
        double fraction = FirstModeFraction(x);
        Assert.True(Math.Abs(fraction - 0.3) < 0.03, $"first mode holds {fraction:F3} of the samples, expected 0.3");
    }

    [Fact]
    public void SameGeneratorGivesTheSameSamples()
    {
        using var scope = NewDisposeScope();
        using var data = Gaussian();
        var sde = new VeSde(0.01, 20, discreteSteps: 20);
        var options = new PredictorCorrectorOptions();
        using var g1 = new Generator(3);
        using var g2 = new Generator(3);
        var a = PredictorCorrectorSampler.Run(sde, data.ScoreUnder(sde), [8, 2], g1, options);
        var b = PredictorCorrectorSampler.Run(sde, data.ScoreUnder(sde), [8, 2], g2, options);
        Assert.True(a.equal(b).all().item<bool>());
    }

    [Fact]
    public void AnnealedLangevinSamplesTheGaussianAndTheMixtureWeights()
    {
        using var scope = NewDisposeScope();
        var sde = new VeSde(0.01, 2);
        var options = new AnnealedLangevinOptions { Levels = 10, StepsPerLevel = 100, StepSize = 2e-5 };
        using var gaussian = Gaussian();
        using var g = new Generator(13);
        AssertGaussian(AnnealedLangevin.Run(sde, gaussian.ScoreUnder(sde), [Samples, 2], g, options, ScalarType.Float64), "annealed Langevin");
        using var modes = TwoModes();
        var x = AnnealedLangevin.Run(sde, modes.ScoreUnder(sde), [Samples, 2], g, options, ScalarType.Float64);
        double fraction = FirstModeFraction(x);
        Assert.True(Math.Abs(fraction - 0.3) < 0.03, $"first mode holds {fraction:F3} of the samples, expected 0.3");
    }

    [Fact]
    public void BadOptionsAreOneLineErrors()
    {
        using var data = Gaussian();
        var sde = new VpSde();
        using var g = new Generator(1);
        Assert.Throws<DiffuseException>(() => PredictorCorrectorSampler.Run(sde, data.ScoreUnder(sde), [2, 2], g, new PredictorCorrectorOptions { Snr = 0 }));
        Assert.Throws<DiffuseException>(() => PredictorCorrectorSampler.Run(sde, data.ScoreUnder(sde), [2, 2], g, new PredictorCorrectorOptions { Predictor = Predictor.None, CorrectorSteps = 0 }));
        Assert.Throws<DiffuseException>(() => AnnealedLangevin.Run(new VeSde(), data.ScoreUnder(sde), [2, 2], g, new AnnealedLangevinOptions { StepSize = -1 }));
    }
}
