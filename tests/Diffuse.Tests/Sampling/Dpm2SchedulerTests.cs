using Diffuse.Configuration;
using Diffuse.Sampling;
using Xunit;

namespace Diffuse.Tests.Sampling;

public class Dpm2SchedulerTests : SigmaSchedulerContractTests<Dpm2Scheduler>
{
    protected override string Name => "dpm2";

    [Fact]
    public void TimestepsInterleaveTheMidpointsAsDiffusers()
    {
        var ts = Schedulers.Create(Name, new SchedulerConfig { NumTrainTimesteps = 1100, BetaStart = 1e-4, BetaEnd = 0.02 })
            .Begin(10).Timesteps.data<float>().ToArray();
        Assert.Equal(19, ts.Length);
        Assert.Equal(new[] { 1099f, 1039.7437f, 976.8889f }, ts[..3]);
        Assert.Equal(15.578273, ts[^2], 1e-3);
        Assert.Equal(0f, ts[^1]);
    }
}
