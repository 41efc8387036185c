using Diffuse.Process;
using static TorchSharp.torch;

namespace Diffuse.Pipelines;

/// <summary>
/// Sampling n samples a batch at a time, each sample with a generator of its own (keyed by one draw of the run's
/// generator and the sample's index: <see cref="SampleSeeds"/>), so that sample k does not depend on the batch size;
/// progress counts the steps of all batches. Only one batch's generators live at a time.
/// </summary>
internal static class SampleBatches
{
    /// <summary>The number of batches of at most <paramref name="batchSize"/> samples that <paramref name="n"/> samples take.</summary>
    public static long Count(long n, int batchSize) => (n + batchSize - 1) / batchSize;

    /// <summary>
    /// Runs <paramref name="draw"/> on each batch (its first index, its size, its samples' generators and its progress,
    /// inside the batch's dispose scope) and joins the batches along dimension 0. A result of <paramref name="n"/> samples of
    /// <paramref name="valuesPerSample"/> values that cannot fit this machine is refused first (<see cref="SampleMemory"/>).
    /// </summary>
    public static Tensor Run(long n, int batchSize, int stepsPerBatch, Generator generator, IProgress<StepInfo>? progress, long valuesPerSample,
        Func<long, long, SampleGenerators, IProgress<StepInfo>?, Tensor> draw)
    {
        if (n < 1) throw DiffuseException.For("n", $"n must be at least 1, got {n}");
        SampleMemory.CheckResult(n, valuesPerSample);
        var seeds = SampleSeeds.Draw(generator);
        long batches = Count(n, batchSize);
        int total = (int)Math.Min(int.MaxValue, batches * stepsPerBatch);
        var parts = new List<Tensor>();
        try
        {
            for (long b = 0; b < batches; b++)
            {
                long start = b * batchSize, size = Math.Min(batchSize, n - start);
                var batchProgress = progress is null ? null : StepInfo.Offset(progress, (int)Math.Min(int.MaxValue, b * stepsPerBatch), total);
                using var scope = NewDisposeScope();
                using var generators = seeds.Batch(start, size);
                parts.Add(draw(start, size, generators, batchProgress).MoveToOuterDisposeScope());
            }
            return parts.Count == 1 ? parts[0].alias() : cat(parts, 0);
        }
        finally
        {
            foreach (var p in parts) p.Dispose();
        }
    }
}
