using Diffuse.Data;

namespace Diffuse.Training;

/// <summary>
/// The order in which training examples are visited: an endless stream of epochs, each a fresh
/// permutation fixed by (seed, epoch), cut into micro-batches. Micro-batch m is positions
/// [m B, (m + 1) B) of the stream, so the data order is a pure function of the step and a resumed
/// run sees exactly the batches an uninterrupted one would.
/// </summary>
internal sealed class DataOrder
{
    private readonly long count;
    private readonly long seed;
    private readonly Dictionary<long, long[]> epochs = new();

    public DataOrder(long count, long seed)
    {
        if (count < 1) throw new DiffuseException("there are no training examples to visit");
        this.count = count;
        this.seed = seed;
    }

    /// <summary>The example indices of micro-batch <paramref name="microBatch"/> of <paramref name="size"/> examples.</summary>
    public long[] Batch(long microBatch, int size)
    {
        var indices = new long[size];
        long start = microBatch * size;
        for (int i = 0; i < size; i++)
        {
            long position = start + i;
            indices[i] = Epoch(position / count)[position % count];
        }
        return indices;
    }

    long[] Epoch(long epoch)
    {
        if (epochs.TryGetValue(epoch, out var order)) return order;
        // Keep only the epochs a batch can straddle.
        foreach (var old in epochs.Keys.Where(e => e < epoch - 1).ToList()) epochs.Remove(old);
        order = SeededPermutation.Create(count, unchecked(seed * 1_000_003 + epoch + 1));
        epochs[epoch] = order;
        return order;
    }
}
