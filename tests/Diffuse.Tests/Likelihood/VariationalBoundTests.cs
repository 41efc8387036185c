using Diffuse.Configuration;
using Diffuse.Evaluation;
using Diffuse.Likelihood;
using Diffuse.Process;
using Diffuse.Schedules;
using TorchSharp;
using Xunit;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace Diffuse.Tests.Likelihood;

/// <summary>
/// The bound of a model that knows the data exactly (the exact denoiser of Gaussian data): it must never fall below the
/// true NLL, and with fixed_large variances it must tighten as the number of steps grows (cosine schedules of T = 10, 100,
/// 1000). fixed_small is a valid bound but need not tighten on continuous data: beta-tilde_t underestimates the true
/// reverse variance beta-tilde_t + c_t^2 Var(x_0 | x_t) by a factor of about 1 + 1/t near the data, a KL of about 1/(2t)
/// nats/dim at step t whose sum grows like log T (measured: 1.25, 1.47 nats/dim at T = 10, 100 against a true 0.69);
/// this is what learned variances fix (Nichol &amp; Dhariwal 2021, Sec. 3.1).
/// </summary>
public class VariationalBoundTests(ITestOutputHelper output)
{
    private const int Dim = 16, Batch = 32;

    private static Func<Tensor, Tensor, Tensor> ExactEpsilon(GaussianMixture data, NoiseSchedule schedule) => (xt, t) =>
    {
        double abar = schedule.AlphaCumprod((int)t[0].item<long>());
        using var x0 = data.Denoise(xt, abar);
        return (xt - x0 * Math.Sqrt(abar)) / Math.Sqrt(1 - abar);
    };

    [Theory]
    [InlineData(ReverseVariance.FixedSmall, false)]
    [InlineData(ReverseVariance.FixedLarge, true)]
    public void BoundsTheTrueNllAndTightensWithMoreSteps(ReverseVariance variance, bool tightens)
    {
        using var scope = NewDisposeScope();
        var means = new double[1, Dim];
        for (int i = 0; i < Dim; i++) means[0, i] = 0.3 * Math.Sin(i);
        using var data = new GaussianMixture(means, [0.5], [1.0]);
        using var g = new Generator(71);
        var x0 = data.Sample(Batch, g).to_type(float64);
        double trueNll = (-data.LogDensity(x0)).mean().item<double>() / Dim;
        double previous = double.PositiveInfinity;
        foreach (var steps in tightens ? new[] { 10, 100, 1000 } : new[] { 10, 100 })
        {
            var schedule = NoiseSchedule.Create(BetaSchedule.SquaredcosCapV2, steps);
            var bound = new VariationalBound(new GaussianDiffusion(schedule, PredictionType.Epsilon), variance, DataDecoder.ContinuousGaussian);
            var elbo = bound.Evaluate(ExactEpsilon(data, schedule), x0, g);
            double natsPerDim = elbo.Total.mean().item<double>() * Math.Log(2);
            output.WriteLine($"{variance}, T = {steps}: bound {natsPerDim:F4} nats/dim (prior {elbo.Prior.mean().item<double>() * Math.Log(2):F5}), true NLL {trueNll:F4}, gap {natsPerDim - trueNll:F4}");
            Assert.True(natsPerDim >= trueNll, $"T = {steps}: bound {natsPerDim} below the true NLL {trueNll}");
            Assert.True(!tightens || natsPerDim < previous, $"T = {steps}: bound {natsPerDim} did not tighten from {previous}");
            previous = natsPerDim;
        }
    }

    [Fact]
    public void TermsAreTheKlsAndThePriorInClosedForm()
    {
        using var scope = NewDisposeScope();
        var schedule = NoiseSchedule.Create(BetaSchedule.Linear, 10, 0.001, 0.2);
        var diffusion = new GaussianDiffusion(schedule, PredictionType.Epsilon);
        var bound = new VariationalBound(diffusion, ReverseVariance.FixedLarge, DataDecoder.ContinuousGaussian);
        using var g = new Generator(2);
        var x0 = randn(new long[] { 2, 5 }, float64, generator: g);
        var noise = randn(new long[] { 2, 5 }, float64, generator: g);
        var t = tensor(new long[] { 4, 4 });
        var xt = diffusion.QSample(x0, t, noise);
        // A model that predicts the true noise has the posterior's mean: only the variances differ, beta_4 against beta-tilde_4.
        var term = bound.TermBitsPerDim(noise, x0, xt, t);
        var abar = schedule.AlphasCumprod;
        double beta = 1 - abar[4] / abar[3], tilde = (1 - abar[3]) / (1 - abar[4]) * beta;
        double expected = 0.5 * (Math.Log(beta / tilde) + tilde / beta - 1) / Math.Log(2);
        Assert.Equal(expected, term[0].item<double>(), 1e-9);
        // L_T = KL(N(sqrt(abar_T) x_0, 1 - abar_T) || N(0, 1)).
        double aT = abar[9];
        var prior = bound.PriorBitsPerDim(x0);
        var closed = (0.5 * (aT * x0.square() - Math.Log(1 - aT) - aT)).mean([1]) / Math.Log(2);
        Assert.True((prior - closed).abs().max().item<double>() < 1e-12);
    }
}
