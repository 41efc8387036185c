using Diffuse.Configuration;
using Diffuse.Sampling;
using Diffuse.Schedules;
using TorchSharp;
using Xunit;

namespace Diffuse.Tests.Sampling;

public class DdimInverseSchedulerTests : SchedulerContractTests<DdimInverseScheduler>
{
    protected override string Name => "ddim_inverse";
    protected override bool Inverts => true;

    private static readonly SchedulerConfig Linear = new() { NumTrainTimesteps = 1000, BetaStart = 1e-4, BetaEnd = 0.02, ClipSample = true };

    /// <summary>diffusers' tests/schedulers/test_scheduler_ddim_inverse.py: loop A over 10 ascending steps.</summary>
    [Theory]
    [InlineData(PredictionType.Epsilon, 1e-4, true, 671.6816, 0.8746)]
    [InlineData(PredictionType.VPrediction, 1e-4, true, 1394.2185, 1.8154)]
    [InlineData(PredictionType.Epsilon, 0.01, true, 539.9622, 0.7031)]
    [InlineData(PredictionType.Epsilon, 0.01, false, 542.6722, 0.7066)]
    public void FullLoopsMatchDiffusers(PredictionType type, double betaStart, bool setAlphaToOne, double sum, double mean)
    {
        using var scope = torch.NewDisposeScope();
        var config = Linear with { PredictionType = type, BetaStart = betaStart, SetAlphaToOne = setAlphaToOne };
        var x = ReferenceInputs.DeterministicLoopA("ddim_inverse", config);
        var (s, m) = ReferenceInputs.SumMeanAbs(x);
        Assert.Equal(sum, s, 1e-2);
        Assert.Equal(mean, m, 1e-3);
    }

    [Fact]
    public void StepsOffsetTimestepsMatchDiffusers() =>
        Assert.Equal(new long[] { 1, 201, 401, 601, 801 }, new DdimInverseScheduler(Linear with { StepsOffset = 1 }).Begin(5).Timesteps.data<long>().ToArray());

    [Theory]
    [InlineData(TimestepSpacing.Leading)]
    [InlineData(TimestepSpacing.Trailing)]
    public void TimestepsAreDdimsReversed(TimestepSpacing spacing)
    {
        var config = new SchedulerConfig { TimestepSpacing = spacing };
        var forward = new DdimScheduler(config).Begin(7).Timesteps.data<long>().ToArray();
        Assert.Equal(forward.Reverse(), new DdimInverseScheduler(config).Begin(7).Timesteps.data<long>().ToArray());
    }

    [Fact]
    public void APerfectPredictorLandsOnTheForwardMarginal()
    {
        // From x = sqrt(abar_0) x0 + sqrt(1 - abar_0) noise (set_alpha_to_one false: the run starts at abar_0), a model
        // that returns x0 (sample prediction) gives eps = noise exactly, so every step lands on q(x_t | x0) with that noise.
        using var scope = torch.NewDisposeScope();
        var config = new SchedulerConfig { PredictionType = PredictionType.Sample, SetAlphaToOne = false, ClipSample = false };
        var scheduler = new DdimInverseScheduler(config);
        var x0 = ReferenceInputs.SampleDeter() * 2 - 1;
        var noise = ReferenceInputs.NoiseDeter();
        var x = scheduler.AddNoise(x0, noise, torch.tensor(new long[] { 0 }));
        var run = scheduler.Begin(10);
        foreach (var t in run.Timesteps.data<long>().ToArray())
        {
            x = run.Step(x0, torch.tensor(t), x, null).PrevSample;
            var expected = scheduler.AddNoise(x0, noise, torch.tensor(new[] { t }));
            Assert.True(torch.allclose(expected, x, rtol: 0, atol: 1e-4), $"t={t}: {(expected - x).abs().max().item<float>()}");
        }
    }

    /// <summary>
    /// The exact denoiser of Gaussian data x0 ~ N(mu, s^2) per element: E[x0 | x_t] = mu + a s^2 / (a^2 s^2 + 1 - a^2)
    /// (x_t - a mu), a = sqrt(abar_t), returned as eps = (x_t - a E[x0 | x_t]) / sqrt(1 - abar_t).
    /// </summary>
    private static torch.Tensor ExactEps(torch.Tensor x, double abar, double mu, double s)
    {
        var a = Math.Sqrt(abar);
        var x0 = (x - a * mu) * (a * s * s / (abar * s * s + 1 - abar)) + mu;
        return (x - x0 * a) / Math.Sqrt(1 - abar);
    }

    [Fact]
    public void InvertingThenSamplingWithAnExactDenoiserRecoversTheImage()
    {
        // DDIM inversion calls the model at the step's target timestep with the sample still at the previous level
        // (as diffusers' inversion pipelines do), so the round trip is exact only as the steps shrink: its error
        // falls roughly as 1/n and is small at many steps.
        using var scope = torch.NewDisposeScope();
        const double mu = 0.3, s = 0.5;
        var config = new SchedulerConfig { ClipSample = false };
        var abar = NoiseSchedule.FromConfig(config).AlphasCumprod;
        var image = ReferenceInputs.SampleDeter() * 2 - 1;
        double RoundTrip(int n)
        {
            var x = image;
            foreach (var (name, scheduler) in new (string, IScheduler)[] { ("ddim_inverse", new DdimInverseScheduler(config)), ("ddim", new DdimScheduler(config)) })
            {
                var run = scheduler.Begin(n);
                foreach (var t in run.Timesteps.data<long>().ToArray())
                    x = run.Step(ExactEps(x, abar[t], mu, s), torch.tensor(t), x, null).PrevSample;
            }
            return (x - image).abs().max().item<float>();
        }
        double e10 = RoundTrip(10), e100 = RoundTrip(100), e500 = RoundTrip(500);
        Assert.True(e100 < e10 / 5 && e500 < e100 / 3, $"errors {e10}, {e100}, {e500}");
        Assert.True(e500 < 1.5e-2, $"errors {e10}, {e100}, {e500}");
    }

    [Theory]
    [InlineData("""{"timestep_spacing": "linspace"}""", "timestep_spacing")]
    [InlineData("""{"eta": 0.5}""", "eta")]
    [InlineData("""{"prediction_type": "sample"}""", "set_alpha_to_one")]
    public void WhatDiffusersInversionLacksIsRefusedInOneLine(string json, string named)
    {
        var e = Assert.Throws<DiffuseException>(() => Schedulers.Create("ddim_inverse", json));
        Assert.Contains(named, e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Fact]
    public void ThresholdingIsIgnoredAsInDiffusers()
    {
        using var scope = torch.NewDisposeScope();
        var plain = ReferenceInputs.DeterministicLoopA("ddim_inverse", Linear with { PredictionType = PredictionType.VPrediction });
        var thresholded = ReferenceInputs.DeterministicLoopA("ddim_inverse", Linear with { PredictionType = PredictionType.VPrediction, Thresholding = true, SampleMaxValue = 2 });
        Assert.True(torch.allclose(plain, thresholded, rtol: 0, atol: 0));
    }
}
