using Diffuse.Configuration;
using Diffuse.Sampling;
using Xunit;

namespace Diffuse.Tests.Sampling;

public class HeunSchedulerTests : SigmaSchedulerContractTests<HeunScheduler>
{
    protected override string Name => "heun";

    [Fact]
    public void TimestepsRepeatAsDiffusers()
    {
        var ts = Schedulers.Create(Name, new SchedulerConfig { TimestepSpacing = TimestepSpacing.Leading }).Begin(4).Timesteps.data<float>().ToArray();
        Assert.Equal(new[] { 750f, 500f, 500f, 250f, 250f, 0f, 0f }, ts);
    }
}
