using Diffuse.Configuration;
using Diffuse.Process;
using Diffuse.Schedules;
using TorchSharp;
using Xunit;

namespace Diffuse.Tests.Process;

public class GaussianDiffusionTests
{
    private const int T = 1000;
    private static readonly NoiseSchedule Linear = NoiseSchedule.Create(BetaSchedule.Linear, T);
    private static readonly long[] Steps = [0, 1, 17, 250, 500, 998, 999];

    private static torch.Tensor Randn(torch.Generator g, params long[] shape) => torch.randn(shape, torch.float64, generator: g);

    private static void AssertClose(torch.Tensor expected, torch.Tensor actual, double tolerance)
    {
        Assert.Equal(expected.shape, actual.shape);
        var error = (expected - actual).abs().max().item<double>();
        Assert.True(error <= tolerance, $"max |difference| {error} > {tolerance}");
    }

    [Theory]
    [InlineData(PredictionType.Epsilon)]
    [InlineData(PredictionType.Sample)]
    [InlineData(PredictionType.VPrediction)]
    public void ConversionsRoundTripThroughEveryType(PredictionType type)
    {
        using var scope = torch.NewDisposeScope();
        using var g = new torch.Generator(7);
        var t = torch.tensor(Steps);
        var xt = Randn(g, Steps.Length, 2, 3, 3);
        var output = Randn(g, Steps.Length, 2, 3, 3);
        var diffusion = new GaussianDiffusion(Linear, type);
        var x0 = diffusion.PredictedOriginal(output, xt, t);
        var eps = diffusion.PredictedEpsilon(output, xt, t);
        var v = diffusion.PredictedV(output, xt, t);
        // Reading each prediction back with a model of its own type gives the same x_0, eps and v ...
        var byType = new Dictionary<PredictionType, torch.Tensor> { [PredictionType.Sample] = x0, [PredictionType.Epsilon] = eps, [PredictionType.VPrediction] = v };
        foreach (var (from, value) in byType)
        {
            var other = new GaussianDiffusion(Linear, from);
            AssertClose(x0, other.PredictedOriginal(value, xt, t), 1e-9);
            AssertClose(eps, other.PredictedEpsilon(value, xt, t), 1e-9);
            AssertClose(v, other.PredictedV(value, xt, t), 1e-9);
            AssertClose(output, other.Convert(value, xt, t, type), 1e-9);
        }
        // ... and they describe x_t: x_t = a x_0 + s eps (Ho et al. 2020, Eq. 4), v = a eps - s x_0.
        AssertClose(xt, diffusion.QSample(x0, t, eps), 1e-9);
        var (a, s) = SqrtCoefficients(t, 4);
        AssertClose(a * eps - s * x0, v, 1e-9);
    }

    [Theory]
    [InlineData(PredictionType.Epsilon)]
    [InlineData(PredictionType.Sample)]
    [InlineData(PredictionType.VPrediction)]
    public void ScalarConversionsAgreeWithTheTensorOnes(PredictionType type)
    {
        using var scope = torch.NewDisposeScope();
        using var g = new torch.Generator(3);
        var diffusion = new GaussianDiffusion(Linear, type);
        var xt = Randn(g, 1, 4);
        var output = Randn(g, 1, 4);
        foreach (var step in Steps)
        {
            var t = torch.tensor(new[] { step });
            var abar = Linear.AlphasCumprod[step];
            AssertClose(diffusion.PredictedOriginal(output, xt, t), GaussianDiffusion.PredictedOriginal(type, output, xt, abar), 1e-9);
            AssertClose(diffusion.PredictedEpsilon(output, xt, t), GaussianDiffusion.PredictedEpsilon(type, output, xt, abar), 1e-9);
        }
    }

    [Fact]
    public void QSampleIsTheClosedFormAndBroadcastsOverTrailingDims()
    {
        using var scope = torch.NewDisposeScope();
        using var g = new torch.Generator(1);
        var diffusion = new GaussianDiffusion(Linear, PredictionType.Epsilon);
        var x0 = Randn(g, 3, 2, 5);
        var noise = Randn(g, 3, 2, 5);
        long[] steps = [0, 400, 999];
        var xt = diffusion.QSample(x0, torch.tensor(steps), noise);
        for (var b = 0; b < 3; b++)
        {
            var abar = Linear.AlphasCumprod[steps[b]];
            AssertClose(x0[b] * Math.Sqrt(abar) + noise[b] * Math.Sqrt(1 - abar), xt[b], 1e-12);
        }
        var xt32 = diffusion.QSample(x0.to(torch.float32), torch.tensor(steps), noise.to(torch.float32));
        Assert.Equal(torch.float32, xt32.dtype);
    }

    [Fact]
    public void TargetIsNoiseSampleOrV()
    {
        using var scope = torch.NewDisposeScope();
        using var g = new torch.Generator(2);
        var x0 = Randn(g, 7, 3);
        var noise = Randn(g, 7, 3);
        var t = torch.tensor(Steps);
        var (a, s) = SqrtCoefficients(t, 2);
        AssertClose(noise, new GaussianDiffusion(Linear, PredictionType.Epsilon).Target(x0, noise, t), 0);
        AssertClose(x0, new GaussianDiffusion(Linear, PredictionType.Sample).Target(x0, noise, t), 0);
        AssertClose(a * noise - s * x0, new GaussianDiffusion(Linear, PredictionType.VPrediction).Target(x0, noise, t), 1e-12);
        foreach (var type in Enum.GetValues<PredictionType>())
        {
            // A perfect model's output predicts x_0 back.
            var d = new GaussianDiffusion(Linear, type);
            AssertClose(x0, d.PredictedOriginal(d.Target(x0, noise, t), d.QSample(x0, t, noise), t), 1e-9);
        }
    }

    [Fact]
    public void PosteriorIsEquationSevenOfHoEtAl()
    {
        using var scope = torch.NewDisposeScope();
        using var g = new torch.Generator(4);
        var x0 = Randn(g, Steps.Length, 3);
        var xt = Randn(g, Steps.Length, 3);
        var posterior = new GaussianDiffusion(Linear, PredictionType.Epsilon).PosteriorMeanVariance(x0, xt, torch.tensor(Steps));
        var (betas, abar) = (Linear.Betas, Linear.AlphasCumprod);
        // Eq. 7 with alpha_t = abar_t / abar_{t-1}, beta_t = 1 - alpha_t: the beta table agrees to float32 precision only.
        double Beta(int t) => 1 - abar[t] / (t == 0 ? 1.0 : abar[t - 1]);
        double BetaTilde(int t) => (1 - (t == 0 ? 1.0 : abar[t - 1])) / (1 - abar[t]) * Beta(t);
        for (var b = 0; b < Steps.Length; b++)
        {
            var t = (int)Steps[b];
            var abarPrev = t == 0 ? 1.0 : abar[t - 1];
            Assert.True(Math.Abs(Beta(t) / betas[t] - 1) < 1e-3, $"t={t}");
            var mean = x0[b] * (Math.Sqrt(abarPrev) * Beta(t) / (1 - abar[t])) + xt[b] * (Math.Sqrt(1 - Beta(t)) * (1 - abarPrev) / (1 - abar[t]));
            AssertClose(mean, posterior.Mean[b], 1e-12);
            Assert.Equal(BetaTilde(t), posterior.Variance[b, 0].item<double>(), 1e-15);
            Assert.Equal(Math.Log(t == 0 ? BetaTilde(1) : BetaTilde(t)), posterior.LogVarianceClipped[b, 2].item<double>(), 1e-12);
        }
        Assert.Equal(0.0, posterior.Variance[0, 0].item<double>()); // q(x_{-1} | x_0, x_0) is a point mass
        AssertClose(x0[0], posterior.Mean[0], 1e-12);
    }

    [Theory]
    [InlineData(PredictionType.Epsilon)]
    [InlineData(PredictionType.Sample)]
    [InlineData(PredictionType.VPrediction)]
    public void SimpleLossIsMseToTheTarget(PredictionType type)
    {
        using var scope = torch.NewDisposeScope();
        using var g = new torch.Generator(5);
        var d = new GaussianDiffusion(Linear, type);
        var (x0, noise, output) = (Randn(g, 4, 2, 3), Randn(g, 4, 2, 3), Randn(g, 4, 2, 3));
        var t = torch.tensor(new long[] { 3, 300, 600, 999 });
        var expected = (output - d.Target(x0, noise, t)).square().mean().item<double>();
        Assert.Equal(expected, d.Loss(output, x0, noise, t, LossWeighting.Simple).item<double>(), 1e-12);
        Assert.Equal(0, d.Loss(output, x0, noise, t, LossWeighting.Simple).dim());
    }

    [Theory]
    [InlineData(PredictionType.Epsilon, 5.0)]
    [InlineData(PredictionType.Sample, 5.0)]
    [InlineData(PredictionType.VPrediction, 5.0)]
    [InlineData(PredictionType.Epsilon, 1.0)]
    public void MinSnrLossWeightsEachSampleByHand(PredictionType type, double gamma)
    {
        using var scope = torch.NewDisposeScope();
        using var g = new torch.Generator(6);
        var d = new GaussianDiffusion(Linear, type);
        var (x0, noise, output) = (Randn(g, 4, 2, 3), Randn(g, 4, 2, 3), Randn(g, 4, 2, 3));
        long[] steps = [3, 120, 600, 999]; // SNR from ~3000 down to ~4e-5: both sides of gamma
        var target = d.Target(x0, noise, torch.tensor(steps));
        var expected = 0.0;
        for (var b = 0; b < 4; b++)
        {
            var snr = Linear.Snr((int)steps[b]);
            var weight = type switch
            {
                PredictionType.Epsilon => Math.Min(snr, gamma) / snr,
                PredictionType.Sample => Math.Min(snr, gamma),
                _ => Math.Min(snr, gamma) / (snr + 1),
            };
            expected += weight * (output[b] - target[b]).square().mean().item<double>() / 4;
        }
        Assert.Equal(expected, d.Loss(output, x0, noise, torch.tensor(steps), LossWeighting.MinSnr, gamma).item<double>(), 1e-10);
    }

    [Theory]
    [InlineData(PredictionType.Epsilon, 1.0)]
    [InlineData(PredictionType.Sample, 0.0)]
    [InlineData(PredictionType.VPrediction, 0.0)]
    public void MinSnrWeightsAreFiniteAtZeroTerminalSnr(PredictionType type, double weightAtZeroSnr)
    {
        using var scope = torch.NewDisposeScope();
        var schedule = NoiseSchedule.Create(BetaSchedule.Linear, 100, rescaleZeroTerminalSnr: true);
        var d = new GaussianDiffusion(schedule, type);
        var t = torch.tensor(new long[] { 99, 99 });
        Assert.Equal(new[] { weightAtZeroSnr, weightAtZeroSnr }, d.MinSnrWeights(t, 5.0).data<double>().ToArray());
        using var g = new torch.Generator(8);
        var (x0, noise, output) = (Randn(g, 2, 3), Randn(g, 2, 3), Randn(g, 2, 3));
        Assert.True(double.IsFinite(d.Loss(output, x0, noise, t, LossWeighting.MinSnr).item<double>()));
    }

    [Fact]
    public void MinSnrNeedsAPositiveGamma()
    {
        using var scope = torch.NewDisposeScope();
        var d = new GaussianDiffusion(Linear, PredictionType.Epsilon);
        var x = torch.zeros(2, 3);
        var e = Assert.Throws<DiffuseException>(() => d.Loss(x, x, x, torch.tensor(new long[] { 1, 2 }), LossWeighting.MinSnr, 0));
        Assert.Contains("gamma", e.Message);
    }

    [Fact]
    public void SampleTimestepsIsUniformInRangeAndFollowsTheSeed()
    {
        using var scope = torch.NewDisposeScope();
        var d = new GaussianDiffusion(NoiseSchedule.Create(BetaSchedule.Linear, 10), PredictionType.Epsilon);
        using var g1 = new torch.Generator(11);
        using var g2 = new torch.Generator(11);
        var a = d.SampleTimesteps(5000, g1);
        Assert.Equal(torch.int64, a.dtype);
        Assert.Equal(new long[] { 5000 }, a.shape);
        var values = a.data<long>().ToArray();
        Assert.All(values, v => Assert.InRange(v, 0, 9));
        Assert.Equal(10, values.Distinct().Count());
        Assert.Equal(values, d.SampleTimesteps(5000, g2).data<long>().ToArray());
    }

    [Fact]
    public void RandnLikeMatchesRandnFromTheSameSeed()
    {
        using var scope = torch.NewDisposeScope();
        var like = torch.zeros(new long[] { 2, 3, 4 }, torch.float64);
        using var g1 = new torch.Generator(9);
        using var g2 = new torch.Generator(9);
        var noise = Noise.RandnLike(like, g1);
        Assert.Equal(like.shape, noise.shape);
        Assert.Equal(torch.float64, noise.dtype);
        AssertClose(torch.randn(new long[] { 2, 3, 4 }, torch.float64, generator: g2), noise, 0);
    }

    private static (torch.Tensor A, torch.Tensor S) SqrtCoefficients(torch.Tensor t, int rank)
    {
        var shape = Enumerable.Repeat(1L, rank).ToArray();
        shape[0] = -1;
        var abar = torch.tensor(Linear.AlphasCumprod).index_select(0, t).reshape(shape);
        return (abar.sqrt(), (1 - abar).sqrt());
    }
}
