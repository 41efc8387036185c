using Diffuse.Pipelines;
using Xunit;

namespace Diffuse.Tests;

public class SyncProgressTests
{
    [Fact]
    public void ReportsArriveAtOnceOnTheCallersThreadInOrder()
    {
        var seen = new List<(int Value, int Thread)>();
        IProgress<int> progress = new SyncProgress<int>(v => seen.Add((v, Environment.CurrentManagedThreadId)));
        for (int i = 0; i < 100; i++) progress.Report(i);
        Assert.Equal(Enumerable.Range(0, 100), seen.Select(s => s.Value));
        Assert.All(seen, s => Assert.Equal(Environment.CurrentManagedThreadId, s.Thread));
    }

    [Fact]
    public void OffsetsAndScoreSamplerReportsBecomeStepsOfTheWholeRun()
    {
        var seen = new List<StepInfo>();
        var whole = new SyncProgress<StepInfo>(seen.Add);
        StepInfo.Offset(whole, 20, 60).Report(new StepInfo(3, 20, 500));
        StepInfo.FromScoreSampler(whole).Report((7L, 3_000_000_000L, 0.25));
        Assert.Equal([new StepInfo(23, 60, 500), new StepInfo(7, int.MaxValue, 0.25)], seen);
        var mapped = new List<string>();
        SyncProgress.Map<int, string>(new SyncProgress<string>(mapped.Add), v => $"#{v}").Report(4);
        Assert.Equal(["#4"], mapped);
    }
}
