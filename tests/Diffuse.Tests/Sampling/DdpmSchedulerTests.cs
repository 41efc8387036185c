using Diffuse.Configuration;
using Diffuse.Sampling;
using Diffuse.Schedules;
using TorchSharp;
using Xunit;

namespace Diffuse.Tests.Sampling;

public class DdpmSchedulerTests : SchedulerContractTests<DdpmScheduler>
{
    protected override string Name => "ddpm";
    protected override SchedulerConfig StochasticConfig => new() { NumTrainTimesteps = 1000 };

    [Fact]
    public void FixedLargeIsTheStepsBeta()
    {
        var config = new SchedulerConfig { VarianceType = VarianceType.FixedLarge };
        var scheduler = new DdpmScheduler(config);
        var schedule = NoiseSchedule.FromConfig(config);
        foreach (var t in new[] { 1, 487, 999 })
            Assert.Equal(schedule.Betas[t], scheduler.StepVariance(t, t - 1), 1e-6); // beta_t to float32 precision
        var abar = schedule.AlphasCumprod;
        Assert.Equal(1 - abar[900] / abar[800], scheduler.StepVariance(900, 800), 1e-7); // float32 arithmetic, as diffusers
    }

    [Fact]
    public void StridedStepsGoToTheNextVisitedTimestep()
    {
        using var scope = torch.NewDisposeScope();
        // With eps = 0 and x_t = 0 clipping does nothing and the mean is 0; the step's noise scale is then
        // sqrt(beta-tilde) between t and the next timestep of the run, which the result reveals.
        var scheduler = new DdpmScheduler(new SchedulerConfig { TimestepSpacing = TimestepSpacing.Linspace });
        var run = scheduler.Begin(10);
        Assert.Equal(new long[] { 999, 888, 777, 666, 555, 444, 333, 222, 111, 0 }, run.Timesteps.data<long>().ToArray());
        var x = torch.zeros(1, 64);
        using var g1 = new torch.Generator(5);
        using var g2 = new torch.Generator(5);
        var prev = run.Step(x, torch.tensor(888L), x, g1).PrevSample;
        var z = torch.randn(new long[] { 1, 64 }, generator: g2);
        Assert.True(torch.allclose(z * Math.Sqrt(scheduler.StepVariance(888, 777)), prev, rtol: 1e-5, atol: 1e-7));
    }

    [Theory]
    [InlineData(VarianceType.Learned)]
    [InlineData(VarianceType.LearnedRange)]
    public void ALearnedTypeNeedsTwiceTheChannels(VarianceType variance)
    {
        using var scope = torch.NewDisposeScope();
        var run = new DdpmScheduler(new SchedulerConfig { VarianceType = variance }).Begin(10);
        var x = torch.zeros(1, 3, 2, 2);
        var e = Assert.Throws<DiffuseException>(() => run.Step(x, run.Timesteps[0], x, null));
        Assert.Contains("2 x 3 channels", e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Fact]
    public void LearnedRangeInterpolatesTheLogVarianceBetweenTheBounds()
    {
        // Zero prediction at x_t = 0 leaves only the noise: v = -1 gives beta-tilde, v = 1 beta, v = 0 their geometric mean
        // (Nichol & Dhariwal 2021, Eq. 15); learned reads v as the variance itself.
        using var scope = torch.NewDisposeScope();
        var small = new DdpmScheduler(new SchedulerConfig()).StepVariance(500, 400);
        var large = new DdpmScheduler(new SchedulerConfig { VarianceType = VarianceType.FixedLarge }).StepVariance(500, 400);
        var x = torch.zeros(1, 2, 4, 4);
        foreach (var (variance, v, expected) in new[] { (VarianceType.LearnedRange, -1.0, small), (VarianceType.LearnedRange, 1.0, large),
                     (VarianceType.LearnedRange, 0.0, Math.Sqrt(small * large)), (VarianceType.Learned, 0.25, 0.25) })
        {
            var run = new DdpmScheduler(new SchedulerConfig { VarianceType = variance, TimestepSpacing = TimestepSpacing.Leading }).Begin(10);
            using var g1 = new torch.Generator(9);
            using var g2 = new torch.Generator(9);
            var output = torch.cat([torch.zeros(1, 2, 4, 4), torch.full(1, 2, 4, 4, v)], 1);
            var prev = run.Step(output, torch.tensor(500L), x, g1).PrevSample;
            var z = torch.randn(new long[] { 1, 2, 4, 4 }, generator: g2);
            Assert.True(torch.allclose(z * Math.Sqrt(expected), prev, rtol: 1e-4, atol: 1e-7), $"{variance} v={v}");
        }
    }

    [Fact]
    public void TheLogFormsGiveTheNoiseOfTheFixedOnes()
    {
        using var scope = torch.NewDisposeScope();
        torch.Tensor Loop(VarianceType variance)
        {
            using var g = new torch.Generator(1);
            return ReferenceInputs.LoopA(new DdpmScheduler(new SchedulerConfig { VarianceType = variance }), 20, ReferenceInputs.SampleDeter(), g);
        }
        Assert.True(torch.allclose(Loop(VarianceType.FixedSmall), Loop(VarianceType.FixedSmallLog), rtol: 1e-5, atol: 1e-6));
        Assert.True(torch.allclose(Loop(VarianceType.FixedLarge), Loop(VarianceType.FixedLargeLog), rtol: 0, atol: 0));
        Assert.False(torch.allclose(Loop(VarianceType.FixedSmall), Loop(VarianceType.FixedLarge), rtol: 1e-3, atol: 1e-4));
    }

    [Fact]
    public void TimestepOutsideTheRunIsRefused()
    {
        using var scope = torch.NewDisposeScope();
        var run = new DdpmScheduler(new SchedulerConfig()).Begin(10);
        var x = torch.zeros(1, 2);
        var e = Assert.Throws<DiffuseException>(() => run.Step(x, torch.tensor(5L), x, null));
        Assert.Contains("5", e.Message);
    }

    [Fact]
    public void LastStepDrawsNoNoise()
    {
        using var scope = torch.NewDisposeScope();
        var run = new DdpmScheduler(new SchedulerConfig()).Begin(10);
        var x = torch.full(1, 4, 0.5f);
        var r = run.Step(x, torch.tensor(0L), x, generators: null); // no generator needed: t = 0 is deterministic
        Assert.True(torch.allclose(r.PredOriginalSample!, r.PrevSample, rtol: 0, atol: 0));
    }
}
