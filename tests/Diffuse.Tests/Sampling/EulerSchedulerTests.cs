using Diffuse.Configuration;
using Diffuse.Sampling;
using TorchSharp;
using Xunit;

namespace Diffuse.Tests.Sampling;

public class EulerSchedulerTests : SigmaSchedulerContractTests<EulerScheduler>
{
    protected override string Name => "euler";

    [Fact]
    public void LinspaceTimestepsAreFractionalAsDiffusers()
    {
        var ts = Schedulers.Create(Name, new SchedulerConfig { NumTrainTimesteps = 1100 }).Begin(10).Timesteps.data<float>().ToArray();
        Assert.Equal(new[] { 1099f, 976.8889f, 854.7778f, 732.6667f, 610.5556f, 488.4444f, 366.3333f, 244.2222f, 122.1111f, 0f }, ts, (a, b) => Math.Abs(a - b) < 1e-3);
    }

    [Fact]
    public void FinalSigmaMinStopsShortOfACleanSample()
    {
        using var scope = torch.NewDisposeScope();
        // Sample prediction with a zero output: the last step goes from x to x * sigma_last / sigma.
        var run = Schedulers.Create(Name, new SchedulerConfig { FinalSigmasType = FinalSigmasType.SigmaMin, PredictionType = PredictionType.Sample }).Begin(1);
        var x = torch.ones(3);
        var prev = run.Step(torch.zeros(3), run.Timesteps[0], x, null).PrevSample;
        Assert.True(prev.min().item<float>() > 0);
    }
}
