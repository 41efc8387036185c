using System.Runtime;
using System.Runtime.CompilerServices;
using Xunit;

namespace Diffuse.Tests;

public class FinalizerFenceTests
{
    static int finalized;

    sealed class Counted
    {
        ~Counted() => Interlocked.Increment(ref finalized);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    static void Abandon(int count)
    {
        for (int i = 0; i < count; i++) _ = new Counted();
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    static long Churn(int megabytes)
    {
        long sum = 0;
        for (int i = 0; i < megabytes * 16; i++) sum += new byte[64 * 1024].Length;
        return sum;
    }

    [Fact]
    public void NoFinalizerRunsInsideAFenceAndTheyAllRunAtTheNext()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        int before;
        using (var fence = FinalizerFence.Enter())
        {
            Assert.True(fence.Active);
            Assert.Equal(GCLatencyMode.NoGCRegion, GCSettings.LatencyMode);
            before = Volatile.Read(ref finalized);
            int collections = GC.CollectionCount(0);
            Abandon(1000);
            Churn(16); // 16 MB of garbage: without the fence this collects (and finalizes) several times
            Thread.Sleep(50);
            Assert.Equal(collections, GC.CollectionCount(0));
            Assert.Equal(before, Volatile.Read(ref finalized));
            using (var inner = FinalizerFence.Enter()) Assert.False(inner.Active); // fences do not nest
            Assert.Equal(GCLatencyMode.NoGCRegion, GCSettings.LatencyMode);
        }
        Assert.NotEqual(GCLatencyMode.NoGCRegion, GCSettings.LatencyMode);
        GC.Collect(); // outside a fence, collections and finalizers run as usual
        GC.WaitForPendingFinalizers();
        Assert.True(Volatile.Read(ref finalized) >= before + 1000);
    }

    [Fact]
    public void AStepThatOutgrowsTheBudgetEndsTheFenceWithoutAnError()
    {
        using (var fence = FinalizerFence.Enter())
        {
            Assert.True(fence.Active);
            Churn((int)(2 * FinalizerFence.BudgetBytes >> 20));
        }
        Assert.NotEqual(GCLatencyMode.NoGCRegion, GCSettings.LatencyMode);
    }
}
