using Diffuse.Configuration;
using Diffuse.Sampling;
using TorchSharp;
using Xunit;

namespace Diffuse.Tests.Sampling;

public class NativeMemoryTests
{
    [Fact]
    public void TwoHundredDdimStepsLeaveTheLiveTensorCountFlat()
    {
        var stats = DisposeScopeManager.Statistics;
        var scheduler = new DdimScheduler(new SchedulerConfig { Eta = 0.5 });
        var run = scheduler.Begin(200);
        var timesteps = run.Timesteps.data<long>().ToArray();
        using var g = new torch.Generator(0);
        var x = torch.randn(new long[] { 2, 3, 8, 8 }, generator: g).DetachFromDisposeScope();
        long? liveAfterFirst = null;
        foreach (var t in timesteps)
        {
            using (var scope = torch.NewDisposeScope())
            {
                using var tensorT = torch.tensor(t);
                var next = run.Step(ReferenceInputs.Model(x, t), tensorT, x, g).PrevSample.DetachFromDisposeScope();
                x.Dispose();
                x = next;
            }
            liveAfterFirst ??= stats.ThreadTotalLiveCount;
            Assert.Equal(liveAfterFirst, stats.ThreadTotalLiveCount);
        }
        x.Dispose();
    }
    [Theory]
    [InlineData("dpmpp_2m")]
    [InlineData("dpmpp_3m_sde")]
    [InlineData("unipc")]
    [InlineData("deis")]
    public void AMultistepRunKeepsABoundedHistoryAndReleasesItAtTheEnd(string name)
    {
        var stats = DisposeScopeManager.Statistics;
        var run = Schedulers.Create(name, """{"solver_order": 3}""").Begin(50);
        var timesteps = run.Timesteps.data<long>().ToArray();
        using var g = new torch.Generator(0);
        var x = torch.randn(new long[] { 2, 3, 8, 8 }, generator: g).DetachFromDisposeScope();
        var before = stats.ThreadTotalLiveCount;
        foreach (var t in timesteps)
        {
            using (var scope = torch.NewDisposeScope())
            {
                using var tensorT = torch.tensor(t);
                var next = run.Step(ReferenceInputs.Model(x, t), tensorT, x, g).PrevSample.DetachFromDisposeScope();
                x.Dispose();
                x = next;
            }
            Assert.InRange(stats.ThreadTotalLiveCount, before, before + 4); // at most three outputs and one sample kept
        }
        Assert.Equal(before, stats.ThreadTotalLiveCount);
        x.Dispose();
    }
}
