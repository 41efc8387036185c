using Diffuse.Sampling;
using Xunit;

namespace Diffuse.Tests.Sampling;

public class Dpm2AncestralSchedulerTests : SigmaSchedulerContractTests<Dpm2AncestralScheduler>
{
    protected override string Name => "dpm2_ancestral";
    protected override SchedulerConfig StochasticConfig => new() { NumTrainTimesteps = 1000 };

    [Fact]
    public void TimestepsAlternateStepsAndMidpoints()
    {
        // sqrt(sigma_i sigma_down) = sigma_{i+1} exactly (sigma_down = sigma_{i+1}^2 / sigma_i), so each midpoint sits on the next step.
        var ts = Schedulers.Create(Name, new SchedulerConfig()).Begin(4).Timesteps.data<float>().ToArray();
        Assert.Equal(7, ts.Length);
        for (var k = 1; k < ts.Length; k += 2) Assert.Equal(ts[k + 1], ts[k], 0.05);
        Assert.Equal(0f, ts[^1]);
    }
}
