using Diffuse.Configuration;
using Diffuse.Process;
using Diffuse.Sampling;
using Diffuse.Schedules;
using TorchSharp;
using Xunit;

namespace Diffuse.Tests.Sampling;

public class DdimSchedulerTests : SchedulerContractTests<DdimScheduler>
{
    protected override string Name => "ddim";
    protected override SchedulerConfig StochasticConfig => new() { NumTrainTimesteps = 1000, Eta = 1.0 };

    [Fact]
    public void DeterministicStepsNeedNoGenerator()
    {
        using var scope = torch.NewDisposeScope();
        var x = ReferenceInputs.LoopA(new DdimScheduler(new SchedulerConfig()), 10, ReferenceInputs.SampleDeter(), generator: null);
        Assert.Equal(new long[] { 4, 3, 8, 8 }, x.shape);
    }

    [Theory]
    [InlineData(PredictionType.Epsilon)]
    [InlineData(PredictionType.VPrediction)]
    public void WithTheTrueNoiseEveryStepLandsOnTheForwardMarginal(PredictionType type)
    {
        // img2img style: start part-way at add_noise(x0, noise, ts[0]) and run the rest. With a model that
        // knows x0 and the noise, deterministic DDIM stays on x_t = a x0 + s noise (Song et al. 2021, Eq. 12).
        using var scope = torch.NewDisposeScope();
        var config = new SchedulerConfig { PredictionType = type, ClipSample = false };
        var scheduler = new DdimScheduler(config);
        var diffusion = new GaussianDiffusion(NoiseSchedule.FromConfig(config), type);
        var x0 = ReferenceInputs.SampleDeter();
        var noise = ReferenceInputs.NoiseDeter();
        var ts = scheduler.Begin(10).Timesteps.data<long>().Skip(5).ToArray();
        var x = scheduler.AddNoise(x0, noise, torch.tensor(ts[..1]));
        var run = scheduler.Begin(10);
        for (var i = 0; i < ts.Length; i++)
        {
            var t = torch.tensor(new[] { ts[i] });
            x = run.Step(diffusion.Target(x0, noise, t), t, x, null).PrevSample;
            var expected = i + 1 < ts.Length ? scheduler.AddNoise(x0, noise, torch.tensor(new[] { ts[i + 1] })) : x0;
            Assert.True(torch.allclose(expected, x, rtol: 0, atol: 1e-5), $"after t={ts[i]}: {(expected - x).abs().max().item<float>()}");
        }
    }

    [Fact]
    public void SetAlphaToOneDecidesTheFinalStep()
    {
        using var scope = torch.NewDisposeScope();
        var config = new SchedulerConfig { SetAlphaToOne = false, ClipSample = false };
        var abar = NoiseSchedule.FromConfig(config).AlphasCumprod;
        var run = new DdimScheduler(config).Begin(10);
        var x = torch.full(1, 3, 0.25f);
        var eps = torch.full(1, 3, 0.5f);
        var r = run.Step(eps, torch.tensor(0L), x, null);
        // From t = 0 to abar_prev = abar_0: x_prev = sqrt(abar_0) x0 + sqrt(1 - abar_0) eps = x.
        Assert.True(torch.allclose(x, r.PrevSample, rtol: 1e-5, atol: 1e-6));
        var toOne = new DdimScheduler(config with { SetAlphaToOne = true }).Begin(10).Step(eps, torch.tensor(0L), x, null);
        Assert.True(torch.allclose((x - eps * Math.Sqrt(1 - abar[0])) / Math.Sqrt(abar[0]), toOne.PrevSample, rtol: 1e-5, atol: 1e-6));
    }

    [Fact]
    public void EtaScalesTheNoise()
    {
        using var scope = torch.NewDisposeScope();
        // Zero eps and x_0 = 0 leave only the noise term: eta * sqrt(variance) * z.
        var config = new SchedulerConfig { Eta = 0.5, PredictionType = PredictionType.Sample };
        var scheduler = new DdimScheduler(config);
        var run = scheduler.Begin(10);
        var x = torch.zeros(1, 32);
        using var g1 = new torch.Generator(4);
        using var g2 = new torch.Generator(4);
        // x_0 = 0 and x_t = 0 give eps = 0.
        var prev = run.Step(torch.zeros(1, 32), torch.tensor(500L), x, g1).PrevSample;
        var z = torch.randn(new long[] { 1, 32 }, generator: g2);
        Assert.True(torch.allclose(z * (0.5 * Math.Sqrt(scheduler.StepVariance(500, 400))), prev, rtol: 1e-5, atol: 1e-7));
    }
}
