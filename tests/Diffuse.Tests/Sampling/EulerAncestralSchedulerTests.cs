using Diffuse.Configuration;
using Diffuse.Sampling;
using Diffuse.Schedules;
using Xunit;

namespace Diffuse.Tests.Sampling;

public class EulerAncestralSchedulerTests : SigmaSchedulerContractTests<EulerAncestralScheduler>
{
    protected override string Name => "euler_ancestral";
    protected override SchedulerConfig StochasticConfig => new() { NumTrainTimesteps = 1000 };

    [Theory]
    [InlineData(10.0, 5.0)]
    [InlineData(3.0, 0.0)]
    [InlineData(1.0, 0.999)]
    public void AncestralSplitKeepsTheVariance(double from, double to)
    {
        var (down, up) = SigmaSchedules.AncestralSplit(from, to);
        Assert.Equal(to * to, down * down + up * up, 1e-9);
        Assert.InRange(down, 0, to);
    }
}
