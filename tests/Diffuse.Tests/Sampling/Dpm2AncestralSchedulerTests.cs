using Diffuse.Configuration;
using TorchSharp;
using Diffuse.Sampling;
using Xunit;

namespace Diffuse.Tests.Sampling;

public class Dpm2AncestralSchedulerTests : SigmaSchedulerContractTests<Dpm2AncestralScheduler>
{
    protected override string Name => "dpm2_ancestral";
    protected override SchedulerConfig StochasticConfig => new() { NumTrainTimesteps = 1000 };

    /// <summary>
    /// The midpoint sqrt(sigma_i sigma_down) is sigma_{i+1} in exact arithmetic; in diffusers' float32 tensors it can
    /// fall an ulp below, so its timestep a few 1e-5 below t_{i+1} (diffusers lists 971.99994 then 972 for 1000
    /// leading steps, as this run does).
    /// </summary>
    protected override double TimestepRounding => 1e-3;

    [Fact]
    public void TimestepsAlternateStepsAndMidpoints()
    {
        // sqrt(sigma_i sigma_down) = sigma_{i+1} exactly (sigma_down = sigma_{i+1}^2 / sigma_i), so each midpoint sits on the next step.
        var ts = Schedulers.Create(Name, new SchedulerConfig()).Begin(4).Timesteps.data<float>().ToArray();
        Assert.Equal(7, ts.Length);
        for (var k = 1; k < ts.Length; k += 2) Assert.Equal(ts[k + 1], ts[k], 0.05);
        Assert.Equal(0f, ts[^1]);
    }

    [Fact]
    public void OnlyTheSecondCallOfAStepDrawsNoise()
    {
        // diffusers >= 0.31 draws sigma_up's noise in the second-order branch only.
        using var scope = torch.NewDisposeScope();
        var run = Schedulers.Create(Name, new SchedulerConfig()).Begin(4);
        var x = ReferenceInputs.SampleDeter();
        using var g = new torch.Generator(5);
        using var fresh = new torch.Generator(5);
        x = run.Step(x, run.Timesteps[0], x, g).PrevSample;
        Assert.True(torch.randn(3, generator: fresh).eq(torch.randn(3, generator: g)).all().item<bool>(), "the first call drew");
        run.Step(x, run.Timesteps[1], x, g);
        Assert.False(torch.randn(3, generator: fresh).eq(torch.randn(3, generator: g)).all().item<bool>(), "the second call drew nothing");
    }
}
